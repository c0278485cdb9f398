// Found by review (issue #13). The doc: "a sender must not be able to kill its receiver". Two well-formed
// messages (handler in the table, whole-number arguments, right length) that
// the checks let through kill the receiver running the doc's own am_hello
// handlers: a REPLY naming the request handler ADD (its token.reply then
// throws "runs for a reply and may not reply"), and a REQUEST to ADD with
// no arguments (x + y = NaN, and token.reply(SUM, NaN) throws). Both
// transports. The attacker is a rank of the same job writing raw headers.
import { describe, expect, it } from 'vitest';
import { amStart } from '../../userland/lib/am/am.ts';
import { AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { TRANSPORTS, runAm } from './harness.ts';

const ADD = 0;
const SUM = 1;

function victimRun(name: (typeof TRANSPORTS)[number], msg: Uint8Array) {
  return runAm(name, 2, function* (env, t) {
    if (t.rank === 0) {
      const page = yield* env.mem.alloc(64);
      yield* env.mem.store(page, msg);
      yield* t.send(1, new Uint8Array(0), page, msg.length);
      yield* t.flush();
      return 0;
    }
    const am = yield* amStart(env, t, [
      function* add(token, x, y) { yield* token.reply(SUM, x + y); },
      function* sum() {},
    ]);
    for (let i = 0; i < 200; i++) { yield* am.poll(); yield* env.compute(2000); }
    yield* env.sys.publish('dropped', am.stats.dropped);
    return 0;
  });
}

describe.each(TRANSPORTS)('over %s, a receiver running the doc example (attack: a rank of the job writing raw headers)', (name) => {
  it('survives a REPLY that names its request handler', () => {
    const r = victimRun(name, encodeHeader({ kind: AM_KIND.REPLY, handler: ADD, src: 0, dataLen: 0, args: [40, 2] }));
    
    expect(r.ranks[1].status).toBe(0);
    expect(r.ranks[1].results.dropped).toBe(1);
  });
  it('survives a REQUEST to ADD with no arguments', () => {
    const r = victimRun(name, encodeHeader({ kind: AM_KIND.REQUEST, handler: ADD, src: 0, dataLen: 0, args: [] }));
    
    expect(r.ranks[1].status).toBe(0);
    expect(r.ranks[1].results.dropped).toBe(1);
  });
});
