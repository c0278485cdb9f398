// Measurements of the DSM (seed 003's comparison), shared by `npm run bench
// -- dsm` and `margay sweep dsm`. Every figure comes from a simulated run:
//
//   faultService  dsm_fault's published fault times and system calls per
//                 fault, and from the trace, where the time of a fault goes:
//                 the duration of every kernel step on the faulting node and
//                 on the serving node, summed by path/step, per fault;
//   busyGap       dsm_fault's read-fault time while the serving node runs 0,
//                 1, ... threads of computation (the responsiveness argument);
//   speedup       an app's published time_ns on 1..N nodes; speedup = t(1)/t(N).

import { getProfile } from '../hw/profile.ts';
import { shapeForNodes } from '../hw/topology.ts';
import { System } from '../system/system.ts';
import type { TraceRecord } from '../kernel/trace.ts';
import { APPS } from '../userland/apps/index.ts';

/** The configurations compared: the kernel DSM and the user DSM served by a thread or by polling. */
export const DSM_CONFIGS = { kernel: ['kernel'], user: ['user'], 'user/poll': ['user', 'poll'] } as const;
export type DsmConfig = keyof typeof DSM_CONFIGS;
export const DSM_CONFIG_NAMES = Object.keys(DSM_CONFIGS) as DsmConfig[];

export interface AppRun {
  readonly results: Map<string, number>;
  readonly trace: TraceRecord[];
  readonly simNs: number;
}

/** Runs `app` on `nodes` nodes of `profile` with the DSM configuration and the app's arguments; fails with the rank's reason. */
export function runApp(profile: string, app: string, nodes: number, config: DsmConfig, args: readonly string[], trace = false): AppRun {
  const prog = APPS[app];
  if (prog === undefined) throw new Error(`no app ${app}`);
  const sys = new System({ profile: getProfile(profile), shape: shapeForNodes(nodes, 3, 'mesh'), seed: 1 });
  sys.trace.enabled = trace;
  const job = sys.launchDirect(prog, Array.from({ length: nodes }, (_, i) => i), [...DSM_CONFIGS[config], ...args]);
  sys.run({ done: () => sys.jobDone(job), until: 600e12 });
  const bad = job.ranks.find((r) => r.process?.exitStatus !== 0);
  if (bad) throw new Error(`${app} ${config} on ${nodes} nodes: rank ${bad.rank} ${bad.process?.exitReason ?? `exit ${bad.process?.exitStatus}`} ${bad.process?.stderr.join('') ?? ''}`.trim());
  const r0 = job.ranks[0].process;
  return { results: new Map(r0?.results ?? []), trace: trace ? sys.trace.last() : [], simNs: sys.now / 1000 };
}

export interface FaultKind {
  /** Mean simulated ns from the access to its retry (dsm_fault). */
  readonly fault_ns: number;
  readonly faulter_syscalls_per_fault: number;
  readonly faulter_crossings_per_fault: number;
  readonly server_syscalls_per_fault: number;
  readonly server_crossings_per_fault: number;
  /** ns per fault of each kernel step on the faulting node and on the serving node (from the trace). */
  readonly faulter_steps_ns: Record<string, number>;
  readonly server_steps_ns: Record<string, number>;
}

export const FAULT_KINDS = ['read', 'write', 'fetch'] as const;

/** Fault service of one configuration on two nodes of `profile`: read, write (invalidate) and write (fetch) faults. */
export function faultService(profile: string, config: DsmConfig, pages = 8): Record<(typeof FAULT_KINDS)[number], FaultKind> {
  const run = runApp(profile, 'dsm_fault', 2, config, [`pages=${pages}`], true);
  // The faults of node 0's application, in order: `pages` of each kind.
  const isFault = (r: TraceRecord) => r.node === 0 && ((r.path === 'fault' && r.step === 'entry') || (r.path === 'dsm' && r.step === 'fault'));
  const starts = run.trace.filter(isFault).map((r) => r.t);
  const out = {} as Record<(typeof FAULT_KINDS)[number], FaultKind>;
  for (const [k, kind] of FAULT_KINDS.entries()) {
    const mine = starts.slice(k * pages, (k + 1) * pages);
    // Fault i's window: from it to the next fault (the loop between is a few cycles).
    const steps = [new Map<string, number>(), new Map<string, number>()];
    let windows = 0;
    for (let i = 0; i + 1 < mine.length; i++) {
      windows++;
      for (const r of run.trace) {
        if (r.t < mine[i] || r.t >= mine[i + 1] || r.node > 1 || !r.dur) continue;
        const key = `${r.path}/${r.step}`;
        steps[r.node].set(key, (steps[r.node].get(key) ?? 0) + r.dur);
      }
    }
    const perFault = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([key, ps]) => [key, Math.round(ps / 1000 / Math.max(1, windows))]));
    const g = (name: string) => run.results.get(`${kind}_${name}`) ?? NaN;
    out[kind] = {
      fault_ns: g('fault_ns'),
      faulter_syscalls_per_fault: g('faulter_syscalls_per_fault'),
      faulter_crossings_per_fault: g('faulter_crossings_per_fault'),
      server_syscalls_per_fault: g('server_syscalls_per_fault'),
      server_crossings_per_fault: g('server_crossings_per_fault'),
      faulter_steps_ns: perFault(steps[0]),
      server_steps_ns: perFault(steps[1]),
    };
  }
  return out;
}

