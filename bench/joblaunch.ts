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

/** Runs `margay run hello` on a big machine in a child process and returns its report's figures. */
export function benchScale(shape: string) {
  const r = spawnSync(process.execPath, ['--max-old-space-size=20000', 'bin/margay.js', 'run', 'hello', '--shape', shape, '--time-limit', '60s', '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0 && r.stdout === '') return { shape, error: r.stderr.split('\n')[0] };
  const rep = JSON.parse(r.stdout);
  return { shape, nodes: rep.machine.nodes, ranks: rep.job.ranks, status: rep.job.status, phases_ns: rep.phases_ns, events: rep.events, wall_s: rep.host.wall_s, events_per_s: rep.host.events_per_s, peak_rss_bytes: rep.host.peak_rss_bytes };
}
