// A receiving rank survives whatever arrives: a message that is not an
// Active Message, names no handler, lacks its arguments, lies about its
// length or moves bulk data outside the memory the rank exposed is dropped
// and counted (am.stats.dropped, by reason), and the sender a handler sees
// is the rank the transport says sent it, whatever the header claims. The
// attacker is a rank of the same job writing raw bytes into the transport.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Am, amStart } from '../../userland/lib/am/am.ts';
import type { AmTransport } from '../../userland/lib/am/transport.ts';
import { AM_HEADER_BYTES, AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import type { Env } from '../../userland/lib/runtime.ts';
import type { U } from '../../userland/lib/ops.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { TRANSPORTS, runAm } from './harness.ts';

/** Both ranks map this right after the transport: the same address on each (SPMD). */
function* exposedPage(env: Env): U<number> {
  return yield* env.sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
}

/** A header with its fields as given (no checks: this is the attacker's encoder). */
function raw(kind: number, handler: number, src: number, dataLen: number, args: readonly number[]): Uint8Array {
  return encodeHeader({ kind: kind as 0, handler, src, dataLen, args });
}

/** Rank 0 sends `msgs` raw, `batch` at a time with a pause, to rank 1, which polls until all are handled or dropped. */
function attack(name: (typeof TRANSPORTS)[number], msgs: (page: number) => Uint8Array[], batch = 8) {
  return runAm(name, 2, function* (env, t: AmTransport) {
    const page = yield* exposedPage(env);
    const list = msgs(page);
    if (t.rank === 0) {
      for (let i = 0; i < list.length; i++) {
        yield* env.mem.store(page, list[i]);
        yield* t.send(1, new Uint8Array(0), page, list[i].length);
        if (i % batch === batch - 1) yield* env.compute(400_000);
      }
      yield* t.flush();
      return 0;
    }
    let ran = 0;
    const am: Am = yield* amStart(env, t, [
      function* count() {
        ran++;
      },
    ]);
    am.expose(page, 4096);
    yield* am.waitUntil(() => am.stats.handled + am.stats.dropped >= list.length);
    yield* env.sys.publish('ran', ran);
    yield* env.sys.publish('handled', am.stats.handled);
    yield* env.sys.publish('dropped', am.stats.dropped);
    for (const [why, n] of Object.entries(am.stats.drops)) yield* env.sys.publish(`drop_${why}`, n);
    return 0;
  });
}

describe.each(TRANSPORTS)('a receiving rank over %s', (name) => {
  it('drops and counts a message naming no handler, short of arguments, lying about its length, or storing outside exposed memory, and keeps running', () => {
    const r = attack(name, (page) => {
      const data = (h: Uint8Array, n: number) => {
        const b = new Uint8Array(h.length + n);
        b.set(h);
        return b;
      };
      return [
        new Uint8Array([1, 2, 3]), // not an Active Message
        raw(AM_KIND.REQUEST, 7, 0, 0, []), // no handler 7
        data(raw(AM_KIND.STORE, 0, 0, 16, []), 16), // a store without its address
        data(raw(AM_KIND.STORE, 0, 0, 16, [0x10]), 16), // a wild address
        data(raw(AM_KIND.STORE, 0, 0, 16, [page + 4090]), 16), // runs past the exposed page
        data(raw(AM_KIND.STORE, 0, 0, 1000, [page]), 16), // says 1000 bytes, carries 16
        raw(AM_KIND.GET, 0, 0, 0, [0x10, 64, page]), // reads a wild address
        raw(AM_KIND.GET, 0, 0, 0, [page, 1 << 30, page]), // asks for more than one message carries
        raw(AM_KIND.REQUEST, 0, 0, 0, [1]), // a good one, to show the rank still works
        data(raw(AM_KIND.STORE, 0, 0, 16, [page + 64]), 16), // a good store
      ];
    });
    const rx = r.ranks[1];
    expect(rx.status).toBe(0);
    expect(rx.results.ran).toBe(2);
    expect(rx.results.dropped).toBe(8);
    expect([rx.results.drop_malformed, rx.results.drop_handler, rx.results.drop_args, rx.results.drop_address, rx.results.drop_length]).toEqual([1, 1, 1, 3, 2]);
  });

  it('tells a handler the sender the transport knows, not the rank the header claims', () => {
    const r = runAm(name, 3, function* (env, t) {
      const page = yield* exposedPage(env);
      let from = -1;
      const am = yield* amStart(env, t, [
        function* who(tok) {
          from = tok.src;
        },
      ]);
      if (t.rank === 2) {
        // Rank 2 claims to be rank 0.
        yield* env.mem.store(page, raw(AM_KIND.REQUEST, 0, 0, 0, []));
        yield* t.send(1, new Uint8Array(0), page, AM_HEADER_BYTES);
        yield* t.flush();
      }
      if (t.rank === 1) {
        yield* am.waitUntil(() => from >= 0);
        yield* env.sys.publish('from', from);
      }
    });
    expect(r.ranks.map((x) => x.status)).toEqual([0, 0, 0]);
    expect(r.ranks[1].results.from).toBe(2);
  });

  it('survives a seeded stream of random bytes and mutated Active Messages: every message is handled or counted as dropped', () => {
    const N = 160;
    const gen = (page: number): Uint8Array[] => {
      const valid = fc.oneof(
        fc.record({ h: fc.constant(0), args: fc.array(fc.integer({ min: -1e6, max: 1e6 }), { maxLength: 4 }) }).map(({ args }) => raw(AM_KIND.REQUEST, 0, 1, 0, args)),
        fc.integer({ min: 0, max: 256 }).map((n) => {
          const b = new Uint8Array(AM_HEADER_BYTES + n);
          b.set(raw(AM_KIND.STORE, 0, 0, n, [page + 128]));
          return b;
        }),
        fc.integer({ min: 0, max: 512 }).map((n) => raw(AM_KIND.GET, 0, 0, 0, [page, n, page])),
      );
      const mutated = fc.tuple(valid, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 255 })), { minLength: 1, maxLength: 4 }), fc.integer({ min: -8, max: 8 })).map(([b, flips, grow]) => {
        const out = new Uint8Array(Math.max(0, b.length + grow));
        out.set(b.subarray(0, Math.min(b.length, out.length)));
        for (const [at, v] of flips) if (out.length > 0) out[at % Math.min(out.length, AM_HEADER_BYTES)] = v;
        return out;
      });
      const junk = fc.uint8Array({ maxLength: 300 });
      return fc.sample(fc.oneof(junk, mutated, valid), { seed: 13, numRuns: N });
    };
    const r = attack(name, gen);
    const rx = r.ranks[1];
    expect(rx.status).toBe(0);
    expect(rx.results.handled + rx.results.dropped).toBe(N);
    expect(rx.results.dropped).toBeGreaterThan(N / 3);
    expect(rx.results.handled).toBeGreaterThan(N / 10);
  });
});