/** Read-fault time against the number of threads computing on the serving node. */
export function busyGap(profile: string, configs: readonly DsmConfig[], busy: readonly number[]): { busy_threads: number; read_fault_ns: Record<string, number> }[] {
  return busy.map((b) => ({
    busy_threads: b,
    read_fault_ns: Object.fromEntries(configs.map((c) => [c, runApp(profile, 'dsm_fault', 2, c, ['pages=4', `busy=${b}`]).results.get('read_fault_ns') ?? NaN])),
  }));
}

export interface SpeedupPoint {
  nodes: number;
  time_ns: number;
  speedup: number;
}

/** Apps whose work grows with the ranks (each rank does the same amount): their speedup is n x t(1) / t(n). */
export const WEAK_SCALING = new Set(['dsm_counter', 'dsm_falseshare']);

/** The app's time_ns on each node count (1 first, as the base), and the speedup over 1 node. */
export function speedup(profile: string, app: string, config: DsmConfig, counts: readonly number[], args: readonly string[] = []): SpeedupPoint[] {
  const weak = WEAK_SCALING.has(app);
  const ns = [...new Set([1, ...counts])].sort((a, b) => a - b);
  const points: SpeedupPoint[] = [];
  let base = NaN;
  for (const n of ns) {
    const t = runApp(profile, app, n, config, args).results.get('time_ns') ?? NaN;
    if (n === 1) base = t;
    if (counts.includes(n)) points.push({ nodes: n, time_ns: t, speedup: +(((weak ? n : 1) * base) / t).toFixed(3) });
  }
  return points;
}

export interface DsmSweepResult {
  profile: string;
  speedup: Record<string, Record<string, SpeedupPoint[]>>;
  fault_service: Record<string, Record<(typeof FAULT_KINDS)[number], FaultKind>>;
  busy_gap: { busy_threads: number; read_fault_ns: Record<string, number> }[];
}

const FAULT_TITLE = { read: 'read fault (owner downgraded, page copied)', write: 'write fault (upgrade, one copy invalidated)', fetch: 'write fault (page moved, owner invalidated)' } as const;

/** The Markdown tables docs/DSM.md shows, made from a `margay sweep dsm` result (a test checks the doc against the stored JSON). */
export function dsmTables(r: DsmSweepResult): string {
  const impls = Object.keys(r.fault_service);
  const lines: string[] = [];
  lines.push(`Fault service on ${r.profile}, 2 nodes (dsm_fault), ns per fault; system calls / crossings per fault on the faulting node + the serving node:`, '');
  lines.push(`| fault | ${impls.map((c) => `${c} ns | ${c} syscalls | ${c} crossings`).join(' | ')} |`);
  lines.push(`|---|${impls.map(() => '---:|---:|---:').join('|')}|`);
  for (const k of FAULT_KINDS) {
    const cells = impls.map((c) => {
      const f = r.fault_service[c][k];
      return `${f.fault_ns} | ${f.faulter_syscalls_per_fault} + ${f.server_syscalls_per_fault} | ${f.faulter_crossings_per_fault} + ${f.server_crossings_per_fault}`;
    });
    lines.push(`| ${FAULT_TITLE[k]} | ${cells.join(' | ')} |`);
  }
  if (impls.includes('kernel') && impls.includes('user')) {
    lines.push('', `user / kernel fault time: ${FAULT_KINDS.map((k) => `${k} ${(r.fault_service.user[k].fault_ns / r.fault_service.kernel[k].fault_ns).toFixed(2)}x`).join(', ')}`);
  }
  lines.push('', `Read-fault time (ns) while the serving node runs threads of computation:`, '');
  lines.push(`| busy threads | ${impls.join(' | ')} |`, `|---:|${impls.map(() => '---:').join('|')}|`);
  for (const b of r.busy_gap) lines.push(`| ${b.busy_threads} | ${impls.map((c) => b.read_fault_ns[c]).join(' | ')} |`);
  for (const [app, byImpl] of Object.entries(r.speedup)) {
    const names = Object.keys(byImpl);
    lines.push('', `${app}: time (us) and speedup over 1 node${WEAK_SCALING.has(app) ? ' (work grows with the nodes: speedup = n x t(1) / t(n))' : ''}:`, '');
    lines.push(`| nodes | ${names.map((c) => `${c} us | ${c} speedup`).join(' | ')} |`, `|---:|${names.map(() => '---:|---:').join('|')}|`);
    const counts = byImpl[names[0]].map((q) => q.nodes);
    for (const [i, n] of counts.entries()) lines.push(`| ${n} | ${names.map((c) => `${(byImpl[c][i].time_ns / 1000).toFixed(1)} | ${byImpl[c][i].speedup}`).join(' | ')} |`);
  }
  return lines.join('\n');
}
