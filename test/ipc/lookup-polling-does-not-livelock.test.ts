// Seven clients wait for a server's name with ipc.lookup(nid, key, retryNs).
// Each remote lookup costs the server's node transport work on its core 0
// (all its NIC interrupts go there); clients re-asking at a fixed interval
// shorter than that work kept the core busy for good, so the server never
// ran, not even to publish (the second review of #14: NORMA on a Paragon,
// 8 nodes, 5 ms retry, hung). The library now backs off exponentially, so
// the re-asking thins out until the publisher runs.
import { describe, expect, it } from 'vitest';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from './helpers.ts';

function run(retryNs: number, transport: 'norma' | 'dipc') {
  const sys = machine({ nodes: 8, transport });
  const job = sys.launchDirect(program('t', function* (env) {
    const ipc = yield* openIpc(env);
    if ((yield* env.sys.getrank()) === 0) {
      const port = yield* ipc.portAlloc();
      yield* ipc.publish(port, 7);
      for (let i = 0; i < 7; i++) yield* ipc.receive(port);
      return 0;
    }
    yield* ipc.send(yield* ipc.lookup(0, 7, retryNs), [1]);
    return 0;
  }), Array.from({ length: 8 }, (_, i) => i), ['t']);
  sys.run({ done: () => sys.jobDone(job), until: 2e12 });
  return job.ranks.map((r) => r.process?.exitStatus);
}

describe('clients polling for a name not yet published', () => {
  for (const [transport, retryNs] of [['norma', 5_000_000], ['norma', 100_000], ['dipc', 100_000]] as const) {
    it(`do not starve the server's node (${transport}, retry every ${retryNs / 1000} us, 8 nodes)`, () => {
      expect(run(retryNs, transport)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    });
  }
});
