/** `npm run schemas`: writes schemas/bundle.json (the bundle JSON Schema the API serves), formatted for the repo. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { bundleJsonSchema } from '../api/bundle/json-schema';
import { PROJECT_ROOT } from '../infra/config';

async function main(): Promise<void> {
  const out = path.join(PROJECT_ROOT, 'schemas', 'bundle.json');
  const text = await format(JSON.stringify(bundleJsonSchema()), {
    ...(await resolveConfig(out)),
    parser: 'json',
  });
  await writeFile(out, text);
  process.stdout.write(`written ${path.relative(process.cwd(), out)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
