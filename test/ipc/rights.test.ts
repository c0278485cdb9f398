import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GENERATIONS, MAX_RIGHTS, type Right, RightTable } from '../../kernel/ipc/rights.ts';

describe('a task\'s right table', () => {
  it('resolves a name to the right inserted under it, and a freed name to nothing, whatever the order of inserts and removes', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.nat(40)), { maxLength: 300 }), (ops) => {
        const t = new RightTable();
        const live = new Map<number, Right>();
        const freed = new Set<number>();
        let port = 0;
        for (const op of ops) {
          if (op === -1 || live.size === 0) {
            const r: Right = { kind: 'send', port: port++, nms: false };
            const name = t.insert(r)!;
            expect(live.has(name)).toBe(false);
            live.set(name, r);
            freed.delete(name);
          } else {
            const name = [...live.keys()][op % live.size];
            expect(t.remove(name)).toBe(live.get(name));
            live.delete(name);
            freed.add(name);
          }
          for (const [name, r] of live) expect(t.get(name)).toBe(r);
          for (const name of freed) expect(t.get(name)).toBeUndefined();
        }
        expect(t.size).toBe(live.size);
      }),
      { seed: 14, numRuns: 100 },
    );
  });

  it('never lets a freed name denote a right again, however often its slot is reused', () => {
    const t = new RightTable();
    const first = t.insert({ kind: 'send', port: 1, nms: false })!;
    t.remove(first);
    const seen = new Set<number>([first]);
    for (let i = 0; i < 10 * GENERATIONS; i++) {
      const n = t.insert({ kind: 'send', port: 2 + i, nms: false })!;
      expect(seen.has(n)).toBe(false);
      seen.add(n);
      expect(t.get(first)).toBeUndefined();
      t.remove(n);
    }
  });

  it('never hands out a name twice in any sequence of inserts and removes (a property over long runs of reuse)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(7)), { minLength: 1, maxLength: 2000 }), (ops) => {
        const t = new RightTable();
        const live: number[] = [];
        const everGiven = new Set<number>();
        for (const [ins, pick] of ops) {
          if (ins || live.length === 0) {
            const name = t.insert({ kind: 'send', port: everGiven.size, nms: false })!;
            expect(everGiven.has(name)).toBe(false);
            expect(Number.isSafeInteger(name)).toBe(true);
            everGiven.add(name);
            live.push(name);
          } else {
            t.remove(live.splice(pick % live.length, 1)[0]);
          }
        }
        for (const name of everGiven) if (!live.includes(name)) expect(t.get(name)).toBeUndefined();
      }),
      { seed: 1414, numRuns: 200 },
    );
  });

  it(`holds at most ${MAX_RIGHTS} rights and refuses more without throwing`, () => {
    const t = new RightTable();
    for (let i = 0; i < MAX_RIGHTS; i++) expect(t.insert({ kind: 'send', port: i, nms: false })).not.toBeNull();
    expect(t.insert({ kind: 'send', port: -1, nms: false })).toBeNull();
  });

  it('resolves nothing for names that are not names (negative, fractional, huge)', () => {
    const t = new RightTable();
    t.insert({ kind: 'receive', port: 1, nms: false });
    for (const n of [-1, 0.5, 1.5, 2 ** 60, Number.NaN, Infinity]) expect(t.get(n)).toBeUndefined();
  });
});
