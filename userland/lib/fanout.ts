// Fan-out trees for the job load: who loads whom. `flat` and
// `flat-concurrent` make rank 0 the parent of every other rank (one after
// another, or all at once); `tree:K` is the K-ary heap order; `binomial`
// gives rank r the children r + 2^i for every 2^i > r (largest subtree
// first), so each level doubles the ranks reached.

import type { Fanout } from './jobblock.ts';

export function parentOf(f: Fanout, rank: number): number {
  if (rank === 0) return -1;
  switch (f.kind) {
    case 'flat':
    case 'flat-concurrent':
      return 0;
    case 'tree':
      return Math.floor((rank - 1) / f.arity);
    case 'binomial':
      return rank - 2 ** Math.floor(Math.log2(rank));
  }
}

export function childrenOf(f: Fanout, rank: number, size: number): number[] {
  const out: number[] = [];
  switch (f.kind) {
    case 'flat':
    case 'flat-concurrent':
      if (rank === 0) for (let r = 1; r < size; r++) out.push(r);
      return out;
    case 'tree':
      for (let i = 1; i <= f.arity; i++) if (f.arity * rank + i < size) out.push(f.arity * rank + i);
      return out;
    case 'binomial': {
      let bit = 1;
      while (bit <= rank) bit *= 2;
      for (; rank + bit < size; bit *= 2) out.push(rank + bit);
      return out.reverse();
    }
  }
}

export function depthOf(f: Fanout, rank: number): number {
  let d = 0;
  for (let r = rank; r > 0; r = parentOf(f, r)) d++;
  return d;
}

/** The deepest level of the tree over `size` ranks. */
export function treeDepth(f: Fanout, size: number): number {
  if (size <= 1) return 0;
  switch (f.kind) {
    case 'flat':
    case 'flat-concurrent':
      return 1;
    case 'tree':
      return depthOf(f, size - 1);
    case 'binomial': {
      const m = size - 1;
      const bits = Math.floor(Math.log2(m)) + 1;
      let pop = 0;
      for (let x = m; x > 0; x = Math.floor(x / 2)) pop += x % 2;
      return Math.max(pop, bits - 1);
    }
  }
}

/** Every rank in the subtree of `rank` (itself included). */
export function subtreeOf(f: Fanout, rank: number, size: number): number[] {
  const out = [rank];
  for (let i = 0; i < out.length; i++) out.push(...childrenOf(f, out[i], size));
  return out;
}
