// The remote-tasking service's requests (service 'rtask' over the kernel
// IPC transport, kernel/ipc/): the first word names the operation, the
// second the job. A creation message carries the address-space template's
// descriptor and the job block as its payload, never the pages.

import { ALGORITHMS, type Algorithm, CREATIONS, type Creation, PAGINGS, type Paging } from './shape.ts';

export const SERVICE = 'rtask';

export const OP = {
  /** crtc: create the task with every area batched, then the subtree; reply when the subtree is ready. */
  create: 1,
  /** ntc, one step each: an empty task, one VM area (and its paging path), the task's state, its thread. */
  task: 2,
  area: 3,
  state: 4,
  thread: 5,
  /** A child sets up its paging path for an area: the pager takes a reference on its object. */
  attach: 6,
  /** No More Senders: a node that got a send right tells the receive right's node (the seed's count update). */
  nms: 7,
  /** Copy on reference: a page of an area, from the pager (which may ask its own pager first). */
  page: 8,
  /** Release a reference on an area's object (the serialized tear-down of VM objects). */
  detach: 9,
  /** Start the created task's thread (and, in a tree, pass it on). */
  start: 10,
  /** Terminate the task and tear down its objects; reply when they are gone. */
  terminate: 11,
  /** A task's node tells the source that the task died of a failed page-in (a post; the reason is the payload). */
  failed: 12,
} as const;

export type Op = keyof typeof OP;
const OP_OF = new Map<number, Op>(Object.entries(OP).map(([k, v]) => [v, k as Op]));

export function opOf(w: number): Op | undefined {
  return OP_OF.get(w);
}

/** How a job's tasks are created, as the words of a creation request carry it. */
export interface Plan {
  readonly algorithm: Algorithm;
  readonly creation: Creation;
  readonly paging: Paging;
  readonly nms: boolean;
  /** Creating threads at the source (flat-mt). */
  readonly threads: number;
}

/** The plan as one word: algorithm, creation, paging, nms and threads in bit fields. */
export function planWord(p: Plan): number {
  return ALGORITHMS.indexOf(p.algorithm) | (CREATIONS.indexOf(p.creation) << 1) | (PAGINGS.indexOf(p.paging) << 3) | ((p.nms ? 1 : 0) << 4) | (p.threads << 5);
}

export function planOf(w: number): Plan | null {
  if (!Number.isSafeInteger(w) || w < 0) return null;
  const algorithm = ALGORITHMS[w & 1];
  const creation = CREATIONS[(w >> 1) & 3];
  const paging = PAGINGS[(w >> 3) & 1];
  const threads = Math.floor(w / 32);
  if (creation === undefined || !(threads >= 1 && threads <= MAX_THREADS)) return null;
  return { algorithm, creation, paging, nms: ((w >> 4) & 1) === 1, threads };
}

/** Most creating threads at the source. */
export const MAX_THREADS = 64;

/**
 * A creation request's words (crtc's create and ntc's task): op, job, rank,
 * plan, the source node, the owner's uid, the template's length at the
 * start of the payload (the job block follows), the job's timeout (how long
 * a node asked may stay silent) and the slice tear-down waits (ps).
 */
export interface CreateWords {
  readonly jobId: number;
  readonly rank: number;
  readonly plan: Plan;
  readonly srcNid: number;
  readonly uid: number;
  readonly templateLen: number;
  readonly timeout: number;
  readonly slice: number;
}

export function createWords(op: 'create' | 'task', c: CreateWords): number[] {
  return [OP[op], c.jobId, c.rank, planWord(c.plan), c.srcNid, c.uid, c.templateLen, c.timeout, c.slice];
}

export function parseCreateWords(w: readonly number[]): CreateWords | null {
  if (w.length < 9) return null;
  const plan = planOf(w[3]);
  if (plan === null || !w.slice(1).every((x) => Number.isSafeInteger(x) && x >= 0)) return null;
  return { jobId: w[1], rank: w[2], plan, srcNid: w[4], uid: w[5], templateLen: w[6], timeout: w[7], slice: w[8] };
}
