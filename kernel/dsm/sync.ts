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

export function* serveSync(n: DsmNode, r: DsmRegion, h: DsmHeader, cpu: Cpu): KPath {
  const cost = n.k.profile.values['kernel.portalsMatchCycles'];
  switch (h.type) {
    case 'lock-req': {
      if (!validLock(h.page) || r.lockManagerOf(h.page) !== r.rank) break;
      let l = r.locks.get(h.page);
      if (l === undefined) r.locks.set(h.page, (l = { holder: -1, queue: [] }));
      if (l.holder === -1) {
        l.holder = h.src;
        n.send(r, h.src, 'lock-grant', h.page, 0);
      } else l.queue.push(h.src);
      yield step('dsm', 'lock', cost, `manager: lock ${h.page} for rank ${h.src}: ${l.holder === h.src ? 'granted' : `queued behind rank ${l.holder}`}`);
      return;
    }
    case 'unlock': {
      const l = r.locks.get(h.page);
      if (l === undefined || l.holder !== h.src) break;
      l.holder = l.queue.shift() ?? -1;
      if (l.holder >= 0) n.send(r, l.holder, 'lock-grant', h.page, 0);
      yield step('dsm', 'lock', cost, `manager: lock ${h.page} released by rank ${h.src}${l.holder >= 0 ? `, granted to rank ${l.holder}` : ''}`);
      return;
    }
    case 'lock-grant': {
      if (r.lockManagerOf(h.page) !== h.src) break;
      const ts = r.lockWaiters.get(h.page);
      const t = ts?.shift();
      if (ts !== undefined && ts.length === 0) r.lockWaiters.delete(h.page);
      yield step('dsm', 'lock', cost, `lock ${h.page} granted to rank ${r.rank}`);
      if (t !== undefined) yield* n.k.wake(t, 'granted', cpu);
      else n.send(r, h.src, 'unlock', h.page, 0); // its thread is gone: pass the lock on
      return;
    }
    case 'arrive': {
      if (r.rank !== r.home) break;
      const count = (r.arrivals.get(h.page) ?? 0) + 1;
      r.arrivals.set(h.page, count);
      yield step('dsm', 'barrier', cost, `epoch ${h.page}: rank ${h.src} arrived (${count}/${r.size})`);
      if (count === r.size) {
        r.arrivals.delete(h.page);
        for (let i = 0; i < r.size; i++) n.send(r, i, 'go', h.page, 0);
      }
      return;
    }
    case 'go': {
      if (h.src !== r.home) break;
      yield step('dsm', 'barrier', cost, `epoch ${h.page} complete`);
      yield* wakeAll(n, r.barrierWaiters, h.page, 'go', cpu);
      return;
    }
    case 'detached': {
      if (r.rank !== r.home) break;
      r.detachedRanks++;
      yield step('dsm', 'serve', cost, `rank ${h.src} detached (${r.detachedRanks}/${r.size})`);
      if (r.detachedRanks === r.size) for (let i = 0; i < r.size; i++) n.send(r, i, 'release', 0, 0);
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
