// Follows local-send-leaves-a-pending-wake: the stale wake a local ipc_send
// leaves makes the caller's next ipc_rpc return from its block at once with
// no value. sys_ipc_rpc then takes `undefined` for an answer: it removes its
// reply port as "spent" (ports.remove(replyPort, true): the very id may name
// the next port allocated on the node) while the request, with its send-once
// right to that id, is still queued at the server; then it oopses on m.kind.
// The next port made on the node (here by another uid's process) gets that
// id, and the server's reply to the dead caller is delivered to it.
import { expect, it } from 'vitest';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

it("an RPC caller's reply never reaches another uid's port", () => {
  const sys = machine({ nodes: 2, transport: 'dipc' });
  // uid 1000 on nodes 0 and 1: a server on node 1 that answers after 200 ms; a caller on node 0.
  const a = sys.launchDirect(
    program('a', function* (env) {
      const ipc = yield* openIpc(env);
      const rank = yield* env.sys.getrank();
      if (rank === 1) {
        const p = yield* ipc.portAlloc();
        yield* ipc.publish(p, 1);
        const m = yield* ipc.receive(p);
        yield* env.sys.nanosleep(200_000_000);
        yield* ipc.reply(m.reply, [0x5ec12e7]);
        yield* env.sys.nanosleep(100_000_000);
        return 0;
      }
      const srv = yield* ipc.lookup(1, 1, 1e9);
      const own = yield* ipc.portAlloc();
      yield* ipc.send(yield* ipc.makeSend(own), [1]); // local: leaves a pending wake
      yield* ipc.rpc(srv, [7]); // returns from its block at once (kernel oops)
      return 0;
    }),
    [0, 1],
    ['a'],
    1000,
  );
  // uid 2000 on node 0: makes a port 50 ms later and waits on it (nobody gave anyone a right to it).
  const b = sys.launchDirect(
    program('b', function* (env) {
      const ipc = yield* openIpc(env);
      yield* env.sys.nanosleep(50_000_000);
      const p = yield* ipc.portAlloc();
      const m = yield* ipc.receive(p);
      yield* env.sys.publish('got_kind', m.kind);
      yield* env.sys.publish('got_word', m.words[0] ?? -1);
      return 0;
    }),
    [0],
    ['b'],
    2000,
  );
  sys.run({ done: () => sys.jobDone(a), until: 5e12 });
  sys.run({ until: sys.now + 1e12 });
  const rb = Object.fromEntries(b.ranks[0].process!.results);
  // On HEAD: rb = { got_kind: 0, got_word: 0x5ec12e7 } (uid 1000's reply), and node 0 has 1 oops.
  expect(rb.got_word).toBeUndefined(); // uid 2000 must receive nothing
  expect(sys.kernel(0).stats.oopses).toBe(0);
});
