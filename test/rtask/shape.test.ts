import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RTASK } from '../../kernel/abi.ts';
import { ALGORITHMS, CREATIONS, PAGINGS, SOURCE, childrenOf, creatorOf, depthOf, pagerOf, subtreeSize } from '../../kernel/rtask/shape.ts';
import { planOf, planWord } from '../../kernel/rtask/wire.ts';

describe('remote task creation shapes', () => {
  it('has the source create every task itself in the flat shapes', () => {
    expect(childrenOf('flat', SOURCE, 4)).toEqual([0, 1, 2, 3]);
    expect(childrenOf('flat-mt', SOURCE, 3)).toEqual([0, 1, 2]);
    expect(childrenOf('flat', 2, 4)).toEqual([]);
    expect(creatorOf('flat', 3)).toBe(SOURCE);
  });

  it('builds the seed\'s binary spanning tree: two tasks first, then each creates two more', () => {
    expect(childrenOf('tree', SOURCE, 10)).toEqual([0, 1]);
    expect(childrenOf('tree', 0, 10)).toEqual([2, 3]);
    expect(childrenOf('tree', 1, 10)).toEqual([4, 5]);
    expect(childrenOf('tree', 3, 10)).toEqual([8, 9]);
    expect(childrenOf('tree', 4, 10)).toEqual([]);
    expect(depthOf('tree', 0)).toBe(1);
    expect(depthOf('tree', 2)).toBe(2);
    expect(depthOf('tree', 5)).toBe(2);
    expect(depthOf('tree', 6)).toBe(3);
  });

  it('covers every rank exactly once, each created by the node that lists it as a child', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.constantFrom(...CREATIONS), (size, creation) => {
        const seen = new Array<number>(size).fill(0);
        const stack = [SOURCE];
        while (stack.length > 0) {
          const r = stack.pop()!;
          for (const c of childrenOf(creation, r, size)) {
            seen[c]++;
            expect(creatorOf(creation, c)).toBe(r);
            stack.push(c);
          }
        }
        expect(seen.every((x) => x === 1)).toBe(true);
        expect(subtreeSize(creation, SOURCE, size)).toBe(size);
      }),
      { seed: 14, numRuns: 200 },
    );
  });

  it('pages a task from the source in a flat paging tree and from its creator in a hierarchical one', () => {
    expect(pagerOf('flat', 7)).toBe(SOURCE);
    expect(pagerOf('tree', 7)).toBe(creatorOf('tree', 7));
    expect(pagerOf('tree', 0)).toBe(SOURCE);
  });

  it('keeps the ABI codes and the kernel\'s lists in one order', () => {
    expect(ALGORITHMS[RTASK.ALGORITHM_NTC]).toBe('ntc');
    expect(ALGORITHMS[RTASK.ALGORITHM_CRTC]).toBe('crtc');
    expect(CREATIONS[RTASK.CREATION_FLAT]).toBe('flat');
    expect(CREATIONS[RTASK.CREATION_FLAT_MT]).toBe('flat-mt');
    expect(CREATIONS[RTASK.CREATION_TREE]).toBe('tree');
    expect(PAGINGS[RTASK.PAGING_FLAT]).toBe('flat');
    expect(PAGINGS[RTASK.PAGING_TREE]).toBe('tree');
  });

  it('carries a creation plan in one word and refuses a word that is not one', () => {
    for (const algorithm of ALGORITHMS)
      for (const creation of CREATIONS)
        for (const paging of PAGINGS)
          for (const nms of [false, true]) {
            const plan = { algorithm, creation, paging, nms, threads: 5 };
            expect(planOf(planWord(plan))).toEqual(plan);
          }
    expect(planOf(-1)).toBeNull();
    expect(planOf(0.5)).toBeNull();
    expect(planOf(6)).toBeNull();
    expect(planOf(0)).toBeNull();
  });
});
