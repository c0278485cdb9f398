// An RPC to a server whose node went down before the request reached it:
// the request's post fails (the mesh reports it undeliverable), and
// ports.send's `unreachable` answers the reply port with a port-dead, so the
// caller gets -ECONNREFUSED ("the port is dead") instead of the
// -EHOSTUNREACH that IPC.md gives for a node the transport cannot reach (and
// that the same RPC gets when the node dies a moment later). A one-way
// ipc_send to that node returns 0.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { System } from '../../system/system.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';

describe('an RPC to a node that is already down', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`refuses the RPC with -EHOSTUNREACH, not a dead port's -ECONNREFUSED (${transport})`, () => {
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
        yield* env.sys.publish('send', yield* env.sys.raw(SYS.ipc_send, srv, buf, 0, -1));
        yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, srv, buf, 0, buf, 6));
        return 0;
      });
      const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [2] }, seed: 1, transport });
      sys.launchDirect(server, [0], []);
      const c = sys.launchDirect(client, [1], []);
      sys.run({ done: () => c.ranks[0].process!.results.has('looked_up'), until: 1e12 });
      sys.machine.network.setNodeDown(0, true);
      sys.run({ done: () => sys.jobDone(c), until: sys.now + 60e12 });
      const r = Object.fromEntries(c.ranks[0].process!.results);
      expect(sys.jobDone(c)).toBe(true);
      expect(r.rpc).toBe(-ERRNO.EHOSTUNREACH);
      // A one-way send waits for its port's verdict (kernel/ipc/admission.ts): the transport's failure is its answer too.
      expect(r.send).toBe(-ERRNO.EHOSTUNREACH);
    });
  }
});
