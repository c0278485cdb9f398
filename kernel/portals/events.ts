// Events, counters and triggered operations: posting to an EQ and waking
// its waiters, counting (and firing what waits on a threshold), the target
// side's events and the *_OVERFLOW events of unexpected headers.

import type { Cpu } from '../cpu.ts';
import { type KPath, step } from '../step.ts';
import { EVENT_NAMES, PTL } from './defs.ts';
import type { PortalsDriver } from './driver.ts';
import type { PtlOp } from './match.ts';
import { type Counter, type EventQueue, type ListEntry, type NetworkInterface, type PortalTableEntry, type PtlEvent, type Unexpected, blankEvent } from './objects.ts';
import type { PortalsProcess } from './state.ts';
import type { Header } from './wire.ts';

/** The target event of each operation (its *_OVERFLOW event is the next type). */
const BASE_EVENT: Readonly<Record<PtlOp, number>> = { put: PTL.EVENT_PUT, get: PTL.EVENT_GET, atomic: PTL.EVENT_ATOMIC, fetch: PTL.EVENT_FETCH_ATOMIC, swap: PTL.EVENT_FETCH_ATOMIC };

/** Adds to a counter and fires triggered operations whose threshold is reached. */
export function* ctAdd(drv: PortalsDriver, pp: PortalsProcess, ct: Counter, success: number, failure: number, cpu: Cpu, set = false): KPath {
  if (set) {
    ct.success = success;
    ct.failure = failure;
  } else {
    ct.success += success;
    ct.failure += failure;
  }
  const reached = ct.triggered.filter((t) => ct.success + ct.failure >= t.threshold);
  ct.triggered = ct.triggered.filter((t) => ct.success + ct.failure < t.threshold);
  for (const t of reached) yield* t.fire(cpu);
  yield* drv.wakeWaiters(pp, cpu);
}

export function* post(drv: PortalsDriver, pp: PortalsProcess, eq: EventQueue, ev: PtlEvent, cpu: Cpu): KPath {
  eq.post(ev);
  yield step('portals', 'event', drv.v['kernel.portalsEventCycles'], `${EVENT_NAMES[ev.type] ?? ev.type}${ev.niFail ? ` ni_fail ${ev.niFail}` : ''}`);
  yield* drv.wakeWaiters(pp, cpu);
}

export function* wakeWaiters(drv: PortalsDriver, pp: PortalsProcess, cpu: Cpu): KPath {
  const ws = [...pp.waiters];
  pp.waiters.clear();
  for (const t of ws) yield* drv.k.wake(t, 'portals', cpu);
}

/** Registers a triggered operation on a counter (run at once if the threshold is already met). */
export function* trigger(ct: Counter, threshold: number, fire: (cpu: Cpu) => KPath, cpu: Cpu, cancel?: () => void, ni?: NetworkInterface): KPath {
  if (ct.success + ct.failure >= threshold) yield* fire(cpu);
  else ct.triggered.push({ threshold, fire, cancel, ni });
}

export function* disablePt(drv: PortalsDriver, pp: PortalsProcess, pt: PortalTableEntry, cpu: Cpu): KPath {
  if (!pt.enabled) return;
  pt.enabled = false;
  if (pt.eq) {
    const ev = blankEvent(PTL.EVENT_PT_DISABLED);
    ev.ptIndex = pt.index;
    ev.niFail = PTL.NI_PT_DISABLED;
    yield* drv.post(pp, pt.eq, ev, cpu);
  }
}

export function* targetEvents(drv: PortalsDriver, pp: PortalsProcess, pt: PortalTableEntry, e: ListEntry, list: number, h: Header, op: PtlOp, mlength: number, moffset: number, unlinked: boolean, cpu: Cpu): KPath {
  const overflow = list === PTL.OVERFLOW_LIST;
  // A message landing on the overflow list is a PUT (GET, ...) event with ptl_list OVERFLOW; the
  // *_OVERFLOW events come later, when an appended priority entry matches its unexpected header.
  const ev = blankEvent(BASE_EVENT[op]);
  ev.start = e.start + moffset;
  ev.userPtr = e.userPtr;
  ev.hdrData = h.hdrData;
  ev.matchBits = h.matchBits;
  ev.rlength = h.rlength;
  ev.mlength = mlength;
  ev.remoteOffset = h.roffset;
  ev.uid = h.uid;
  ev.nid = h.srcNid;
  ev.pid = h.srcPid;
  ev.rank = h.srcRank;
  ev.ptIndex = pt.index;
  ev.atomicOp = h.atomOp;
  ev.atomicType = h.atomType;
  ev.list = list;
  if (overflow && !(e.options & PTL.ME_UNEXPECTED_HDR_DISABLE)) pt.unexpected.push({ event: { ...ev }, entry: e, op });
  if (pt.eq && !(e.options & PTL.ME_EVENT_COMM_DISABLE) && !(e.options & PTL.ME_EVENT_SUCCESS_DISABLE)) {
    yield* drv.post(pp, pt.eq, ev, cpu);
  }
  if (e.ct && e.options & PTL.ME_EVENT_CT_COMM) {
    yield* drv.ctAdd(pp, e.ct, e.options & PTL.ME_EVENT_CT_BYTES ? mlength : 1, 0, cpu);
  }
  if (unlinked && pt.eq && !(e.options & PTL.ME_EVENT_UNLINK_DISABLE)) {
    const u = blankEvent(PTL.EVENT_AUTO_UNLINK);
    u.userPtr = e.userPtr;
    u.ptIndex = pt.index;
    u.list = list;
    yield* drv.post(pp, pt.eq, u, cpu);
  }
}

/**
 * The *_OVERFLOW events (and counts) for unexpected headers taken off a
 * portal table entry by an appended entry or a search-and-delete, each
 * followed by AUTO_FREE once no header refers to its used-up overflow entry.
 */
export function* overflowEvents(drv: PortalsDriver, pp: PortalsProcess, pt: PortalTableEntry, taken: readonly Unexpected[], options: number, ct: Counter | null, userPtr: bigint, cpu: Cpu): KPath {
  for (const u of taken) {
    const ev = { ...u.event, type: BASE_EVENT[u.op] + 1, userPtr };
    if (pt.eq && !(options & (PTL.ME_EVENT_COMM_DISABLE | PTL.ME_EVENT_OVER_DISABLE))) yield* drv.post(pp, pt.eq, ev, cpu);
    if (ct && options & PTL.ME_EVENT_CT_OVERFLOW) yield* drv.ctAdd(pp, ct, options & PTL.ME_EVENT_CT_BYTES ? ev.mlength : 1, 0, cpu);
    const o = u.entry;
    if (!o.linked && !pt.unexpected.some((x) => x.entry === o) && pt.eq && !(o.options & PTL.ME_EVENT_UNLINK_DISABLE)) {
      const f = blankEvent(PTL.EVENT_AUTO_FREE);
      f.userPtr = o.userPtr;
      f.ptIndex = pt.index;
      f.list = PTL.OVERFLOW_LIST;
      yield* drv.post(pp, pt.eq, f, cpu);
    }
  }
}
