/**
 * `npm run build` step: pre-bundles the workflow code (`bundleWorkflowCode`) into dist/workflow-bundle.js, so the
 * production orchestrator worker starts without webpack work and runs exactly the code that was built.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../infra/config';
import { WORKFLOW_INTERCEPTOR_MODULES } from '../workers/orchestrator-worker';

export const WORKFLOW_BUNDLE_FILE = 'workflow-bundle.js';

async function main(): Promise<void> {
  const outDir = path.resolve(process.argv[2] ?? path.join(PROJECT_ROOT, 'dist'));
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows/index'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
  });
  await mkdir(outDir, { recursive: true });
  const file = path.join(outDir, WORKFLOW_BUNDLE_FILE);
  await writeFile(file, code);
  console.log(`workflow bundle: ${file} (${Math.round(code.length / 1024)} KiB)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
