// A port queues at most QUEUE_LIMIT (1024) messages, and one sending task at
// most SENDER_SHARE (128) of them (kernel/ipc/admission.ts). A message past
// either bound used to be dropped at the port's home: ipc_send had returned
// 0 (the sender was never told), and an RPC whose request was dropped
// returned -ECONNREFUSED, the errno of a dead port, though the port was
// alive; one flooding sender made every other client's RPC fail. Now the
// flooder's sends past its share return -EAGAIN, nothing is dropped, and
// another client's RPC is queued and answered.
import { expect, it } from 'vitest';
import { SENDER_SHARE } from '../../kernel/ipc/admission.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

for (const flooderNode of [1, 0] as const) {
  it(`refuses a flooding sender past its share with -EAGAIN and still serves another client's RPC (flooder on node ${flooderNode}${flooderNode === 0 ? ', the port\'s own' : ''})`, () => {
    const sys = machine({ nodes: 3, transport: 'dipc' });
    const job = sys.launchDirect(
      program('t', function* (env) {
        const ipc = yield* openIpc(env);
        const rank = yield* env.sys.getrank();
        if (rank === 0) {
          const p = yield* ipc.portAlloc();
          yield* ipc.publish(p, 9);
          yield* env.sys.nanosleep(2_000_000_000); // busy elsewhere for 2 s, then serves
          let served = 0;
          for (;;) {
            const m = yield* ipc.receive(p);
            if (m.reply >= 0) {
              yield* ipc.reply(m.reply, [1]);
              served++;
              yield* env.sys.publish('rpcs_served', served);
            }
          }
        }
        const s = yield* ipc.lookup(0, 9, 100_000);
        if (rank === 1) {
          const buf = yield* env.mem.alloc(64);
          const errors = new Map<number, number>();
          for (let i = 0; i < 1100; i++) {
            const r = yield* env.sys.raw(SYS.ipc_send, s, buf, 0, -1);
            if (r !== 0) errors.set(r, (errors.get(r) ?? 0) + 1);
          }
          yield* env.sys.publish('send_errors', [...errors.values()].reduce((a, b) => a + b, 0));
          yield* env.sys.publish('send_eagain', errors.get(-ERRNO.EAGAIN) ?? 0);
          // Its own RPC is past its share too: refused with the same errno.
          yield* env.sys.publish('own_rpc', yield* env.sys.raw(SYS.ipc_rpc, s, buf, 0, buf, 1));
          return 0;
        }
        yield* env.sys.nanosleep(500_000_000); // after the flood
        const buf = yield* env.mem.alloc(64);
        yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, s, buf, 0, buf, 1));
        return 0;
      }),
      flooderNode === 1 ? [0, 1, 2] : [0, 0, 2],
      ['t'],
    );
    sys.run({ done: () => job.ranks[2].process !== null && !job.ranks[2].process!.alive, until: 10e12 });
    const r = job.ranks.map((x) => Object.fromEntries(x.process?.results ?? []));
    expect(r[1].send_errors).toBe(1100 - SENDER_SHARE);
    expect(r[1].send_eagain).toBe(1100 - SENDER_SHARE);
    expect(r[1].own_rpc).toBe(-ERRNO.EAGAIN);
    expect(r[2].rpc).toBe(1); // queued within its own share, answered with one word
    expect(sys.kernel(0).ports.stats.dropped).toBe(0); // nothing lost without its sender hearing
    expect(sys.kernel(0).ports.stats.refused).toBe(1100 - SENDER_SHARE + 1);
  });
}
