// An RPC whose request cannot reach a node that is down: ports.requestUnreachable
// takes the caller's reply port out of the table with `this.ports.delete(id)`
// instead of remove(), so its id never goes back to PortIds (its slot stays
// "live" for ever) and its liveness watch (replyPort.unwatch) is never stopped.
// sys_ipc_rpc's own remove() afterwards does nothing (the port is no longer in
// the table). Every RPC to a down node thus uses up one port slot of the
// caller's node for good; an RPC to a live server reuses its reply id (mints none).
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { System } from '../../system/system.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';

describe('RPCs to a node that is down', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`give their reply port ids back (${transport})`, () => {
      const server = program('server', function* main(env) {
        const ipc = yield* openIpc(env);
        const port = yield* ipc.portAlloc();
        yield* ipc.publish(port, 5);
        yield* ipc.receive(port);
        return 0;
      });
      const client = program('client', function* main(env) {
        const ipc = yield* openIpc(env);
        const srv = yield* ipc.lookup(0, 5, 100_000);
        yield* env.sys.publish('looked_up', 1);
        yield* env.sys.nanosleep(10_000_000); // node 0 goes down meanwhile
        const buf = yield* env.mem.alloc(64);
        let unreachable = 0;
        for (let i = 0; i < 200; i++) if ((yield* env.sys.raw(SYS.ipc_rpc, srv, buf, 0, buf, 6)) === -ERRNO.EHOSTUNREACH) unreachable++;
        yield* env.sys.publish('unreachable', unreachable);
        return 0;
      });
      const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [2] }, seed: 1, transport });
      sys.trace.enabled = false;
      sys.launchDirect(server, [0], []);
      const c = sys.launchDirect(client, [1], []);
      sys.run({ done: () => c.ranks[0].process!.results.has('looked_up'), until: 1e12 });
      const before = sys.kernel(1).ports.idsUsed;
      sys.machine.network.setNodeDown(0, true);
      sys.run({ done: () => sys.jobDone(c), until: sys.now + 60e12 });
      expect(c.ranks[0].process!.results.get('unreachable')).toBe(200);
      // 200 RPCs, one at a time: one reply id would do (as for a live server). Each one mints a new slot.
      expect(sys.kernel(1).ports.idsUsed - before).toBeLessThanOrEqual(1);
    });
  }
});
