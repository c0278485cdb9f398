// `margay sweep dsm`: the DSM comparison of seed 003 as a sweep -- speedup
// against nodes for each DSM app and implementation, fault service time per
// kind (with system calls and crossings per fault), and the read-fault time
// as the serving node gets busier. JSON, and an SVG of the speedups.

import { UsageError, flag, parse, str } from '../args.ts';
import { DSM_CONFIG_NAMES, type DsmConfig, FAULT_KINDS, busyGap, faultService, speedup } from '../dsmmeasure.ts';
import { writableFile, writeOutput } from '../files.ts';
import type { Output } from '../output.ts';
import { svgPlot } from '../svgplot.ts';
import { getProfile } from '../../hw/profile.ts';

export const HELP = `usage: margay sweep dsm [options]

Runs the DSM apps on 1..N nodes with the kernel DSM and the user-level DSM
and reports speedup against nodes, the fault service time (read, write with
invalidation, write with a page move) with system calls and crossings per
fault, and the read-fault time while the serving node computes.

  --apps LIST        apps to run (default dsm_jacobi,dsm_matmul,dsm_counter);
                     dsm_counter's work grows with the nodes, so its speedup
                     is n x t(1) / t(n) (throughput)
  --impls LIST       kernel, user, user/poll for the fault service and the
                     busy-node gap (default kernel,user,user/poll)
  --speedup-impls L  the same for the speedup runs (default kernel,user)
  --counts LIST      node counts (default 1,2,4,8,16,32)
  --busy LIST        threads computing on the serving node (default 0,1,2)
  --profile P        machine profile (default redstorm)
  -o, --output FILE  write the JSON to FILE (default: stdout)
  --svg FILE         plot speedup against nodes as SVG
  --json             print the JSON on stdout (the default without -o)
`;

const APP_ARGS: Record<string, string[]> = {
  dsm_jacobi: ['n=128', 'iterations=6'],
  dsm_matmul: ['n=64'],
  dsm_counter: ['increments=4'],
};

function list(text: string, what: string, ok: (s: string) => boolean): string[] {
  const out = text.split(',').map((s) => s.trim());
  for (const s of out) if (!ok(s)) throw new UsageError(`${what}: '${s}' is not one of the accepted values`);
  return out;
}

export async function runDsmSweep(argv: string[], out: Output): Promise<number> {
  const p = parse(argv, { apps: { type: 'string' }, impls: { type: 'string' }, 'speedup-impls': { type: 'string' }, counts: { type: 'string' }, busy: { type: 'string' }, profile: { type: 'string' }, output: { type: 'string', short: 'o' }, svg: { type: 'string' }, json: { type: 'boolean' } }, 0);
  const apps = list(str(p, 'apps') ?? 'dsm_jacobi,dsm_matmul,dsm_counter', '--apps', (s) => s in APP_ARGS);
  const impls = list(str(p, 'impls') ?? 'kernel,user,user/poll', '--impls', (s) => (DSM_CONFIG_NAMES as string[]).includes(s)) as DsmConfig[];
  const speedupImpls = list(str(p, 'speedup-impls') ?? 'kernel,user', '--speedup-impls', (s) => (DSM_CONFIG_NAMES as string[]).includes(s)) as DsmConfig[];
  const counts = list(str(p, 'counts') ?? '1,2,4,8,16,32', '--counts', (s) => /^\d+$/.test(s) && +s >= 1 && +s <= 1024).map(Number);
  const busy = list(str(p, 'busy') ?? '0,1,2', '--busy', (s) => /^\d+$/.test(s) && +s <= 16).map(Number);
  const profile = str(p, 'profile') ?? 'redstorm';
  try {
    getProfile(profile);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const file = str(p, 'output');
  const svg = str(p, 'svg');
  if (file !== undefined) writableFile(file, '-o');
  if (svg !== undefined) writableFile(svg, '--svg');
  const result = {
    profile,
    speedup: {} as Record<string, Record<string, ReturnType<typeof speedup>>>,
    fault_service: {} as Record<string, ReturnType<typeof faultService>>,
    busy_gap: [] as ReturnType<typeof busyGap>,
  };
  for (const app of apps) {
    result.speedup[app] = {};
    for (const c of speedupImpls) {
      result.speedup[app][c] = speedup(profile, app, c, counts, APP_ARGS[app]);
      out.note(`${app} ${c}: ${result.speedup[app][c].map((q) => `${q.nodes}:${q.speedup}`).join(' ')}`);
    }
  }
  for (const c of impls) {
    result.fault_service[c] = faultService(profile, c);
    out.note(`fault service ${c}: ${FAULT_KINDS.map((k) => `${k} ${result.fault_service[c][k].fault_ns} ns`).join(', ')}`);
  }
  result.busy_gap = busyGap(profile, impls, busy);
  if (file !== undefined) writeOutput(file, '-o', JSON.stringify(result, null, 2) + '\n');
  if (file === undefined || flag(p, 'json')) out.json(result);
  if (svg !== undefined) {
    const series = Object.entries(result.speedup).flatMap(([app, byImpl]) => Object.entries(byImpl).map(([c, pts]) => ({ name: `${app} ${c}`, points: pts.map((q) => ({ x: q.nodes, y: q.speedup })) })));
    writeOutput(svg, '--svg', svgPlot(`DSM speedup on ${profile}: kernel vs user-level`, 'compute nodes', 'speedup over 1 node (simulated)', series, {}));
    out.note(`wrote ${svg}`);
  }
  return 0;
}
