// Locks and the barrier of the kernel DSM, served in the receive interrupt
// like the page protocol. A lock has a fixed manager (lock id mod ranks)
// that grants it to one rank at a time in request order; the barrier is
// counted by rank 0. Both are sequentially consistent with the pages: a
// rank's accesses complete (the faults block) before its unlock or arrival
// is sent. Also here: the count of detached ranks, after which every node
// frees its frames.

import type { Cpu } from '../cpu.ts';
import { type KPath, step } from '../step.ts';
import type { Thread } from '../process.ts';
import type { DsmNode } from './node.ts';
import { DSM_LOST_STATUS, type DsmRegion } from './region.ts';
import type { DsmHeader } from './wire.ts';

/** Lock ids are non-negative C ints. */
export const MAX_LOCK_ID = 2 ** 31 - 1;

/** Locks one manager keeps records of per region (held, waited for, or broken); a request past it is refused (-ENOSPC). */
export const LOCKS_PER_MANAGER = 1024;

/** The lock-grant word for a request refused because the manager's table is full. */
export const LOCK_TABLE_FULL = -1;

export function* serveSync(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  const cost = n.k.profile.values['kernel.portalsMatchCycles'];
  switch (h.type) {
    case 'lock-req': {
      if (!validLock(h.page) || r.lockManagerOf(h.page) !== r.rank) break;
      let l = r.locks.get(h.page);
      if (l === undefined && r.locks.size >= LOCKS_PER_MANAGER) {
        // A member cannot grow the manager's kernel table at will: free locks leave it, and past the bound a new one is refused.
        n.send(r, h.src, 'lock-grant', h.page, LOCK_TABLE_FULL);
        yield step('dsm', 'lock', cost, `manager: lock ${h.page} for rank ${h.src}: refused, ${LOCKS_PER_MANAGER} locks in use`);
        return;
      }
      if (l === undefined) r.locks.set(h.page, (l = { holder: -1, queue: [], diedHolding: -1 }));
      if (l.diedHolding >= 0) n.send(r, h.src, 'lock-grant', h.page, 1 + l.diedHolding);
      else if (l.holder === -1) {
        l.holder = h.src;
        n.send(r, h.src, 'lock-grant', h.page, 0);
      } else l.queue.push(h.src);
      yield step('dsm', 'lock', cost, `manager: lock ${h.page} for rank ${h.src}: ${l.diedHolding >= 0 ? `refused, rank ${l.diedHolding} ended holding it` : l.holder === h.src ? 'granted' : `queued behind rank ${l.holder}`}`);
      return;
    }
    case 'unlock': {
      const l = r.locks.get(h.page);
      if (l === undefined || l.holder !== h.src) break;
      if (h.arg !== 0) {
        // The holder ended inside its critical section: what the lock guards may be half-written, so nobody gets it again.
        l.diedHolding = h.src;
        l.holder = -1;
        for (const w of l.queue.splice(0)) n.send(r, w, 'lock-grant', h.page, 1 + h.src);
        yield step('dsm', 'lock', cost, `manager: lock ${h.page} broken: rank ${h.src} ended holding it`);
        return;
      }
      l.holder = l.queue.shift() ?? -1;
      if (l.holder >= 0) n.send(r, l.holder, 'lock-grant', h.page, 0);
      else r.locks.delete(h.page);
      yield step('dsm', 'lock', cost, `manager: lock ${h.page} released by rank ${h.src}${l.holder >= 0 ? `, granted to rank ${l.holder}` : ''}`);
      return;
    }
    case 'lock-grant': {
      if (r.lockManagerOf(h.page) !== h.src) break;
      // The next live waiter: a thread whose process ended meanwhile gets nothing (its grant is handed on below).
      const ts = r.lockWaiters.get(h.page);
      let t = ts?.shift();
      while (t !== undefined && !t.process.alive) t = ts!.shift();
      if (ts !== undefined && ts.length === 0) r.lockWaiters.delete(h.page);
      yield step('dsm', 'lock', cost, h.arg === 0 ? `lock ${h.page} granted to rank ${r.rank}` : h.arg === LOCK_TABLE_FULL ? `lock ${h.page} refused to rank ${r.rank}: its manager's table is full` : `lock ${h.page} refused to rank ${r.rank}: rank ${h.arg - 1} ended holding it`);
      if (t !== undefined) yield* n.k.wake(t, h.arg, cpu);
      else if (h.arg === 0) n.send(r, h.src, 'unlock', h.page, 0); // its thread is gone: pass the lock on
      return;
    }
    case 'arrive': {
      if (r.rank !== r.home) break;
      let at = r.arrivals.get(h.page);
      if (at === undefined) r.arrivals.set(h.page, (at = new Set()));
      at.add(h.src);
      yield step('dsm', 'barrier', cost, `epoch ${h.page}: rank ${h.src} arrived (${at.size}/${r.size})`);
      if (at.size === r.size) {
        r.arrivals.delete(h.page);
        for (let i = 0; i < r.size; i++) n.send(r, i, 'go', h.page, 0);
      } else yield* breakEpochs(n, r);
      return;
    }
    case 'go': {
      if (h.src !== r.home) break;
      yield step('dsm', 'barrier', cost, h.arg === 0 ? `epoch ${h.page} complete` : `epoch ${h.page} cannot complete: rank ${h.arg - 1} left the region`);
      yield* wakeAll(n, r.barrierWaiters, h.page, h.arg, cpu);
      return;
    }
    case 'detached': {
      if (r.rank !== r.home || r.gone.has(h.src)) break;
      r.gone.add(h.src);
      yield step('dsm', 'serve', cost, `rank ${h.src} detached (${r.gone.size}/${r.size})`);
      if (r.gone.size === r.size) for (let i = 0; i < r.size; i++) n.send(r, i, 'release', 0, 0);
      else yield* breakEpochs(n, r);
      return;
    }
    case 'release': {
      if (h.src !== r.home || !r.detached) break;
      yield step('dsm', 'serve', cost, `every rank detached: ${r.pages} frame(s) freed`);
      n.release(r);
      return;
    }
    default:
      break;
  }
  yield step('dsm', 'drop', cost, `${h.type} ${h.page} from rank ${h.src}: not expected`);
}

