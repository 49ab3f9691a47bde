/**
 * `npm run build` step: pre-bundles the workflow code (`bundleWorkflowCode`) into dist/workflow-bundle.js (with the
 * tracing interceptors) and dist/workflow-bundle.untraced.js (without), so the
 * production orchestrator worker starts without webpack work and runs exactly the code that was built.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { PROJECT_ROOT } from '../infra/config';
import {
  workflowBundleFile,
  workflowInterceptorModules,
  workflowWebpackConfig,
} from '../workers/orchestrator-worker';

async function main(): Promise<void> {
  const outDir = path.resolve(process.argv[2] ?? path.join(PROJECT_ROOT, 'dist'));
  await mkdir(outDir, { recursive: true });
  // Two bundles: the orchestrator loads the one matching whether it traces (the tracing interceptors cost CPU).
  for (const tracing of [true, false]) {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../workflows/index'),
      workflowInterceptorModules: workflowInterceptorModules(tracing),
      webpackConfigHook: workflowWebpackConfig,
    });
    const file = path.join(outDir, workflowBundleFile(tracing));
    await writeFile(file, code);
    console.log(`workflow bundle: ${file} (${Math.round(code.length / 1024)} KiB)`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
