// The run report: what `margay run --json` prints (schema in docs/REPORT.md)
// and the readable summary. Everything outside `host` is deterministic: the
// same inputs and seed give the same report.

import { match } from 'ts-pattern';
import { formatShape } from '../hw/topology.ts';
import type { KernelStats } from '../kernel/context.ts';
import type { Job, ProcessSummary, System } from '../system/system.ts';
import type { RunStop } from './hostwatch.ts';
import { type Fanout, formatFanout } from '../userland/lib/jobblock.ts';

/** Up to this many ranks the report lists every rank; beyond, counts plus every failure. */
const LIST_ALL_RANKS = 1024;

export interface RankReport {
  rank: number;
  node: number;
  pid: number | null;
  exit_status: number | null;
  reason: string | null;
  stdout: string;
  stderr: string;
  results: Record<string, number>;
}

export interface RunReport {
  machine: { profile: string; shape: string; nodes: number; cores_per_node: number; seed: number; shootdown: boolean };
  job: {
    app: string;
    load: string;
    fanout: string | null;
    ranks: number;
    service_node: number | null;
    status: 'completed' | 'failed' | 'incomplete';
    stop: string;
    exit_status_counts: Record<string, number>;
  };
  /** Simulated time per phase of a loaded job (null for --load direct, or a phase not reached). */
  phases_ns: { load: number | null; start: number | null; run: number | null; exit: number | null } | null;
  /** yod's output (loaded jobs): load failures are named here. */
  yod: { exit_status: number | null; stdout: string; stderr: string; results: Record<string, number> } | null;
  ranks: RankReport[];
  ranks_listed: 'all' | 'failures';
  results: Record<string, { count: number; min: number; max: number; mean: number }>;
  sim_end_ns: number;
  events: number;
  kernel: { syscalls: number; page_faults: number; shootdowns: number; shootdown_ns: number; shootdown_ipis: number; ipis_sent: number; oopses: number; oops_log: string[] };
  trace: { steps: number; kept: number; hash: string };
  host: { wall_s: number; cpu_s: number; events_per_s: number; peak_rss_bytes: number; heap_used_bytes: number };
}

function stopText(s: RunStop): string {
  return match(s)
    .with({ kind: 'done' }, () => 'all ranks exited')
    .with({ kind: 'idle' }, () => 'nothing left to do (ranks blocked forever)')
    .with({ kind: 'end-of-time' }, (e) => `reached the end of simulated time (${e.time} ps, about 2.5 hours): the next event was due at ${e.next} ps`)
    .with({ kind: 'time' }, (t) => `simulated time limit reached at ${t.time / 1000} ns`)
    .with({ kind: 'events' }, (e) => `event limit reached (${e.events})`)
    .with({ kind: 'breakpoint' }, (b) => `breakpoint ${b.breakpoint.id} at ${b.record.path}/${b.record.step}`)
    .with({ kind: 'host-limit' }, (h) => `host time limit reached after ${h.seconds} s (--host-limit); partial report`)
    .with({ kind: 'interrupted' }, () => 'interrupted (Ctrl-C); partial report')
    .exhaustive();
}

/**
 * A direct job is over when every rank has exited. A loaded job is over when
 * yod is: it failed if yod did or any rank did (ranks yod could not kill, say
 * behind a down router, stay listed as running).
 */
function jobStatus(yod: ProcessSummary | null, running: number, failures: number): RunReport['job']['status'] {
  if (yod === null) return running > 0 ? 'incomplete' : failures > 0 ? 'failed' : 'completed';
  if (yod.alive) return 'incomplete';
  return yod.exitStatus !== 0 || failures > 0 || running > 0 ? 'failed' : 'completed';
}

