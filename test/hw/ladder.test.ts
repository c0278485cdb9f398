import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Engine, type EventSink } from '../../hw/engine.ts';
import { LadderQueue } from '../../hw/ladder.ts';

// Reference: a plain array kept sorted by (time, seq).
function reference() {
  const items: { slot: number; time: number; seq: number }[] = [];
  return {
    push(slot: number, time: number, seq: number) {
      items.push({ slot, time, seq });
      items.sort((a, b) => a.time - b.time || a.seq - b.seq);
    },
    pop() {
      return items.shift()?.slot ?? -1;
    },
  };
}

type Op = { kind: 'push'; delay: number } | { kind: 'pop' };

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('push' as const), delay: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1e9 })) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'pop' as const }) },
);

describe('the ladder queue', () => {
  it('pops in exactly (time, insertion) order for any mix of pushes and pops', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 600 }), (ops) => {
        const q = new LadderQueue();
        q.reserve(ops.length + 1);
        const ref = reference();
        let now = 0;
        let seq = 0;
        let nextSlot = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const slot = nextSlot++;
            q.push(slot, now + o.delay, seq);
            ref.push(slot, now + o.delay, seq);
            seq++;
          } else {
            const a = q.pop();
            expect(a).toBe(ref.pop());
            if (a >= 0) now = q.timeOf(a);
          }
        }
        for (;;) {
          const a = q.pop();
          expect(a).toBe(ref.pop());
          if (a < 0) break;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps FIFO order among ten thousand events at one time mixed with later ones', () => {
    const q = new LadderQueue();
    q.reserve(20_000);
    for (let i = 0; i < 10_000; i++) q.push(i, i % 2 === 0 ? 5 : 5 + i, i);
    const out: number[] = [];
    for (let s = q.pop(); s >= 0; s = q.pop()) out.push(s);
    const evens = out.slice(0, 5000);
    expect(evens).toEqual(Array.from({ length: 5000 }, (_, i) => 2 * i));
    expect(out.slice(5000)).toEqual(Array.from({ length: 5000 }, (_, i) => 2 * i + 1));
  });
});

describe('the engine over the ladder queue', () => {
  it('matches a reference order under random scheduling and cancellation', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.boolean()), { minLength: 1, maxLength: 300 }), (plan) => {
        const e = new Engine();
        const fired: number[] = [];
        const sink: EventSink = { fire: (_k, a) => fired.push(a), describe: () => '' };
        const expected: { t: number; i: number }[] = [];
        plan.forEach(([t, cancel], i) => {
          const id = e.at(t, sink, 0, i);
          if (cancel) e.cancel(id);
          else expected.push({ t, i });
        });
        e.runUntilIdle();
        expected.sort((a, b) => a.t - b.t || a.i - b.i);
        expect(fired).toEqual(expected.map((x) => x.i));
      }),
      { numRuns: 200 },
    );
  });
});
