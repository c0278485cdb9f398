// The seed's comparison: the same collective handled by a user-level
// polling handler, a user-level handler woken by the interrupt (a context
// switch), and a kernel extension, while every node computes for 10 ms.
// One core per node, so a user handler must take the core from the work.

import { getProfile, withOverrides } from '../hw/profile.ts';
import { shapeForNodes } from '../hw/topology.ts';
import { System } from '../system/system.ts';
import { APPS } from '../userland/apps/index.ts';

export interface CompareRow {
  app: string;
  ranks: number;
  poll_ns: number;
  irq_ns: number;
  ext_ns: number;
}

function latency(app: string, mode: string, ranks: number): number {
  const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': 1 }, 'ext compare');
  const sys = new System({ profile, shape: shapeForNodes(ranks, 3, 'mesh'), seed: 1 });
  const job = sys.launchDirect(APPS[app], Array.from({ length: ranks }, (_, i) => i), [mode]);
  sys.run({ done: () => sys.jobDone(job), until: 1e12 });
  const bad = job.ranks.find((r) => r.process?.exitStatus !== 0);
  if (bad) throw new Error(`${app} ${mode}: rank ${bad.rank} ${bad.process?.exitReason ?? bad.process?.exitStatus}`);
  const values = job.ranks.flatMap((r) => (r.process?.results.has('latency_ns') ? [r.process.results.get('latency_ns')!] : []));
  return app === 'bcast' ? Math.max(...values) : values[0];
}

export function benchExtCompare(ranks = 15): CompareRow[] {
  return ['bcast', 'allsum', 'steal'].map((app) => ({
    app,
    ranks,
    poll_ns: latency(app, 'poll', ranks),
    irq_ns: latency(app, 'irq', ranks),
    ext_ns: latency(app, 'ext', ranks),
  }));
}
