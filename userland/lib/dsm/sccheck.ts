// The randomized sequential-consistency checker. Every rank issues random
// reads and writes to a few shared locations spread over several pages.
// A write to location l takes lock l, reads l's version k-1 and stores k:
// that is how the run records the order of the writes to each location (a
// version number). Reads take no lock and race with the writes and with
// each other. Each rank logs its operations in program order, in its own
// pages of the region; rank 0 then builds the graph of
//   program order, reads-from (write k -> a read of k), write order
//   (k -> k+1) and from-reads (a read of k -> write k+1)
// and looks for a cycle: a cycle means no single global order of all the
// operations explains what every read returned, i.e. a violation of
// sequential consistency. Its absence means such an order exists.

import type { U } from '../ops.ts';
import type { Env } from '../runtime.ts';
import type { Dsm } from './api.ts';
import { rng } from './litmus.ts';

export interface CheckerConfig {
  readonly ops: number; // per thread
  /** Threads per rank: the first does reads and locked writes; the others only unlocked reads (lock() belongs to the opening thread). */
  readonly threads?: number;
  readonly locations: number;
  readonly writePercent: number;
  readonly seed: number;
  readonly maxDelayCycles: number;
}

export interface CheckerResult {
  readonly operations: number;
  readonly reads: number;
  readonly writes: number;
  readonly violations: number;
  /** A read returned a version no write produced (also a violation). */
  readonly impossibleReads: number;
}

const PAGE = 4096;
/** Pages of shared locations (each location is 8 bytes; locations are spread across these pages). */
export const CHECKER_DATA_PAGES = 4;

/** Pages a region needs for `ranks` ranks of `threads` threads doing `ops` operations each. */
export function checkerPages(ranks: number, ops: number, threads = 1): number {
  return CHECKER_DATA_PAGES + ranks * threads * Math.ceil((8 * ops) / PAGE);
}

/** Runs the checker (every rank calls it); rank 0 returns the result, the others null. */
export function* runChecker(env: Env, dsm: Dsm, rank: number, size: number, cfg: CheckerConfig): U<CheckerResult | null> {
  const threads = cfg.threads ?? 1;
  const logPages = Math.ceil((8 * cfg.ops) / PAGE);
  const logOf = (thread: number) => dsm.base + (CHECKER_DATA_PAGES + thread * logPages) * PAGE;
  // Location l: page l mod CHECKER_DATA_PAGES, slot l div CHECKER_DATA_PAGES.
  const addr = (l: number) => dsm.base + (l % CHECKER_DATA_PAGES) * PAGE + 8 * Math.floor(l / CHECKER_DATA_PAGES);
  // One thread's operations, logged in its own pages of the region (thread id = rank * threads + k).
  function* work(t: Env, k: number): U {
    const next = rng((cfg.seed ^ Math.imul(rank * threads + k + 1, 0x9e3779b1)) >>> 0);
    const log: bigint[] = [];
    for (let i = 0; i < cfg.ops; i++) {
      const d = Math.floor(next() * cfg.maxDelayCycles);
      if (d > 0) yield* t.compute(d);
      const l = Math.floor(next() * cfg.locations);
      if (k === 0 && next() * 100 < cfg.writePercent) {
        yield* dsm.lock(l);
        const v = (yield* t.mem.loadU32(addr(l))) + 1;
        yield* t.mem.storeU32(addr(l), v);
        yield* dsm.unlock(l);
        log.push(entry(1, l, v));
      } else log.push(entry(0, l, yield* t.mem.loadU32(addr(l))));
    }
    for (const [i, e] of log.entries()) yield* t.mem.storeU64(logOf(rank * threads + k) + 8 * i, e);
  }
  yield* dsm.barrier();
  const helpers = [];
  for (let k = 1; k < threads; k++) helpers.push(yield* env.spawn((t, arg) => work(t, arg), k));
  yield* work(env, 0);
  for (const h of helpers) yield* env.join(h);
  yield* dsm.barrier();
  if (rank !== 0) return null;
  const logs: { write: boolean; loc: number; v: number }[][] = [];
  for (let th = 0; th < size * threads; th++) {
    const ops: { write: boolean; loc: number; v: number }[] = [];
    for (let i = 0; i < cfg.ops; i++) {
      const e = yield* env.mem.loadU64(logOf(th) + 8 * i);
      ops.push({ write: (e >> 56n) === 1n, loc: Number((e >> 32n) & 0xffffn), v: Number(e & 0xffffffffn) });
    }
    logs.push(ops);
  }
  return checkSc(logs, cfg.locations);
}

const entry = (write: number, loc: number, v: number) => (BigInt(write) << 56n) | (BigInt(loc) << 32n) | BigInt(v >>> 0);

/**
 * Is there one global order of the operations (per-thread logs in program
 * order; a write's value is its location's version) in which every read
 * returns the latest write? Returns the counts, with violations = 1 when
 * the graph has a cycle (0 otherwise) plus reads of versions never written.
 */
export function checkSc(logs: readonly (readonly { write: boolean; loc: number; v: number }[])[], locations: number): CheckerResult {
  // Node ids: the operations in order, then one initial write (version 0) per location.
  const ids: number[][] = [];
  let n = 0;
  for (const ops of logs) ids.push(ops.map(() => n++));
  const init = Array.from({ length: locations }, () => n++);
  const writeOf = new Map<string, number>(); // `${loc}:${v}` -> node
  for (let l = 0; l < locations; l++) writeOf.set(`${l}:0`, init[l]);
  let reads = 0;
  let writes = 0;
  let impossible = 0;
  for (const [t, ops] of logs.entries()) {
    for (const [i, op] of ops.entries()) {
      if (!op.write) continue;
      writes++;
      const key = `${op.loc}:${op.v}`;
      if (writeOf.has(key)) impossible++; // two writes with one version: the lock did not serialise them
      writeOf.set(key, ids[t][i]);
    }
  }
  const edges: number[][] = Array.from({ length: n }, () => []);
  const edge = (a: number, b: number) => edges[a].push(b);
  for (const [t, ops] of logs.entries()) {
    for (let i = 0; i + 1 < ops.length; i++) edge(ids[t][i], ids[t][i + 1]); // program order
    for (const [i, op] of ops.entries()) {
      const self = ids[t][i];
      // A write of version k reads-from version k-1 first (under the lock) and follows it in write order.
      const from = writeOf.get(`${op.loc}:${op.write ? op.v - 1 : op.v}`);
      if (from === undefined) {
        impossible++;
        continue;
      }
      if (op.write) edge(from, self);
      else {
        reads++;
        edge(from, self); // reads-from
        const later = writeOf.get(`${op.loc}:${op.v + 1}`);
        if (later !== undefined) edge(self, later); // from-read: the next write comes after this read
      }
    }
  }
  return { operations: reads + writes, reads, writes, violations: (hasCycle(edges) ? 1 : 0) + impossible, impossibleReads: impossible };
}

/** Kahn's algorithm: a cycle leaves nodes with incoming edges. */
function hasCycle(edges: readonly number[][]): boolean {
  const indeg = new Array<number>(edges.length).fill(0);
  for (const out of edges) for (const b of out) indeg[b]++;
  const ready: number[] = [];
  for (let i = 0; i < edges.length; i++) if (indeg[i] === 0) ready.push(i);
  let seen = 0;
  while (ready.length > 0) {
    const a = ready.pop() as number;
    seen++;
    for (const b of edges[a]) if (--indeg[b] === 0) ready.push(b);
  }
  return seen < edges.length;
}
