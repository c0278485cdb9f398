// Rights used after the task that gave them exited: a send right to a port
// whose task is gone, on another node, never reaches a new port published
// under the same key on that node (first review of #14; all three programs
// run as one uid, since a lookup sees only its own uid's keys).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { System } from '../../system/system.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';

describe('a right used after its port\'s task exited', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`refuses the RPC with -ECONNREFUSED and never reaches a new port under the same key (${transport})`, () => {
      const a = program('a', function* main(env) {
        const ipc = yield* openIpc(env);
        const port = yield* ipc.portAlloc();
        yield* ipc.publish(port, 5);
        yield* env.sys.nanosleep(5_000_000);
        return 0; // exits: its port dies
      });
      const a2 = program('a2', function* main(env) {
        const ipc = yield* openIpc(env);
        yield* env.sys.nanosleep(20_000_000);
        const port = yield* ipc.portAlloc(); // a new port on the same node, same key
        yield* ipc.publish(port, 5);
        const buf = yield* env.mem.alloc(4096);
        yield* env.sys.nanosleep(50_000_000);
        const n = yield* env.sys.raw(SYS.ipc_receive, port, buf, 9); // blocks if nothing came
        yield* env.sys.publish('a2_got', n);
        return 0;
      });
      const b = program('b', function* main(env) {
        const ipc = yield* openIpc(env);
        const srv = yield* ipc.lookup(0, 5, 10e9);
        yield* env.sys.nanosleep(30_000_000);
        const buf = yield* env.mem.alloc(64);
        yield* env.sys.publish('send', yield* env.sys.raw(SYS.ipc_send, srv, buf, 0, -1));
        yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, srv, buf, 0, buf, 6));
        return 0;
      });
      const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [3] }, seed: 1, transport });
      const ja = sys.launchDirect(a, [0], [], 1001);
      const jb = sys.launchDirect(b, [1], [], 1001);
      sys.run({ done: () => sys.jobDone(ja), until: 10e12 });
      const ja2 = sys.launchDirect(a2, [0], [], 1001);
      sys.run({ done: () => sys.jobDone(jb), until: sys.now + 10e12 });
      expect(sys.jobDone(jb)).toBe(true);
      sys.run({ until: sys.now + 100e9 });
      const rb = Object.fromEntries(jb.ranks[0].process!.results);
      const ra2 = Object.fromEntries(ja2.ranks[0].process!.results);
      expect(rb.rpc).toBe(-ERRNO.ECONNREFUSED);
      expect(ra2.a2_got).toBeUndefined(); // nothing reached the new port
    });
  }
});
