// Finding (correctness): a triggered put from a non-contiguous (PTL_IOVEC) MD
// gathers the MD's bytes into staging when PtlTriggeredPut is called, not when
// the counter reaches the threshold; the message carries what the buffer held
// at registration. (A contiguous MD sends what it holds when it fires.)
import { describe, expect, it } from 'vitest';
import { PTL, machine, openPortals, spawn, waitFor } from '../security/attack.ts';

const enc = (s: string) => new TextEncoder().encode(s);

describe('a triggered put from an iovec MD', () => {
  it('sends the buffer contents as of the trigger, not of the registration', () => {
    const sys = machine(2);
    let got = '';
    let ready = false;
    const sink = spawn(sys, 1, 1, 'sink', function* (env) {
      const { P, ni, eq } = yield* openPortals(env);
      const buf = yield* env.mem.alloc(8);
      yield* P.PtlLEAppend(ni, 0, { start: buf, length: 8, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
      ready = true;
      for (;;) {
        const ev = (yield* P.PtlEQWait(eq)).event!;
        if (ev.type === PTL.EVENT_PUT) break;
      }
      got = new TextDecoder().decode(yield* env.mem.load(buf, 8));
    });
    const src = spawn(sys, 0, 1, 'src', function* (env) {
      yield* waitFor(env, () => ready, 10_000);
      const { P, ni } = yield* openPortals(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const [a, b] = [yield* env.mem.alloc(4), yield* env.mem.alloc(4)];
      const iov = yield* env.mem.alloc(32);
      for (const [i, w] of [a, 4, b, 4].entries()) yield* env.mem.storeU64(iov + 8 * i, w);
      const { md } = yield* P.PtlMDBind(ni, { start: iov, length: 2, options: PTL.IOVEC });
      yield* env.mem.store(a, enc('OLD_'));
      yield* env.mem.store(b, enc('OLD_'));
      expect(yield* P.PtlTriggeredPut(md, 0, 8, PTL.NO_ACK_REQ, { nid: 1, pid: sink.pid }, 0, 0n, 0, 0, 0, ct, 1)).toBe(PTL.OK);
      yield* env.mem.store(a, enc('NEW_'));
      yield* env.mem.store(b, enc('NEW_'));
      expect(yield* P.PtlCTInc(ct, 1, 0)).toBe(PTL.OK);
      yield* waitFor(env, () => got !== '', 10_000);
    });
    sys.run({ until: 1e12, done: () => !src.alive && !sink.alive });
    expect(got).toBe('NEW_NEW_');
  });
});
