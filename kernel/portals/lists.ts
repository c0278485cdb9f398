// Priority and overflow lists: appending an entry (taking the unexpected
// headers it matches first), unlinking it, and PtlMESearch/PtlLESearch.

import type { Cpu } from '../cpu.ts';
import { type KPath, step } from '../step.ts';
import { PTL } from './defs.ts';
import type { PortalsDriver } from './driver.ts';
import { total } from './iov.ts';
import { matches } from './match.ts';
import { type ListEntry, type NetworkInterface, type Unexpected, blankEvent, handleKind } from './objects.ts';
import type { PortalsProcess } from './state.ts';

/** Valid option bits of an LE (up to CT_BYTES) and of an ME (up to LOCAL_INC_UH_RLENGTH). */
const LE_OPTIONS_MASK = (1 << 15) - 1;
const ME_OPTIONS_MASK = (1 << 19) - 1;

export interface EntryDesc {
  readonly start: number;
  readonly length: number;
  readonly options: number;
  readonly ct: number;
  readonly uid: number;
  readonly matchBits: bigint;
  readonly ignoreBits: bigint;
  readonly matchNid: number;
  readonly matchPid: number;
  readonly matchRank: number;
  readonly minFree: number;
}

export function append(drv: PortalsDriver, pp: PortalsProcess, ni: NetworkInterface, ptIndex: number, kind: 'me' | 'le', d: EntryDesc, list: number, userPtr: bigint, cpu: Cpu): { rc: number; entry?: ListEntry; work?: KPath } {
  const pt = ni.pts[ptIndex];
  if (!(ptIndex >= 0 && ptIndex < ni.pts.length) || !pt) return { rc: PTL.ARG_INVALID };
  if ((kind === 'me') !== ni.matching) return { rc: PTL.ARG_INVALID };
  if (list !== PTL.PRIORITY_LIST && list !== PTL.OVERFLOW_LIST) return { rc: PTL.ARG_INVALID };
  if (d.options & ~(kind === 'me' ? ME_OPTIONS_MASK : LE_OPTIONS_MASK)) return { rc: PTL.ARG_INVALID };
  const ct = ni.ctByHandle(d.ct);
  if (ct === undefined) return { rc: PTL.ARG_INVALID };
  if (ni.entries.size >= ni.limits.max_entries) return { rc: PTL.NO_SPACE };
  if (pt.priority.length + pt.overflow.length >= ni.limits.max_list_size) return { rc: PTL.NO_SPACE };
  // An entry the NIC may write (puts, atomics) must lie in memory its owner can write, as RDMA
  // stacks refuse to register read-only memory for remote write; one that only serves gets need not.
  const nicWrites = (d.options & PTL.ME_OP_PUT) !== 0;
  const pieces = drv.memoryOf(pp.process, ni, d.start, d.length, (d.options & PTL.IOVEC) !== 0, nicWrites);
  if (pieces === null) return { rc: PTL.ARG_INVALID };
  const entry: ListEntry = {
    handle: ni.newHandle(kind),
    kind,
    pt,
    list,
    start: d.start,
    length: total(pieces),
    pieces,
    pin: drv.pin(pieces),
    writable: nicWrites,
    options: d.options,
    matchBits: kind === 'me' ? d.matchBits : 0n,
    ignoreBits: kind === 'me' ? d.ignoreBits : 0n,
    uid: d.uid,
    matchNid: d.matchNid,
    matchPid: d.matchPid,
    matchRank: d.matchRank,
    minFree: kind === 'me' ? d.minFree : 0,
    offset: 0,
    ct,
    userPtr,
    linked: true,
    ext: null,
  };
  // An entry appended to the priority list first takes the unexpected headers it matches, oldest
  // first (a use-once entry only the first, and is then used up without being linked).
  const taken: Unexpected[] = [];
  if (list === PTL.PRIORITY_LIST) {
    for (const u of pt.unexpected) {
      const ev = u.event;
      if (!matches({ op: u.op, matchBits: ev.matchBits, rlength: ev.rlength, roffset: ev.remoteOffset, uid: ev.uid, nid: ev.nid, pid: ev.pid, rank: ev.rank, atomicType: ev.atomicType, swapOp: ev.atomicOp }, entry, ni.logical, ni.matching)) continue;
      taken.push(u);
      if (d.options & PTL.ME_USE_ONCE) break;
    }
    for (const u of taken) pt.unexpected.splice(pt.unexpected.indexOf(u), 1);
  }
  const usedUp = taken.length > 0 && (d.options & PTL.ME_USE_ONCE) !== 0;
  if (!usedUp) {
    ni.entries.set(entry.handle, entry);
    (list === PTL.PRIORITY_LIST ? pt.priority : pt.overflow).push(entry);
  } else entry.linked = false;
  const work = (function* (): KPath {
    yield step('portals', 'append', drv.v['kernel.portalsMatchCycles'], `${kind} on pt ${ptIndex} ${list === 0 ? 'priority' : 'overflow'}${taken.length ? `, ${taken.length} unexpected header(s)` : ''}`);
    yield* drv.overflowEvents(pp, pt, taken, d.options, ct, userPtr, cpu);
    if (usedUp) {
      if (pt.eq && !(d.options & PTL.ME_EVENT_UNLINK_DISABLE)) {
        const u = blankEvent(PTL.EVENT_AUTO_UNLINK);
        u.userPtr = userPtr;
        u.ptIndex = ptIndex;
        yield* drv.post(pp, pt.eq, u, cpu);
      }
      return;
    }
    if (pt.eq && !(d.options & PTL.ME_EVENT_LINK_DISABLE)) {
      const ev = blankEvent(PTL.EVENT_LINK);
      ev.userPtr = userPtr;
      ev.ptIndex = ptIndex;
      yield* drv.post(pp, pt.eq, ev, cpu);
    }
  })();
  return { rc: PTL.OK, entry, work };
}