/** Phases of a loaded job from yod's time stamps and the kernels' records of main. */
function phases(sys: System, job: Job, yod: ProcessSummary | null): RunReport['phases_ns'] {
  if (job.load === 'direct' || yod === null) return null;
  const ns = (ps: number) => ps / 1000;
  const statusAt: number | undefined = yod.results.yod_status_at_ns;
  const exitAt: number | undefined = yod.results.yod_exit_at_ns;
  const m = sys.mainTimes(job);
  const loadEnd = statusAt !== undefined ? statusAt * 1000 : -1;
  return {
    load: loadEnd >= 0 ? ns(loadEnd - job.startedAt) : null,
    start: loadEnd >= 0 && m.lastMain >= 0 ? ns(m.lastMain - loadEnd) : null,
    run: m.lastMain >= 0 && m.lastMainDone >= 0 ? ns(m.lastMainDone - m.lastMain) : null,
    exit: exitAt !== undefined && m.lastMainDone >= 0 ? ns(exitAt * 1000 - m.lastMainDone) : null,
  };
}

export function buildReport(sys: System, job: Job, stop: RunStop, fanout: Fanout | string | null, wallS: number): RunReport {
  const load = job.load;
  const counts: Record<string, number> = {};
  const ranks: RankReport[] = [];
  const agg = new Map<string, number[]>();
  let failures = 0;
  let running = 0;
  const states = sys.inspect.jobRanks(job);
  const yod = sys.inspect.yod(job);
  for (const r of states) {
    const p = r.process;
    const status = p?.exitStatus ?? null;
    const key = p === null ? 'not started' : status === null ? 'running' : String(status);
    counts[key] = (counts[key] ?? 0) + 1;
    if (p !== null && status === null) running++;
    const failed = p === null || (status !== null && status !== 0);
    if (failed) failures++;
    if (p) for (const [k, v] of Object.entries(p.results)) (agg.get(k) ?? agg.set(k, []).get(k)!).push(v);
    if (states.length <= LIST_ALL_RANKS || failed) {
      ranks.push({
        rank: r.rank,
        node: r.node,
        pid: p?.pid ?? null,
        exit_status: status,
        reason: p === null ? r.error : p.exitReason,
        stdout: p?.stdout ?? '',
        stderr: p?.stderr ?? '',
        results: p ? { ...p.results } : {},
      });
    }
  }
  const results: RunReport['results'] = {};
  for (const [k, vs] of [...agg].sort(([a], [b]) => a.localeCompare(b))) {
    results[k] = { count: vs.length, min: Math.min(...vs), max: Math.max(...vs), mean: vs.reduce((a, b) => a + b, 0) / vs.length };
  }
  const kernels = sys.inspect.kernelStats();
  const sum = (f: (k: KernelStats) => number) => kernels.reduce((a, k) => a + f(k.stats), 0);
  const usage = process.resourceUsage();
  return {
    machine: {
      profile: sys.profile.name,
      shape: formatShape({ kind: sys.machine.topology.kind, dims: sys.machine.topology.dims }),
      nodes: sys.machine.size,
      cores_per_node: sys.profile.values['cpu.cores'],
      seed: sys.machine.seed,
      shootdown: sys.shootdown,
    },
    job: {
      app: job.program,
      load,
      fanout: fanout === null || typeof fanout === 'string' ? fanout : formatFanout(fanout),
      ranks: states.length,
      service_node: job.load === 'direct' ? null : job.serviceNid,
      status: jobStatus(yod, running, failures),
      stop: stopText(stop),
      exit_status_counts: counts,
    },
    phases_ns: phases(sys, job, yod),
    yod: yod === null ? null : { exit_status: yod.exitStatus, stdout: yod.stdout, stderr: yod.stderr, results: { ...yod.results } },
    ranks,
    ranks_listed: states.length <= LIST_ALL_RANKS ? 'all' : 'failures',
    results,
    sim_end_ns: sys.now / 1000,
    events: sys.engine.fired,
    kernel: {
      syscalls: sum((k) => k.syscalls),
      page_faults: sum((k) => k.pageFaults),
      shootdowns: sum((k) => k.shootdowns),
      shootdown_ns: sum((k) => k.shootdownPs) / 1000,
      shootdown_ipis: sum((k) => k.shootdownIpis),
      ipis_sent: sum((k) => k.ipisSent),
      oopses: sum((k) => k.oopses),
      oops_log: kernels.flatMap((k) => k.oopsLog).slice(0, 20),
    },
    trace: { steps: sys.trace.count, kept: sys.trace.kept, hash: sys.trace.hash.toString(16).padStart(8, '0') },
    host: {
      wall_s: +wallS.toFixed(3),
      cpu_s: +((usage.userCPUTime + usage.systemCPUTime) / 1e6).toFixed(3),
      events_per_s: wallS > 0 ? Math.round(sys.engine.fired / wallS) : 0,
      peak_rss_bytes: usage.maxRSS * 1024,
      heap_used_bytes: process.memoryUsage().heapUsed,
    },
  };
}

