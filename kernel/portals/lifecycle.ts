// Allocating and freeing Portals objects: NIs, portal table entries,
// event queues, counters and memory descriptors (PtlNIInit ... PtlMDRelease).

import type { Cpu } from '../cpu.ts';
import type { KPath } from '../step.ts';
import { PTL } from './defs.ts';
import type { PortalsDriver } from './driver.ts';
import { total } from './iov.ts';
import { Counter, EventQueue, type Limits, type MemoryDescriptor, NetworkInterface, PortalTableEntry, clampLimits, handleKind } from './objects.ts';
import { type PortalsProcess, niIndex } from './state.ts';

export function niInit(pp: PortalsProcess, options: number, desired: Partial<Limits> | null, iface = 0): { rc: number; ni?: NetworkInterface } {
  if (pp.initCount === 0) return { rc: PTL.NO_INIT };
  const m = options & (PTL.NI_MATCHING | PTL.NI_NO_MATCHING);
  const l = options & (PTL.NI_LOGICAL | PTL.NI_PHYSICAL);
  if ((m !== PTL.NI_MATCHING && m !== PTL.NI_NO_MATCHING) || (l !== PTL.NI_LOGICAL && l !== PTL.NI_PHYSICAL) || options & ~15) return { rc: PTL.ARG_INVALID };
  const idx = niIndex(options, iface);
  const existing = pp.nis[idx];
  if (existing !== null) {
    existing.refs++;
    return { rc: PTL.OK, ni: existing };
  }
  const ni = new NetworkInterface(idx, options, clampLimits(desired), pp.process.pid);
  pp.nis[idx] = ni;
  return { rc: PTL.OK, ni };
}

export function niFini(drv: PortalsDriver, pp: PortalsProcess, handle: number): number {
  const ni = pp.ni(handle);
  if (ni === null) return PTL.ARG_INVALID;
  if (--ni.refs === 0) {
    drv.dropObjects(pp, ni);
    pp.nis[ni.index] = null;
  }
  return PTL.OK;
}

export function ptAlloc(ni: NetworkInterface, options: number, eqHandle: number, index: number): { rc: number; index?: number } {
  if (options & ~31) return { rc: PTL.ARG_INVALID };
  const eq = ni.eqByHandle(eqHandle);
  if (eq === undefined) return { rc: PTL.ARG_INVALID };
  if (options & PTL.PT_FLOWCTRL && eq === null) return { rc: PTL.PT_EQ_NEEDED };
  let i = index;
  if (index === PTL.PT_ANY) {
    i = ni.pts.findIndex((p) => p === null);
    if (i < 0) return { rc: PTL.PT_FULL };
  } else if (!(index >= 0 && index < ni.pts.length)) return { rc: PTL.ARG_INVALID };
  else if (ni.pts[i] !== null) return { rc: PTL.PT_IN_USE };
  ni.pts[i] = new PortalTableEntry(i, options, eq);
  return { rc: PTL.OK, index: i };
}

export function ptFree(ni: NetworkInterface, index: number): number {
  const pt = ni.pts[index];
  if (!(index >= 0 && index < ni.pts.length) || pt === null || pt === undefined) return PTL.ARG_INVALID;
  if (pt.priority.length > 0 || pt.overflow.length > 0) return PTL.PT_IN_USE;
  ni.pts[index] = null;
  return PTL.OK;
}

export function ptEnable(ni: NetworkInterface, index: number, on: boolean): number {
  const pt = ni.pts[index];
  if (!(index >= 0 && index < ni.pts.length) || !pt) return PTL.ARG_INVALID;
  pt.enabled = on;
  return PTL.OK;
}

export function eqAlloc(ni: NetworkInterface, count: number): { rc: number; eq?: EventQueue } {
  if (!(count > 0) || ni.eqs.size >= ni.limits.max_eqs) return { rc: count > 0 ? PTL.NO_SPACE : PTL.ARG_INVALID };
  const eq = new EventQueue(ni.newHandle('eq'), count);
  ni.eqs.set(eq.handle, eq);
  return { rc: PTL.OK, eq };
}

/** Frees an EQ; threads waiting on it wake and see PTL_INTERRUPTED. */
export function* eqFree(drv: PortalsDriver, pp: PortalsProcess, h: number, cpu: Cpu): KPath<number> {
  const ni = pp.owner(h);
  if (ni === null || handleKind(h) !== 'eq' || !ni.eqs.has(h)) return PTL.ARG_INVALID;
  ni.eqs.delete(h);
  yield* drv.wakeWaiters(pp, cpu);
  return PTL.OK;
}

export function findEq(pp: PortalsProcess, h: number): EventQueue | null {
  const ni = pp.owner(h);
  return ni !== null && handleKind(h) === 'eq' ? (ni.eqs.get(h) ?? null) : null;
}

export function findCt(pp: PortalsProcess, h: number): Counter | null {
  const ni = pp.owner(h);
  return ni !== null && handleKind(h) === 'ct' ? (ni.cts.get(h) ?? null) : null;
}

export function ctAlloc(ni: NetworkInterface): { rc: number; ct?: Counter } {
  if (ni.cts.size >= ni.limits.max_cts) return { rc: PTL.NO_SPACE };
  const ct = new Counter(ni.newHandle('ct'));
  ni.cts.set(ct.handle, ct);
  return { rc: PTL.OK, ct };
}

/** Frees a counter, cancelling the triggered operations waiting on it; threads waiting on it wake and see PTL_INTERRUPTED. */
export function* ctFree(drv: PortalsDriver, pp: PortalsProcess, h: number, cpu: Cpu): KPath<number> {
  const ni = pp.owner(h);
  const ct = ni !== null && handleKind(h) === 'ct' ? ni.cts.get(h) : undefined;
  if (ni === null || ct === undefined) return PTL.ARG_INVALID;
  ct.cancelTriggered();
  ni.cts.delete(h);
  yield* drv.wakeWaiters(pp, cpu);
  return PTL.OK;
}

export function mdBind(drv: PortalsDriver, pp: PortalsProcess, ni: NetworkInterface, start: number, length: number, options: number, eqH: number, ctH: number): { rc: number; md?: MemoryDescriptor } {
  const eq = ni.eqByHandle(eqH);
  const ct = ni.ctByHandle(ctH);
  if (eq === undefined || ct === undefined || options & ~1023) return { rc: PTL.ARG_INVALID };
  if (ni.mds.size >= ni.limits.max_mds) return { rc: PTL.NO_SPACE };
  const pieces = drv.memoryOf(pp.process, ni, start, length, (options & PTL.IOVEC) !== 0);
  if (pieces === null) return { rc: PTL.ARG_INVALID };
  // A descriptor over read-only memory can be sent from; gets, fetches and swaps into it are refused.
  const writable = drv.memoryOf(pp.process, ni, start, length, (options & PTL.IOVEC) !== 0, true) !== null;
  const md: MemoryDescriptor = { handle: ni.newHandle('md'), start, length: total(pieces), options, eq, ct, pieces, pin: drv.pin(pieces), writable, busy: 0 };
  ni.mds.set(md.handle, md);
  return { rc: PTL.OK, md };
}

export function mdRelease(pp: PortalsProcess, h: number): number {
  const ni = pp.owner(h);
  const md = ni !== null && handleKind(h) === 'md' ? ni.mds.get(h) : undefined;
  if (ni === null || md === undefined) return PTL.ARG_INVALID;
  if (md.busy > 0) return PTL.IN_USE;
  ni.mds.delete(h);
  md.pin.release();
  return PTL.OK;
}