export function unlink(drv: PortalsDriver, pp: PortalsProcess, h: number): number {
  const ni = pp.owner(h);
  const kind = handleKind(h);
  const e = ni !== null && (kind === 'me' || kind === 'le') ? ni.entries.get(h) : undefined;
  if (ni === null || e === undefined) return PTL.ARG_INVALID;
  drv.remove(ni, e);
  return PTL.OK;
}

export function remove(ni: NetworkInterface, e: ListEntry): void {
  e.linked = false;
  ni.entries.delete(e.handle);
  // Operations already matched hold their own pins; the entry's go now.
  e.pin.release();
  e.ext?.grantPin.release();
  for (const l of [e.pt.priority, e.pt.overflow]) {
    const i = l.indexOf(e);
    if (i >= 0) l.splice(i, 1);
  }
}

/** PtlMESearch / PtlLESearch over the unexpected headers. */
export function* search(drv: PortalsDriver, pp: PortalsProcess, ni: NetworkInterface, ptIndex: number, kind: 'me' | 'le', d: EntryDesc, searchOp: number, userPtr: bigint, cpu: Cpu): KPath<number> {
  const pt = ni.pts[ptIndex];
  if (!(ptIndex >= 0 && ptIndex < ni.pts.length) || !pt) return PTL.ARG_INVALID;
  if ((kind === 'me') !== ni.matching || (searchOp !== PTL.SEARCH_ONLY && searchOp !== PTL.SEARCH_DELETE)) return PTL.ARG_INVALID;
  const ct = ni.ctByHandle(d.ct);
  if (ct === undefined) return PTL.ARG_INVALID;
  const probe = { length: d.length, options: d.options, matchBits: kind === 'me' ? d.matchBits : 0n, ignoreBits: kind === 'me' ? d.ignoreBits : 0n, uid: d.uid, matchNid: d.matchNid, matchPid: d.matchPid, matchRank: d.matchRank, minFree: 0, offset: 0 };
  const found = pt.unexpected.filter((u) => {
    const ev = u.event;
    return matches({ op: 'put', matchBits: ev.matchBits, rlength: ev.rlength, roffset: ev.remoteOffset, uid: ev.uid, nid: ev.nid, pid: ev.pid, rank: ev.rank, atomicType: 0, swapOp: 0 }, probe, ni.logical, ni.matching);
  });
  yield step('portals', 'search', drv.v['kernel.portalsMatchCycles'] * Math.max(1, pt.unexpected.length), `${found.length} unexpected header(s)`);
  if (searchOp === PTL.SEARCH_DELETE && found.length > 0) {
    // Deleting is taking the headers as an appended entry would: *_OVERFLOW events, not SEARCH.
    for (const u of found) pt.unexpected.splice(pt.unexpected.indexOf(u), 1);
    yield* drv.overflowEvents(pp, pt, found, d.options, ct, userPtr, cpu);
    return PTL.OK;
  }
  if (pt.eq && !(d.options & PTL.ME_EVENT_COMM_DISABLE)) {
    if (found.length === 0) {
      const ev = blankEvent(PTL.EVENT_SEARCH);
      ev.niFail = PTL.NI_NO_MATCH;
      ev.userPtr = userPtr;
      ev.ptIndex = ptIndex;
      yield* drv.post(pp, pt.eq, ev, cpu);
    } else {
      for (const u of searchOp === PTL.SEARCH_ONLY ? found.slice(0, 1) : found) {
        const ev = { ...u.event, type: PTL.EVENT_SEARCH, userPtr };
        yield* drv.post(pp, pt.eq, ev, cpu);
      }
    }
  }
  if (ct && d.options & PTL.ME_EVENT_CT_COMM) yield* drv.ctAdd(pp, ct, found.length > 0 ? 1 : 0, 0, cpu);
  return PTL.OK;
}
