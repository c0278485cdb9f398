// A receiver whose right table is full (MAX_RIGHTS) gets a message carrying
// a reply (send-once) right. The right used to be dropped silently: no
// port-dead ever went out and the RPC caller blocked for ever. Now the
// receive is refused with -ENOSPC and the message stays queued: a receiver
// that frees a name gets it (and its reply right) next time; one that dies
// instead gives the right up as at any death, so the caller hears
// -ECONNREFUSED.
import { describe, expect, it } from 'vitest';
import { ERRNO } from '../../kernel/errno.ts';
import { MAX_RIGHTS } from '../../kernel/ipc/rights.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { openIpc } from '../../userland/lib/ipc.ts';
import { type Main, program } from '../../userland/lib/runtime.ts';
import { machine } from '../ipc/helpers.ts';

function runRanks(main: Main) {
  const sys = machine({ nodes: 2, transport: 'dipc' });
  const job = sys.launchDirect(program('t', main), [0, 1], ['t']);
  sys.run({ done: () => sys.jobDone(job), until: 5e12 });
  return { done: sys.jobDone(job), ranks: job.ranks.map((r) => Object.fromEntries(r.process?.results ?? [])) };
}

function server(freeOne: boolean): Main {
  return function* (env) {
    const ipc = yield* openIpc(env);
    const rank = yield* env.sys.getrank();
    if (rank === 0) {
      const port = yield* ipc.portAlloc();
      yield* ipc.publish(port, 7);
      let last = port;
      for (let i = 1; i < MAX_RIGHTS; i++) last = yield* ipc.portAlloc();
      const buf = yield* env.mem.alloc(8 * 16);
      yield* env.sys.publish('first', yield* env.sys.raw(SYS.ipc_receive, port, buf, 16));
      if (!freeOne) return 0;
      yield* ipc.dealloc(last);
      const m = yield* ipc.receive(port);
      yield* env.sys.publish('reply_name', m.reply);
      yield* ipc.reply(m.reply, [42]);
      return 0;
    }
    const s = yield* ipc.lookup(0, 7, 10e9);
    const buf = yield* env.mem.alloc(8 * 4);
    yield* env.mem.store(buf, new Uint8Array(8));
    yield* env.sys.publish('rpc', yield* env.sys.raw(SYS.ipc_rpc, s, buf, 1, buf, 4));
    return 0;
  };
}

describe('a receiver whose right table is full', () => {
  it('is refused with -ENOSPC and finds the message (and its reply right) still queued once it frees a name', () => {
    const { done, ranks } = runRanks(server(true));
    expect(done).toBe(true);
    expect(ranks[0].first).toBe(-ERRNO.ENOSPC);
    expect(ranks[0].reply_name).toBeGreaterThanOrEqual(0);
    expect(ranks[1].rpc).toBe(1);
  });

  it('that dies instead leaves the RPC caller refused (-ECONNREFUSED), not hanging', () => {
    const { done, ranks } = runRanks(server(false));
    expect(done).toBe(true);
    expect(ranks[0].first).toBe(-ERRNO.ENOSPC);
    expect(ranks[1].rpc).toBe(-ERRNO.ECONNREFUSED);
  });
});
