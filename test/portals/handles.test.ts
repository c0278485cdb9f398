import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HandleTable } from '../../kernel/portals/handles.ts';
import { type ObjectKind, handleKind, handleNi, handleSlot, makeHandle } from '../../kernel/portals/objects.ts';

const KINDS: readonly ObjectKind[] = ['eq', 'ct', 'md', 'me', 'le'];
const OWNERS = ['p1', 'p2', 'p3'] as const;
type Owner = (typeof OWNERS)[number];
interface Obj {
  readonly handle: number;
  readonly kind: ObjectKind;
  readonly owner: Owner;
}
type Table = HandleTable<Record<ObjectKind, Obj>, Owner>;

const NI = 5; // interface 1, NI kind 1: every handle bit field is exercised
const table = (): Table => new HandleTable((kind, slot) => makeHandle(kind, NI, slot));

type Op = { op: 'alloc'; kind: ObjectKind; owner: Owner } | { op: 'free'; pick: number; kind: ObjectKind; owner: Owner };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('alloc' as const), kind: fc.constantFrom(...KINDS), owner: fc.constantFrom(...OWNERS) }),
  fc.record({ op: fc.constant('free' as const), pick: fc.nat(), kind: fc.constantFrom(...KINDS), owner: fc.constantFrom(...OWNERS) }),
);

describe('the Portals handle table', () => {
  it('resolves a handle only while it is live, for its own kind and its own owner', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const t = table();
        const all: Obj[] = [];
        const live = new Set<number>();
        for (const o of ops) {
          if (o.op === 'alloc') {
            const obj = t.alloc(o.kind, o.owner, (handle) => ({ handle, kind: o.kind, owner: o.owner }));
            all.push(obj);
            live.add(obj.handle);
          } else if (all.length > 0) {
            // A free with the wrong kind or owner is refused and changes nothing.
            const target = all[o.pick % all.length];
            const ok = live.has(target.handle) && target.kind === o.kind && target.owner === o.owner;
            expect(t.free(target.handle, o.kind, o.owner)).toBe(ok);
            if (ok) live.delete(target.handle);
          }
          for (const obj of all) {
            for (const kind of KINDS) {
              for (const owner of OWNERS) {
                const want = live.has(obj.handle) && kind === obj.kind && owner === obj.owner ? obj : undefined;
                expect(t.get(obj.handle, kind, owner)).toBe(want);
              }
            }
            // A lookup accepting several kinds still refuses the others.
            expect(t.get(obj.handle, KINDS.filter((k) => k !== obj.kind), obj.owner)).toBeUndefined();
          }
          for (const kind of KINDS) {
            const want = all.filter((x) => x.kind === kind && live.has(x.handle));
            expect([...t.values(kind)]).toEqual(want);
            expect(t.count(kind)).toBe(want.length);
          }
        }
      }),
      { seed: 12, numRuns: 300 },
    );
  });

  it('numbers handles as user programs always saw them: kind, NI, then one running slot from 1 across kinds', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...KINDS), { minLength: 1, maxLength: 40 }), (kinds) => {
        const t = table();
        kinds.forEach((kind, i) => {
          const { handle } = t.alloc(kind, 'p1', (h) => ({ handle: h, kind, owner: 'p1' as const }));
          expect(handle).toBe(makeHandle(kind, NI, i + 1));
          expect([handleKind(handle), handleNi(handle), handleSlot(handle)]).toEqual([kind, NI, i + 1]);
        });
      }),
      { seed: 12, numRuns: 100 },
    );
  });

  it('never hands out a handle that is still live, even when the slot numbers wrap', () => {
    // Slots are 25 bits: after 2^25 allocations the encoding wraps to slot 0, then 1, ...
    const t = new HandleTable<Record<ObjectKind, Obj>, Owner>((kind, slot) => makeHandle(kind, NI, slot % 4));
    const first = t.alloc('md', 'p1', (handle) => ({ handle, kind: 'md' as const, owner: 'p1' as const }));
    const seen = new Set([first.handle]);
    for (let i = 0; i < 3; i++) seen.add(t.alloc('md', 'p1', (handle) => ({ handle, kind: 'md' as const, owner: 'p1' as const })).handle);
    expect(seen.size).toBe(4);
    t.free(first.handle, 'md', 'p1');
    expect(t.alloc('md', 'p1', (handle) => ({ handle, kind: 'md' as const, owner: 'p1' as const })).handle).toBe(first.handle);
  });
});