/**
 * Rank 0: a barrier epoch that a detached (or ended) rank has not entered can
 * never complete; the ranks waiting in it are released with the rank's name
 * (their dsm_barrier returns -ESRCH), and so is every later arrival.
 */
function* breakEpochs(n: DsmNode, r: DsmRegion): KPath {
  if (r.gone.size === 0) return;
  for (const [epoch, at] of r.arrivals) {
    let missing = -1;
    for (const g of r.gone) if (!at.has(g)) missing = missing < 0 ? g : Math.min(missing, g);
    if (missing < 0) continue;
    for (const x of at) n.send(r, x, 'go', epoch, 1 + missing);
    at.clear();
    yield step('dsm', 'barrier', n.k.profile.values['kernel.portalsMatchCycles'], `epoch ${epoch} cannot complete: rank ${missing} left the region`);
  }
}

/**
 * `node` is down (a probe could not reach it: watch.ts): its ranks are
 * departed. A lock one of them held is broken (its waiters and later
 * requests get -ESRCH, as when a holder's process ends); rank 0 counts them
 * gone (the barriers they have not entered end with -ESRCH, and the frames
 * are freed once the others detach); a rank here waiting on a lock or a
 * barrier managed there is killed, naming why.
 */
export function* syncOnNodeDown(n: DsmNode, r: DsmRegion, node: number, cpu: Cpu): KPath {
  const cost = n.k.profile.values['kernel.portalsMatchCycles'];
  const there = (rank: number) => r.nids[rank] === node;
  for (const [id, l] of [...r.locks].sort((a, b) => a[0] - b[0])) {
    const queued = l.queue.filter((x) => !there(x));
    l.queue.splice(0, l.queue.length, ...queued);
    if (l.holder < 0 || !there(l.holder)) continue;
    l.diedHolding = l.holder;
    l.holder = -1;
    for (const w of l.queue.splice(0)) n.send(r, w, 'lock-grant', id, 1 + l.diedHolding);
    yield step('dsm', 'lock', cost, `manager: lock ${id} broken: rank ${l.diedHolding} went down with node ${node}`);
  }
  if (r.rank === r.home) {
    for (let i = 0; i < r.size; i++) if (there(i)) r.gone.add(i);
    if (r.gone.size === r.size) for (let i = 0; i < r.size; i++) n.send(r, i, 'release', 0, 0);
    else yield* breakEpochs(n, r);
  }
  for (const id of [...r.lockWaiters.keys()].sort((a, b) => a - b))
    if (there(r.lockManagerOf(id))) yield* syncUnreachable(n, r, { type: 'lock-req', key: r.key, src: r.rank, page: id, arg: 0 }, node, cpu);
  if (there(r.home)) for (const epoch of [...r.barrierWaiters.keys()]) yield* syncUnreachable(n, r, { type: 'arrive', key: r.key, src: r.rank, page: epoch, arg: 0 }, node, cpu);
}

export function validLock(id: number): boolean {
  return Number.isSafeInteger(id) && id >= 0 && id <= MAX_LOCK_ID;
}

/** A lock request or a barrier arrival could not reach its manager: whoever waits for it is killed, naming why. */
export function* syncUnreachable(n: DsmNode, r: DsmRegion, h: DsmHeader, node: number, cpu: Cpu): KPath {
  if (h.type === 'unlock') return;
  const why = h.type === 'lock-req' ? `lock ${h.page} cannot be granted: node ${node}, its manager, is down` : `barrier ${h.page} cannot complete: node ${node} (rank 0) is down`;
  yield step('dsm', 'fail', n.k.profile.values['kernel.syscallWorkCycles'], why);
  const p = r.process;
  if (p !== null && p.alive) n.k.killProcess(p, DSM_LOST_STATUS, `dsm: ${why}`);
  void cpu;
}

/** Wakes every thread waiting under `key`. */
export function* wakeAll<K>(n: DsmNode, waiters: Map<K, Thread[]>, key: K, value: unknown, cpu: Cpu): KPath {
  const ts = waiters.get(key);
  if (ts === undefined) return;
  waiters.delete(key);
  for (const t of ts) yield* n.k.wake(t, value, cpu);
}
