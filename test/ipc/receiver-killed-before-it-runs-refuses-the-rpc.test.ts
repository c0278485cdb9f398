// A message handed to a thread waiting in ipc_receive (woken with it) whose
// process is killed before that thread runs: the thread never takes the
// message's rights, so the message goes back to its port at the death
// (kernel/holds.ts) and dies with it: the RPC caller hears -ECONNREFUSED
// instead of waiting for ever for an answer nobody can give.
import { expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { program } from '../../userland/lib/runtime.ts';
import { machine } from './helpers.ts';

it('refuses an RPC whose request was handed to a receiver killed before it ran', () => {
  for (const transport of ['dipc', 'norma'] as const) {
    const sys = machine({ nodes: 2, transport });
    const job = sys.launchDirect(
      program('t', function* (env) {
        const ipc = yield* openIpc(env);
        const rank = yield* env.sys.getrank();
        if (rank === 0) {
          const p = yield* ipc.portAlloc();
          yield* ipc.publish(p, 4);
          yield* env.spawn(function* (t) {
            const b = yield* t.mem.alloc(8 * 9);
            yield* t.sys.raw(SYS.ipc_receive, p, b, 9);
          });
          yield* env.sys.nanosleep(60e9);
          return 0;
        }
        const s = yield* ipc.lookup(0, 4, 100_000);
        yield* env.sys.nanosleep(10_000_000);
        const b = yield* env.mem.alloc(64);
        yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, s, b, 0, b, 1));
        return 0;
      }),
      [0, 1],
      ['t'],
    );
    const k0 = sys.kernel(0);
    // Stop the moment the request is handed to the waiting receiver, before it runs.
    sys.run({ done: () => k0.ports.stats.delivered === 1, until: 5e12 });
    const server = job.ranks[0].process!;
    const receiver = server.liveThreads.find((t) => t.state !== 'blocked' && t.kpath !== null);
    expect(receiver).toBeDefined(); // woken with the message, not yet run
    k0.killProcess(server, 137, 'killed by the test');
    sys.run({ done: () => !job.ranks[1].process!.alive, until: sys.now + 10e12 });
    expect(job.ranks[1].process!.results.get('rpc')).toBe(-ERRNO.ECONNREFUSED);
    expect(k0.ports.stats.dropped).toBe(1);
  }
});
