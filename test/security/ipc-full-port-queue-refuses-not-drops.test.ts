// A port queues at most 1024 messages (QUEUE_LIMIT in kernel/ipc/ports.ts,
// not in docs/IPC.md). Past that, a message is dropped at the port's home:
// ipc_send has already returned 0 (the sender is never told), and an RPC
// whose request is dropped returns -ECONNREFUSED, the errno IPC.md gives for
// a dead port, though the port is alive. One flooding sender thus makes
// every other client's RPC to a live server fail.
import { expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

it('a flood of one-way messages makes a live server refuse another client RPC with -ECONNREFUSED, silently', () => {
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
        let bad = 0;
        for (let i = 0; i < 1100; i++) if ((yield* env.sys.raw(SYS.ipc_send, s, buf, 0, -1)) !== 0) bad++;
        yield* env.sys.publish('send_errors', bad);
        return 0;
      }
      yield* env.sys.nanosleep(500_000_000); // after the flood
      const buf = yield* env.mem.alloc(64);
      yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, s, buf, 0, buf, 1));
      return 0;
    }),
    [0, 1, 2],
    ['t'],
  );
  sys.run({ done: () => job.ranks[2].process !== null && !job.ranks[2].process!.alive, until: 10e12 });
  const r = job.ranks.map((x) => Object.fromEntries(x.process?.results ?? []));
  expect(r[1].send_errors).toBe(0); // every send "succeeded"
  expect(sys.kernel(0).ports.ports.size).toBeGreaterThan(0); // the server's port is alive
  // Documented meaning of -ECONNREFUSED: a dead port or a reply right that died unused. Neither here.
  expect(r[2].rpc).not.toBe(-ERRNO.ECONNREFUSED);
});
