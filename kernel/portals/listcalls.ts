// The Portals calls on memory descriptors and list entries: PtlMDBind/
// Release, PtlMEAppend/PtlLEAppend, PtlMEUnlink/PtlLEUnlink, PtlMESearch/
// PtlLESearch, and the decoding of a user ptl_me_t/ptl_le_t.

import { PTL } from './defs.ts';
import { type EntryDesc } from './lists.ts';
import { STRUCTS, field } from './layout.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { type Handler, type Words, niOf, num, out, readTyped, u32 } from './callargs.ts';

function entryDesc(w: Words, logical: boolean): EntryDesc {
  const f = (n: (typeof STRUCTS.entry)[number]) => w[field('entry', n)];
  return {
    start: num(f('start')),
    length: num(f('length')),
    ct: u32(f('ct_handle')),
    uid: u32(f('uid')),
    options: num(f('options')),
    // All ones is "any" in either form (PTL_RANK_ANY; never a valid nid or pid).
    matchNid: logical ? PTL.NID_ANY : u32(f('match_id_nid')) === 0xffffffff ? PTL.NID_ANY : u32(f('match_id_nid')),
    matchPid: logical ? PTL.PID_ANY : u32(f('match_id_pid')) === 0xffffffff ? PTL.PID_ANY : u32(f('match_id_pid')),
    matchRank: logical ? u32(f('match_id_nid')) : PTL.RANK_ANY,
    matchBits: f('match_bits'),
    ignoreBits: f('ignore_bits'),
    minFree: num(f('min_free')),
  };
}

export const LIST_CALLS: Partial<Record<SyscallName, Handler>> = {
  *ptl_md_bind(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const w = yield* readTyped(c, num(a[1]), 'md');
    if (ni === null || w === null || num(a[2]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.mdBind(pp, ni, num(w[0]), num(w[1]), num(w[2]), u32(w[3]), u32(w[4]));
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[2]), [r.md!.handle]);
    return PTL.OK;
  },
  *ptl_md_release(c, pp, a) {
    return c.k.portals.mdRelease(pp, u32(a[0]));
  },
  *ptl_append(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const w = yield* readTyped(c, num(a[2]), 'entry');
    if (ni === null || w === null || num(a[5]) === 0) return PTL.ARG_INVALID;
    const r = c.k.portals.append(pp, ni, u32(a[1]), a[6] !== 0n ? 'le' : 'me', entryDesc(w, ni.logical), num(a[3]), a[4], c.cpu);
    if (r.rc !== PTL.OK) return r.rc;
    yield* out(c, num(a[5]), [r.entry!.handle]);
    yield* r.work!;
    return PTL.OK;
  },
  *ptl_unlink(c, pp, a) {
    return c.k.portals.unlink(pp, u32(a[0]));
  },
  *ptl_search(c, pp, a) {
    const ni = niOf(pp, a[0]);
    const w = yield* readTyped(c, num(a[2]), 'entry');
    if (ni === null || w === null) return PTL.ARG_INVALID;
    return yield* c.k.portals.search(pp, ni, u32(a[1]), a[5] !== 0n ? 'le' : 'me', entryDesc(w, ni.logical), num(a[3]), a[4], c.cpu);
  },
};
