// A thread blocked in ipc_rpc to a server on another node whose process then
// ends (exit_group from another thread): sys_ipc_rpc's `unwatch()` runs only
// when block() returns, which never happens for a killed thread, so the
// server-node watcher (ports.watchServer) keeps probing the server's node
// every RPC_PROBE_PS for as long as that node answers: after the caller is
// gone, for ever.
import { expect, it } from 'vitest';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from './helpers.ts';

it('a killed RPC caller leaves no probes behind', () => {
  const sys = machine({ nodes: 2, transport: 'dipc', trace: true });
  const job = sys.launchDirect(
    program('t', function* (env) {
      const ipc = yield* openIpc(env);
      const rank = yield* env.sys.getrank();
      if (rank === 0) {
        const p = yield* ipc.portAlloc();
        yield* ipc.publish(p, 5);
        yield* ipc.receive(p); // takes the request (and its reply right) and never answers
        yield* env.sys.nanosleep(60e9); // stays alive, holding the reply right
        return 0;
      }
      const s = yield* ipc.lookup(0, 5, 100_000);
      yield* env.spawn(function* (t) {
        const o = yield* t.mem.alloc(64);
        yield* t.sys.raw(SYS.ipc_rpc, s, o, 0, o, 1);
      });
      yield* env.sys.nanosleep(10_000_000);
      return 0; // the process ends; its RPC thread is killed while blocked
    }),
    [0, 1],
    ['t'],
  );
  sys.run({ done: () => job.ranks[1].process !== null && !job.ranks[1].process!.alive, until: 5e12 });
  const ended = sys.engine.now;
  sys.run({ done: () => false, until: ended + 20e12 }); // 20 s more
  const probesAfter = sys.trace.last().filter((r) => r.node === 0 && r.path === 'ipc' && r.step === 'probe' && r.t > ended + 2e12).length;
  expect(job.ranks[1].process!.alive).toBe(false);
  expect(probesAfter).toBe(0);
});
