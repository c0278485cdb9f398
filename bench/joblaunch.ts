// Job launch benchmarks. `joblaunch`: simulated load time of hello through
// yod for each fan-out at 64 and 1,024 compute nodes (the seed's flat vs
// hierarchical comparison). `scale` (run only when named): hello on the Red
// Storm shape (10,368 nodes) and, with `scale100k`, on a 100,000-node torus,
// each in its own process so that its wall time and peak RSS are its own.

import { spawnSync } from 'node:child_process';
import { getProfile } from '../hw/profile.ts';
import { shapeForNodes } from '../hw/topology.ts';
import { System } from '../system/system.ts';
import { launch } from '../monitor/launch.ts';
import { buildReport } from '../monitor/report.ts';
import { APPS } from '../userland/apps/index.ts';
import { type Fanout, formatFanout } from '../userland/lib/jobblock.ts';

const FANOUTS: Fanout[] = [{ kind: 'flat' }, { kind: 'flat-concurrent' }, { kind: 'tree', arity: 2 }, { kind: 'tree', arity: 8 }, { kind: 'binomial' }];

export function benchJobLaunch(counts = [64, 1024]) {
  const profile = getProfile('redstorm');
  const rows = [];
  for (const nodes of counts) {
    for (const f of FANOUTS) {
      const sys = new System({ profile, shape: shapeForNodes(nodes + 1, profile.shape.length, profile.topology), seed: 1 });
      const t0 = process.hrtime.bigint();
      const job = launch(sys, { load: 'two-phase', fanout: f, programs: [APPS.hello], map: [{ firstNid: 0, count: nodes, image: 0 }], argv: [], timeoutUs: 10_000_000 });
      const stop = sys.run({ done: () => sys.jobDone(job), until: 60e12 });
      const wall = Number(process.hrtime.bigint() - t0) / 1e9;
      const r = buildReport(sys, job, stop, f, wall);
      rows.push({ nodes, fanout: formatFanout(f), status: r.job.status, load_ns: r.phases_ns?.load ?? null, start_ns: r.phases_ns?.start ?? null, exit_ns: r.phases_ns?.exit ?? null, events: r.events, wall_s: +wall.toFixed(3) });
    }
  }
  return rows;
}

/** One `margay run hello` on a big machine, in a child process so that its CPU time and peak RSS are its own. */
function scaleOnce(shape: string, hostLimit: string) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=30000', 'bin/margay.js', 'run', 'hello', '--shape', shape, '--time-limit', '60s', '--host-limit', hostLimit, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0 && r.stdout === '') return { error: r.stderr.trim().split('\n').pop() ?? `exit ${r.status}` };
  const rep = JSON.parse(r.stdout);
  const h = rep.host;
  return {
    nodes: rep.machine.nodes as number,
    ranks: rep.job.ranks as number,
    status: rep.job.status as string,
    stop: rep.job.stop as string,
    phases_ns: rep.phases_ns,
    events: rep.events as number,
    wall_s: h.wall_s as number,
    cpu_s: h.cpu_s as number,
    events_per_s: h.events_per_s as number,
    events_per_cpu_s: Math.round(rep.events / h.cpu_s),
    peak_rss_bytes: h.peak_rss_bytes as number,
    peak_rss_per_node_bytes: Math.round(h.peak_rss_bytes / rep.machine.nodes),
  };
}

/**
 * Hello (two-phase, binomial) on a big machine, `runs` times, each in its own
 * process; of the runs that completed (a run on a busy host may reach its
 * host-time limit first), the one with the median CPU time is reported, with
 * every run's status, CPU and wall time (on a shared host, CPU time is the
 * figure to compare).
 */
export function benchScale(shape: string, runs = 3, hostLimit = '60min') {
  const all = Array.from({ length: runs }, () => scaleOnce(shape, hostLimit));
  const ok = all.filter((r): r is Exclude<typeof r, { error: string }> => !('error' in r));
  if (ok.length === 0) return { shape, error: (all[0] as { error: string }).error };
  const completed = ok.filter((r) => r.status === 'completed');
  const pool = completed.length > 0 ? completed : ok;
  const median = [...pool].sort((a, b) => a.cpu_s - b.cpu_s)[Math.floor(pool.length / 2)];
  return { shape, ...median, runs_status: ok.map((r) => r.status), runs_cpu_s: ok.map((r) => r.cpu_s), runs_wall_s: ok.map((r) => r.wall_s) };
}
