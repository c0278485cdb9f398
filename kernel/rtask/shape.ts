// The shapes of remote task creation (seed 002, section 3): who creates
// which task, and which node a task's paging path points to. Positions
// number the source as 0 and rank r as r + 1; the spanning tree is the
// binary heap over positions ("first, two tasks are created on two nodes,
// then these two tasks each create tasks on two subsequent nodes"). Pure
// functions of (rank, size): every node computes its own subtree, so a
// creation message carries no list of ranks.

/** The single-task algorithm: Mach's norma_task_create, or crtc's batched and overlapped one. */
export type Algorithm = 'ntc' | 'crtc';
/** Who creates the tasks: the source one after another, several source threads, or the spanning tree. */
export type Creation = 'flat' | 'flat-mt' | 'tree';
/** Where a task's paging path points: the source (flat) or its parent in the creation tree. */
export type Paging = 'flat' | 'tree';

export const ALGORITHMS: readonly Algorithm[] = ['ntc', 'crtc'];
export const CREATIONS: readonly Creation[] = ['flat', 'flat-mt', 'tree'];
export const PAGINGS: readonly Paging[] = ['flat', 'tree'];

/** The source's "rank" in the shapes below. */
export const SOURCE = -1;

/** The ranks `rank` (SOURCE for the source) creates itself, in order. */
export function childrenOf(creation: Creation, rank: number, size: number): number[] {
  if (creation !== 'tree') {
    if (rank !== SOURCE) return [];
    return Array.from({ length: size }, (_, i) => i);
  }
  const pos = rank + 1;
  const out: number[] = [];
  for (const c of [2 * pos + 1, 2 * pos + 2]) if (c - 1 < size) out.push(c - 1);
  return out;
}

/** The rank that creates `rank` (SOURCE for the source). */
export function creatorOf(creation: Creation, rank: number): number {
  if (creation !== 'tree') return SOURCE;
  return parentPos(rank + 1) - 1;
}

function parentPos(pos: number): number {
  return Math.floor((pos - 1) / 2);
}

/** The rank whose node pages `rank` in (SOURCE: the source node). */
export function pagerOf(paging: Paging, rank: number): number {
  return paging === 'flat' ? SOURCE : parentPos(rank + 1) - 1;
}

/** Depth of `rank` below the source (1 for the source's own children). */
export function depthOf(creation: Creation, rank: number): number {
  if (creation !== 'tree') return 1;
  return Math.floor(Math.log2(rank + 2));
}

/** Every rank in the subtree `rank` heads, itself included (SOURCE: every rank). */
export function subtreeSize(creation: Creation, rank: number, size: number): number {
  if (rank === SOURCE) return size;
  if (creation !== 'tree') return 1;
  let n = 0;
  const stack = [rank];
  while (stack.length > 0) {
    const r = stack.pop()!;
    n++;
    stack.push(...childrenOf(creation, r, size));
  }
  return n;
}
