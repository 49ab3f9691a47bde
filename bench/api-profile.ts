/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. the API's from `npm run bench:api -- --profile`): self time by
 * package (or project folder) and the top functions by self and by total time.
 *
 *   npx tsx bench/api-profile.ts .data/profiles/CPU.….cpuprofile [--top 30] [--skip SECONDS]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../infra/config';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `prisma`, `express`, `pino`, `api/`, `(node)` … : where a frame's code lives. */
function owner(url: string): string {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0]}`;
  const modules = url.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const local = url.replace(`file://${PROJECT_ROOT}/`, '');
  return local === url ? url : `${local.split('/')[0]}/`;
}

function main(): void {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string' }, skip: { type: 'string' } },
    allowPositionals: true,
  });
  const top = Number(values.top ?? 25);
  // Leave out the process's first seconds (module loading, compilation): what is left is the load.
  const skipUs = Number(values.skip ?? 0) * 1e6;
  const profile = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  let at = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < skipUs) return;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  });
  const idleIds = new Set(
    [...selfUs.keys()].filter((id) => byId.get(id)!.callFrame.functionName === '(idle)'),
  );
  const idleUs = [...idleIds].reduce((sum, id) => sum + selfUs.get(id)!, 0);
  for (const id of idleIds) selfUs.delete(id);

  const byOwner = new Map<string, number>();
  const bySelf = new Map<string, number>();
  const byTotal = new Map<string, number>();
  const frameName = (node: ProfileNode) => {
    const { url, functionName, lineNumber } = node.callFrame;
    const local = url.startsWith(`file://${PROJECT_ROOT}/`) && !url.includes('node_modules/');
    const where = local ? url.slice(`file://${PROJECT_ROOT}/`.length) : owner(url);
    return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
  };
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    const key = owner(node.callFrame.url);
    byOwner.set(key, (byOwner.get(key) ?? 0) + us);
    bySelf.set(frameName(node), (bySelf.get(frameName(node)) ?? 0) + us);
    // Total: every distinct frame on the stack counts the sample once.
    const seen = new Set<string>();
    for (let frame: number | undefined = id; frame !== undefined; frame = parent.get(frame)) {
      const name = frameName(byId.get(frame)!);
      if (seen.has(name)) continue;
      seen.add(name);
      byTotal.set(name, (byTotal.get(name) ?? 0) + us);
    }
  }
  const busy = totalUs - idleUs;
  const pct = (us: number) => `${((100 * us) / busy).toFixed(1)} %`;
  const table = (title: string, entries: Map<string, number>) => {
    console.log(`\n${title} (of ${(busy / 1e6).toFixed(2)} s busy)`);
    for (const [name, us] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(`  ${pct(us).padStart(7)}  ${name}`);
  };
  console.log(
    `profile ${(totalUs / 1e6).toFixed(2)} s after the first ${skipUs / 1e6} s: ${(busy / 1e6).toFixed(2)} s busy, ` +
      `${(idleUs / 1e6).toFixed(2)} s idle`,
  );
  table('self time by package', byOwner);
  table('self time by function', bySelf);
  table('total time by function', byTotal);
}

main();
