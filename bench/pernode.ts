// Host memory per node: boot N idle kernels and divide the growth of the
// host's heap plus external (typed-array) memory by N; then launch hello on
// those N nodes through yod and, once every rank has entered main (each node
// holds a loaded process), divide the growth again. The garbage collector
// runs before each reading so that only live memory counts.

import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { getProfile } from '../hw/profile.ts';
import { shapeForNodes } from '../hw/topology.ts';
import { launch } from '../monitor/launch.ts';
import { System } from '../system/system.ts';
import { APPS } from '../userland/apps/index.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function liveBytes(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

export function benchPerNode(nodes = 2048) {
  const profile = getProfile('redstorm');
  const before = liveBytes();
  const sys = new System({ profile, shape: shapeForNodes(nodes + 1, profile.shape.length, profile.topology), seed: 1 });
  const empty = liveBytes();
  for (let nid = 0; nid < nodes; nid++) sys.boot(nid);
  const booted = liveBytes();
  const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [APPS.hello], map: [{ firstNid: 0, count: nodes, image: 0 }], argv: [], timeoutUs: 10_000_000 });
  // Ranks whose process is loaded and not yet ended (hello's main is short, so look often).
  const live = () => {
    let n = 0;
    for (let nid = 0; nid < nodes; nid++) if (sys.existingKernel(nid)?.jobs.records.get(job.jobId)?.process.alive === true) n++;
    return n;
  };
  let most = 0;
  while (most < nodes && !sys.jobDone(job)) {
    sys.run({ maxEvents: 2_000, until: 60e12 });
    most = Math.max(most, live());
  }
  const loaded = liveBytes();
  return {
    nodes,
    machine_bytes: empty - before,
    idle_node_bytes: Math.round((booted - empty) / nodes),
    loaded_node_bytes: Math.round((loaded - empty) / nodes),
    live_ranks: live(),
  };
}
