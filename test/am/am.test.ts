// Active Messages semantics (seed 001): a message names its handler by its
// index in the SPMD table; handlers run when the receiver polls, never
// block, and a request handler replies at most once. Every property holds
// over U-Net (user level) and over Portals (through the kernel), with the
// same results.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Am, type AmToken, amStart } from '../../userland/lib/am/am.ts';
import { TRANSPORTS, runAm } from './harness.ts';

describe.each(TRANSPORTS)('Active Messages over %s', (name) => {
  it('runs the named handler at the receiver, whose reply runs the named handler back at the requester', () => {
    const r = runAm(name, 2, function* (env, t) {
      let got = -1;
      const am: Am = yield* amStart(env, t, [
        function* ping(tok, x, y) {
          yield* tok.reply(1, x * y, tok.src);
        },
        function* pong(_tok, product, from) {
          got = product * 10 + from;
        },
      ]);
      if (t.rank === 0) {
        yield* am.request(1, 0, 6, 7);
        yield* am.waitUntil(() => got >= 0);
        yield* env.sys.publish('got', got);
      } else {
        yield* am.waitUntil(() => am.stats.handled >= 1);
      }
      yield* am.flush();
    });
    expect(r.ranks.map((x) => x.status)).toEqual([0, 0]);
    expect(r.ranks[0].results.got).toBe(420);
  });

  it('refuses a second reply from one request handler, naming the handler', () => {
    const r = runAm(name, 2, function* (env, t) {
      const am = yield* amStart(env, t, [
        function* greedy(tok) {
          yield* tok.reply(1);
          yield* tok.reply(1);
        },
        function* pong() {},
      ]);
      if (t.rank === 0) yield* am.request(1, 0);
      else yield* am.waitUntil(() => false);
      yield* am.flush();
    });
    expect(r.ranks[1].status).not.toBe(0);
    expect(r.ranks[1].reason).toMatch(/handler 0 \(greedy\) replied twice: a request handler may reply once/);
  });

  it('drops and counts a reply whose handler tries to reply (a reply may not be answered), and goes on', () => {
    const r = runAm(name, 2, function* (env, t) {
      const am = yield* amStart(env, t, [
        function* ping(tok) {
          yield* tok.reply(1);
        },
        function* pong(tok) {
          yield* tok.reply(1);
        },
      ]);
      if (t.rank === 0) yield* am.request(1, 0);
      yield* am.waitUntil(() => am.stats.dropped > 0 || am.stats.handled > 0);
      yield* am.flush();
      yield* env.sys.nanosleep(100_000);
      yield* env.sys.publish('dropped', am.stats.drops.kind);
      yield* env.sys.publish('handled', am.stats.handled);
    });
    expect(r.ranks.map((x) => x.status)).toEqual([0, 0]);
    expect(r.ranks[0].results).toEqual({ dropped: 1, handled: 0 });
    expect(r.ranks[1].results).toEqual({ dropped: 0, handled: 1 });
  });

  it('refuses a reply through a token kept after its handler returned', () => {
    const r = runAm(name, 2, function* (env, t) {
      const kept: AmToken[] = [];
      const am = yield* amStart(env, t, [
        function* ping(tok) {
          kept.push(tok);
        },
        function* pong() {},
      ]);
      if (t.rank === 0) {
        yield* am.request(1, 0);
        yield* am.waitUntil(() => false);
      } else {
        yield* am.waitUntil(() => kept.length > 0);
        yield* kept[0].reply(1);
      }
    });
    expect(r.ranks[1].reason).toMatch(/a reply from handler 0 \(ping\) after it returned/);
  });

  it('refuses a handler that polls, waits or sends a request: handlers do not block', () => {
    for (const misuse of ['poll', 'request', 'waitUntil', 'get'] as const) {
      const r = runAm(name, 2, function* (env, t) {
        const am: Am = yield* amStart(env, t, [
          function* blocking() {
            if (misuse === 'poll') yield* am.poll();
            if (misuse === 'request') yield* am.request(0, 0);
            if (misuse === 'waitUntil') yield* am.waitUntil(() => true);
            if (misuse === 'get') yield* am.get(0, 0, 0, 0, 0);
          },
        ]);
        if (t.rank === 0) yield* am.request(1, 0);
        else yield* am.waitUntil(() => false);
        yield* am.flush();
      });
      expect(r.ranks[1].reason).toContain(`handler 0 (blocking) called ${misuse}: handlers do not block`);
    }
  });

  it('refuses a handler index outside the table, a rank outside the job and too many arguments, with the reason', () => {
    const reasons = [
      (am: Am) => am.request(1, 5),
      (am: Am) => am.request(2, 0),
      (am: Am) => am.request(1, 0, 1, 2, 3, 4, 5),
      (am: Am) => am.request(1, 0, 0.5),
    ].map((bad) => {
      const r = runAm(name, 2, function* (env, t) {
        const am = yield* amStart(env, t, [function* h() {}]);
        if (t.rank === 0) yield* bad(am);
      });
      return r.ranks[0].reason;
    });
    expect(reasons[0]).toMatch(/no handler 5 \(the table has 1\)/);
    expect(reasons[1]).toMatch(/no rank 2 \(the job has 2\)/);
    expect(reasons[2]).toMatch(/5 arguments \(at most 4\)/);
    expect(reasons[3]).toMatch(/argument 0.5 is not a whole number/);
  });

  it('runs the handlers of one sender in the order it sent them (seeded property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: -1e9, max: 1e9 })), { minLength: 1, maxLength: 40 }), (msgs) => {
        const r = runAm(name, 2, function* (env, t) {
          const seen: number[] = [];
          const am = yield* amStart(env, t, [0, 1, 2].map((h) => function* (_tok, v) {
            seen.push(h, v);
          }));
          if (t.rank === 0) for (const [h, v] of msgs) yield* am.request(1, h, v);
          else {
            yield* am.waitUntil(() => seen.length === 2 * msgs.length);
            yield* env.sys.publish('order', seen.reduce((a, x) => (a * 31 + x) % 1_000_000_007, 7));
          }
          yield* am.flush();
        });
        const expected = msgs.flat().reduce((a, x) => (a * 31 + x) % 1_000_000_007, 7);
        expect(r.ranks[1].results.order).toBe(expected);
      }),
      { seed: 13, numRuns: 6 },
    );
  });

  it('stores bytes into the receiver and gets them back, running the handler once the data is there', () => {
    const r = runAm(name, 2, function* (env, t) {
      const a = yield* env.mem.alloc(4096);
      const b = yield* env.mem.alloc(4096);
      let stored = 0;
      let fetched = -1;
      const am = yield* amStart(env, t, [
        function* onStore(tok, tag) {
          const bytes = yield* env.mem.load(tok.addr, tok.len);
          stored = bytes.reduce((s, x) => s + x, 0) + tag;
        },
        function* onGet(tok) {
          const bytes = yield* env.mem.load(tok.addr, tok.len);
          fetched = bytes.reduce((s, x) => s + x, 0);
        },
      ]);
      am.expose(a, 4096);
      am.expose(b, 4096);
      if (t.rank === 0) {
        yield* env.mem.store(a, Uint8Array.from({ length: 3000 }, (_, i) => i % 251));
        yield* am.store(1, a, b, 3000, 0, 1_000_000);
        yield* am.get(1, b, a + 100, 3000, 1);
        yield* am.waitUntil(() => fetched >= 0);
        yield* env.sys.publish('fetched', fetched);
      } else {
        yield* am.waitUntil(() => stored > 0 && am.stats.handled >= 2);
        yield* env.sys.publish('stored', stored);
      }
      yield* am.flush();
    });
    const sum = Array.from({ length: 3000 }, (_, i) => i % 251).reduce((s, x) => s + x, 0);
    expect(r.ranks[1].results.stored).toBe(sum + 1_000_000);
    expect(r.ranks[0].results.fetched).toBe(sum);
  });

  it('delivers a message a rank sends to itself at its next poll, without the network', () => {
    const r = runAm(name, 2, function* (env, t) {
      let v = 0;
      const am = yield* amStart(env, t, [
        function* self(_tok, x) {
          v = x;
        },
      ]);
      yield* am.request(t.rank, 0, 99 + t.rank);
      yield* am.waitUntil(() => v !== 0);
      yield* env.sys.publish('v', v);
    });
    expect(r.ranks.map((x) => x.results.v)).toEqual([99, 100]);
  });
});

describe('the two transports', () => {
  it('give the same results for the same program, and the same run twice gives the same time', () => {
    const body = function* (env: Parameters<Parameters<typeof runAm>[2]>[0], t: Parameters<Parameters<typeof runAm>[2]>[1]) {
      let acc = 0;
      const am = yield* amStart(env, t, [
        function* add(tok, x) {
          acc += x * (tok.src + 1);
          yield* tok.reply(1, x);
        },
        function* ack(_tok, v) {
          acc += v;
        },
      ]);
      for (let i = 1; i <= 5; i++) yield* am.request((t.rank + 1) % t.size, 0, i * 10 + t.rank);
      yield* am.waitUntil(() => am.stats.handled >= 10);
      yield* env.sys.publish('acc', acc);
      yield* am.flush();
    };
    const u = runAm('unet', 3, body);
    const p = runAm('portals', 3, body);
    expect(u.ranks.map((x) => x.status)).toEqual([0, 0, 0]);
    expect(u.ranks.map((x) => x.results)).toEqual(p.ranks.map((x) => x.results));
    expect(runAm('unet', 3, body).endNs).toBe(u.endNs);
    expect(runAm('portals', 3, body).endNs).toBe(p.endNs);
  });
});
