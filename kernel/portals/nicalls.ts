// The Portals calls on interfaces and portal table entries: PtlInit/Fini,
// PtlNIInit/Fini/Status/Handle, the logical map, ids, PtlPTAlloc/Free/
// Enable/Disable, bundles and handle comparison.

import { LIMIT_NAMES, PTL } from './defs.ts';
import { IFACES } from './state.ts';
import { words } from './layout.ts';
import { handleKind } from './objects.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { type Handler, SAFE, niOf, num, out, readStruct, u32 } from './callargs.ts';

export const NI_CALLS: Partial<Record<SyscallName, Handler>> = {
  *ptl_init(_c, pp) {
    pp.initCount++;
    return PTL.OK;
  },
  *ptl_fini(_c, pp) {
    if (pp.initCount > 0) pp.initCount--;
    return PTL.OK;
  },
  *ptl_ni_init(c, pp, a) {
    const desiredPtr = num(a[3]);
    let desired = null;
    if (desiredPtr !== 0) {
      const w = yield* readStruct(c, desiredPtr, words('limits'));
      if (w === null) return PTL.ARG_INVALID;
      // A limit asks for at most that much: one too large for a JS number asks for the most there is.
      desired = Object.fromEntries(LIMIT_NAMES.map((n, i) => [n, w[i] > SAFE ? Number.MAX_SAFE_INTEGER : Number(w[i])]));
    }
    const iface = u32(a[0]) === PTL.IFACE_DEFAULT ? 0 : u32(a[0]);
    if (!(iface < IFACES)) return PTL.ARG_INVALID;
    if (num(a[5]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.niInit(pp, num(a[1]), desired, iface);
    if (r.rc !== PTL.OK) return r.rc;
    if (!(yield* out(c, num(a[5]), [r.ni!.handle]))) return PTL.ARG_INVALID;
    if (num(a[4]) !== 0) yield* out(c, num(a[4]), LIMIT_NAMES.map((n) => r.ni!.limits[n]));
    return PTL.OK;
  },
  *ptl_ni_fini(c, pp, a) {
    return c.k.portals.niFini(pp, u32(a[0]));
  },
  *ptl_ni_status(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const reg = num(a[1]);
    if (ni === null || !(reg >= 0 && reg < 3)) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[2]), [ni.status[reg]])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_ni_handle(c, pp, a) {
    const h = u32(a[0]);
    const kind = handleKind(h);
    // An object handle answers only while it is live and this process's: a freed one's bits still name its NI.
    const ni = kind === null || kind === 'ni' ? pp.ni(h) : pp.find(h, kind) !== undefined ? pp.owner(h) : null;
    if (ni === null) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[1]), [ni.handle])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_set_map(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const size = num(a[1]);
    if (ni === null || !ni.logical || !(size > 0 && size <= 1 << 20)) return PTL.ARG_INVALID;
    if (ni.map !== null) return PTL.IGNORED;
    const w = yield* readStruct(c, num(a[2]), 2 * size);
    if (w === null || w.some((x) => x > 0xffffffffn)) return PTL.ARG_INVALID;
    ni.map = Array.from({ length: size }, (_, i) => ({ nid: u32(w[2 * i]), pid: u32(w[2 * i + 1]) }));
    return PTL.OK;
  },
  *ptl_get_map(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || !ni.logical || ni.map === null) return PTL.ARG_INVALID;
    const size = num(a[1]);
    if (num(a[3]) === 0 || (size > 0 && num(a[2]) === 0)) return PTL.ARG_INVALID;
    const n = Math.min(size, ni.map.length);
    if (n > 0 && !(yield* out(c, num(a[2]), ni.map.slice(0, n).flatMap((m) => [m.nid, m.pid])))) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[3]), [ni.map.length])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_get_uid(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null) return PTL.ARG_INVALID;
    return (yield* out(c, num(a[1]), [pp.process.info.uid])) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_get_id(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null) return PTL.ARG_INVALID;
    const id = ni.logical ? [pp.process.info.rank, 0] : [c.k.nid, ni.pid];
    return (yield* out(c, num(a[1]), id)) ? PTL.OK : PTL.ARG_INVALID;
  },
  *ptl_pt_alloc(c, pp, a) {
    const ni = niOf(pp, a[0]);
    if (ni === null || num(a[4]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.ptAlloc(ni, num(a[1]), u32(a[2]), u32(a[3]));
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[4]), [r.index!]);
    return PTL.OK;
  },
  *ptl_pt_free(c, pp, a) {
    const ni = niOf(pp, a[0]);
    return ni === null ? PTL.ARG_INVALID : c.k.portals.ptFree(ni, u32(a[1]));
  },
  *ptl_pt_disable(c, pp, a) {
    const ni = niOf(pp, a[0]);
    return ni === null ? PTL.ARG_INVALID : c.k.portals.ptEnable(ni, u32(a[1]), false);
  },
  *ptl_pt_enable(c, pp, a) {
    const ni = niOf(pp, a[0]);
    return ni === null ? PTL.ARG_INVALID : c.k.portals.ptEnable(ni, u32(a[1]), true);
  },
  *ptl_start_bundle(_c, pp, a) {
    return niOf(pp, a[0]) === null ? PTL.ARG_INVALID : PTL.OK;
  },
  *ptl_end_bundle(_c, pp, a) {
    return niOf(pp, a[0]) === null ? PTL.ARG_INVALID : PTL.OK;
  },
  *ptl_handle_is_equal(_c, _pp, a) {
    return u32(a[0]) === u32(a[1]) ? 1 : 0;
  },
  *ptl_atomic_sync() {
    return PTL.OK;
  },
};