export interface SummaryOptions {
  /** Ranks listed (default 16). */
  readonly maxRanks?: number;
  /** Output lines shown per rank and for yod (default 8; Infinity for all). */
  readonly outputLines?: number;
}

/** The first `max` non-empty lines of a program's output, then how many more there are and how to see them. */
function outputLines(text: string, max: number, prefix: string): string[] {
  const all = text.split('\n').filter((x) => x.length > 0);
  const shown = all.slice(0, max).map((l) => `${prefix}${l}`);
  if (all.length > max) shown.push(`${prefix}... ${all.length - max} more line(s) (margay run --lines N or --lines all shows more; --json has all)`);
  return shown;
}

export function summaryLines(r: RunReport, o: SummaryOptions = {}): string[] {
  const maxRanks = o.maxRanks ?? 16;
  const maxLines = o.outputLines ?? 8;
  const lines: string[] = [];
  lines.push(`${r.job.app} on ${r.job.ranks} rank(s), ${r.machine.profile} ${r.machine.shape} (${r.machine.nodes} nodes), load ${r.job.load}${r.job.fanout ? ` over ${r.job.fanout}` : ''}: ${r.job.status.toUpperCase()} (${r.job.stop})`);
  if (r.phases_ns) {
    const f = (v: number | null) => (v === null ? '-' : v >= 1e6 ? `${(v / 1e6).toFixed(3)} ms` : `${(v / 1e3).toFixed(1)} us`);
    lines.push(`  phases: load ${f(r.phases_ns.load)}, start ${f(r.phases_ns.start)}, run ${f(r.phases_ns.run)}, exit ${f(r.phases_ns.exit)}`);
  }
  if (r.yod) lines.push(...outputLines(r.yod.stdout + r.yod.stderr, maxLines, '  yod | '));
  const shown = r.ranks.slice(0, maxRanks);
  for (const k of shown) {
    const status = k.pid === null ? 'not started' : k.exit_status === null ? 'running' : `exit ${k.exit_status}`;
    lines.push(`  rank ${k.rank} (node ${k.node}, pid ${k.pid ?? '-'}): ${status}${k.reason ? ` - ${k.reason}` : ''}`);
    const out = outputLines(k.stdout + k.stderr, maxLines, '    | ');
    lines.push(...out);
    // A failed rank's first error line (a usage message, say) is always shown, however much it printed before or --lines 0.
    const err = k.stderr.split('\n').find((l) => l.length > 0);
    const failed = k.exit_status !== null && k.exit_status !== 0;
    if (failed && err !== undefined && !out.includes(`    | ${err}`)) lines.push(`    | stderr: ${err}`);
  }
  if (r.ranks.length > shown.length) lines.push(`  ... ${r.ranks.length - shown.length} more rank(s) listed in --json`);
  lines.push(`  exit statuses: ${Object.entries(r.job.exit_status_counts).map(([k, v]) => `${k} x${v}`).join(', ')}`);
  for (const [k, v] of Object.entries(r.results)) {
    lines.push(v.count === 1 ? `  result ${k} = ${v.mean}` : `  result ${k}: mean ${+v.mean.toFixed(3)} min ${v.min} max ${v.max} over ${v.count} ranks`);
  }
  const kk = r.kernel;
  lines.push(`  kernel: ${kk.syscalls} syscalls, ${kk.page_faults} page faults, ${kk.shootdowns} shootdowns (${kk.shootdown_ns} ns), ${kk.ipis_sent} IPIs${kk.oopses ? `, ${kk.oopses} OOPSES` : ''}`);
  lines.push(`  simulated ${r.sim_end_ns.toFixed(3)} ns in ${r.events} events; host ${r.host.wall_s} s (${r.host.events_per_s} events/s), peak RSS ${(r.host.peak_rss_bytes / 2 ** 20).toFixed(0)} MiB`);
  return lines;
}
