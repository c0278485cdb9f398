// Two leaks the second review of #14 found by reading the code: a remote
// lookup whose asker could not take the right (its table full) left its
// node counted as a sender at the port's home for good, so the port never
// got its No-More-Senders notice; and every RPC used up a port id of its
// node for its reply port, so after 2^24 RPCs every user there got -ENOSPC.
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { MAX_RIGHTS } from '../../kernel/ipc/rights.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { IPC_NMS, openIpc } from '../../userland/lib/ipc.ts';
import { type Main, program } from '../../userland/lib/runtime.ts';
import { machine } from './helpers.ts';

function runRanks(main: Main, nodes = 2) {
  const sys = machine({ nodes, transport: 'dipc' });
  const job = sys.launchDirect(program('t', main), Array.from({ length: nodes }, (_, i) => i), ['t']);
  sys.run({ done: () => sys.jobDone(job), until: 5e12 });
  return { sys, done: sys.jobDone(job), ranks: job.ranks.map((r) => Object.fromEntries(r.process?.results ?? [])) };
}

describe('port bookkeeping', () => {
  it('sends No More Senders although a remote lookup was refused for a full right table', () => {
    const { done, ranks } = runRanks(function* (env) {
      const ipc = yield* openIpc(env);
      if ((yield* env.sys.getrank()) === 0) {
        const port = yield* ipc.portAlloc(IPC_NMS);
        yield* ipc.publish(port, 9);
        const m = yield* ipc.receive(port);
        yield* env.sys.publish('kind', m.kind);
        return 0;
      }
      for (let i = 0; i < MAX_RIGHTS; i++) yield* ipc.portAlloc();
      yield* env.sys.publish('lookup', yield* env.sys.raw(SYS.ipc_lookup, 0, 9, 0));
      return 0;
    });
    expect(ranks[1].lookup).toBe(-ERRNO.ENOSPC);
    expect(done).toBe(true);
    expect(ranks[0].kind).toBe(1); // no-more-senders
  });

  it('uses an RPC\'s reply port id again once its answer came, so RPCs never run a node out of port ids', () => {
    const RPCS = 200;
    const { sys, done, ranks } = runRanks(function* (env) {
      const ipc = yield* openIpc(env);
      if ((yield* env.sys.getrank()) === 0) {
        const port = yield* ipc.portAlloc();
        yield* ipc.publish(port, 5);
        for (let i = 0; i < RPCS; i++) {
          const m = yield* ipc.receive(port);
          yield* ipc.reply(m.reply, [i]);
        }
        return 0;
      }
      const s = yield* ipc.lookup(0, 5, 10e9);
      let sum = 0;
      for (let i = 0; i < RPCS; i++) sum += (yield* ipc.rpc(s, [i]))[0];
      yield* env.sys.publish('sum', sum);
      return 0;
    });
    expect(done).toBe(true);
    expect(ranks[1].sum).toBe((RPCS * (RPCS - 1)) / 2);
    expect(sys.kernel(1).ports.idsUsed).toBeLessThanOrEqual(2);
  });
});
