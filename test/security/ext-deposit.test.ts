// A put to an entry with an extension handler: the handler sees the first
// payload_max bytes, and (when it delivers) the entry gets the whole matched
// payload, exactly the bytes its PUT event reports.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attachExtension } from '../../userland/lib/ext.ts';
import { PTL, machine, mmapRw, openPortals, spawn, waitFor } from './attack.ts';

function putThroughHandler(entryLen: number, putLen: number, payloadMax: number, verdict: 0 | 1) {
  const sys = machine([2]);
  const s = { ready: false, mlength: -1, rlength: -1, got: new Uint8Array(0) as Uint8Array, events: 0 };
  const data = Uint8Array.from({ length: putLen }, (_, i) => (i * 7 + 3) & 0xff);
  const target = spawn(sys, 0, 1, 'target', function* (env) {
    const { P, ni, eq } = yield* openPortals(env);
    const buf = yield* mmapRw(env, 1 << 20);
    const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: entryLen, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
    const r = yield* attachExtension(env, { code: `mov %r0, ${verdict}\nexit`, format: 'asm', entry: le.handle, region: 0, regionLen: 0, payloadMax });
    expect(r.ok).toBe(true);
    s.ready = true;
    for (let i = 0; i < 50 && s.events === 0; i++) {
      const e = yield* P.PtlEQGet(eq);
      if (e.rc === PTL.OK && e.event!.type === PTL.EVENT_PUT) {
        s.events++;
        s.mlength = e.event!.mlength;
        s.rlength = e.event!.rlength;
      } else yield* env.sys.nanosleep(200_000);
    }
    s.got = yield* env.mem.load(buf, entryLen);
  });
  const sender = spawn(sys, 1, 1, 'sender', function* (env) {
    const { P, ni } = yield* openPortals(env);
    const src = yield* mmapRw(env, 1 << 20);
    if (putLen > 0) yield* env.mem.store(src, data);
    const { md } = yield* P.PtlMDBind(ni, { start: src, length: 1 << 20 });
    yield* waitFor(env, () => s.ready);
    yield* P.PtlPut(md, 0, putLen, PTL.NO_ACK_REQ, { nid: 0, pid: target.pid }, 0, 0n, 0, 0, 0);
  });
  sys.run({ until: 1e12, done: () => !target.alive && !sender.alive });
  return { ...s, data, stagingBusy: sys.kernel(0).portals.stagingBusy };
}

describe('a put to an entry with an extension handler', () => {
  it('deposits every matched byte, not only the payload_max the handler sees, and reports what it deposited', () => {
    const r = putThroughHandler(4096, 4096, 8, 0);
    expect(r.events).toBe(1);
    expect(r.mlength).toBe(4096);
    expect(r.got).toEqual(r.data);
    expect(r.stagingBusy).toBe(0);
  });

  it('deposits exactly the bytes the event reports, for any sizes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 256 }), (entryLen, putLen, payloadMax) => {
        const r = putThroughHandler(entryLen, putLen, payloadMax, 0);
        expect(r.events).toBe(1);
        expect(r.rlength).toBe(putLen);
        expect(r.mlength).toBe(Math.min(entryLen, putLen));
        expect(r.got.subarray(0, r.mlength)).toEqual(r.data.subarray(0, r.mlength));
        expect(r.got.subarray(r.mlength).every((b) => b === 0)).toBe(true);
        expect(r.stagingBusy).toBe(0);
      }),
      { seed: 2, numRuns: 25 },
    );
  });

  it('leaves the entry untouched when the handler drops the message', () => {
    const r = putThroughHandler(4096, 4096, 8, 1);
    expect(r.events).toBe(0);
    expect(r.got.every((b) => b === 0)).toBe(true);
    expect(r.stagingBusy).toBe(0);
  });
});
