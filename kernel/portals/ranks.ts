// The initiator's rank on a logical interface, as the TARGET sees it: the
// index of the initiator's physical id (nid, pid) in the target's own map
// (PtlSetMap). Portals 4 reports the initiator of a message to a logical NI
// by its rank; which map says the rank matters. The sending kernel's header
// carries the sender's rank in its own job, and a process of another job
// (even of the same uid) is some rank of its own job: taken on trust, it
// would be matched and reported as that rank of the target's job. So the
// receiving kernel translates through the target's map, and an initiator
// that is not in it is PTL_RANK_ANY (no rank): it matches only entries that
// accept any rank, and the library above sees no member of its job.

import { PTL } from './defs.ts';
import type { NetworkInterface } from './objects.ts';

/** Keys of the index: exact for every node id below 2^21 (entries past that name no node and are left out). */
const key = (nid: number, pid: number) => nid * 0x1_0000_0000 + pid;

/** The rank of initiator (nid, pid) in `ni`'s map; `claimed` (the sender's own rank) is tried first. */
export function initiatorRank(ni: NetworkInterface, nid: number, pid: number, claimed: number): number {
  const map = ni.map;
  if (map === null) return PTL.RANK_ANY;
  const at = map[claimed];
  if (at !== undefined && at.nid === nid && at.pid === pid) return claimed;
  let index = ni.rankIndex;
  if (index === null) {
    index = ni.rankIndex = new Map();
    for (let r = map.length - 1; r >= 0; r--) {
      const k = key(map[r].nid, map[r].pid);
      if (Number.isSafeInteger(k)) index.set(k, r);
    }
  }
  return index.get(key(nid, pid)) ?? PTL.RANK_ANY;
}
