/**
 * `npm run schemas`: writes the documents generated from the API's own schemas, formatted for the repo —
 * schemas/bundle.json (the bundle JSON Schema the API serves) and schemas/openapi.json (the API's OpenAPI document,
 * which the console's typed client is generated from). A test fails while either is stale.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import { format, resolveConfig } from 'prettier';
import { openApiDocument } from '../api/app';
import { bundleJsonSchema } from '../api/bundle/json-schema';
import { lazyTemporalConnection } from '../api/temporal-connection';
import { PROJECT_ROOT } from '../infra/config';
import { EncryptionCodec, KeyRing } from '../infra/payload-codec';
import { createPrismaClient } from '../prisma/client';

/** The OpenAPI document as the API serves it; nothing is connected (a lazy Temporal connection, an idle pool). */
export async function generatedOpenApi(): Promise<object> {
  const prisma = createPrismaClient('postgresql://openapi@127.0.0.1:1/unused');
  try {
    return openApiDocument({
      prisma,
      temporal: lazyTemporalConnection('127.0.0.1:1'),
      logger: pino({ enabled: false }),
      codec: new EncryptionCodec(KeyRing.parse(KeyRing.generateText())),
    });
  } finally {
    await prisma.$disconnect();
  }
}

async function write(file: string, value: unknown): Promise<void> {
  const out = path.join(PROJECT_ROOT, 'schemas', file);
  const text = await format(JSON.stringify(value), { ...(await resolveConfig(out)), parser: 'json' });
  await writeFile(out, text);
  process.stdout.write(`written ${path.relative(process.cwd(), out)}\n`);
}

async function main(): Promise<void> {
  await write('bundle.json', bundleJsonSchema());
  await write('openapi.json', await generatedOpenApi());
}

if (require.main === module)
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
