// A loaded rank forwards the job load to its children (the two-phase
// loader, docs/LOADING.md): the only load a rank may send. Its kernel
// checks it before the message leaves: the destination must be one of the
// rank's children under the job's fan-out, and the payload must be the load
// this kernel received for the job, unchanged -- sent from the read-only
// copy the kernel mapped at LAYOUT.IMAGE_BASE when it created the rank
// (which no process can change or unmap, kernel/syscalls/sys_mem.ts). So a
// rank cannot edit the job block (another nid map, image, parameters) nor
// load nodes or ranks outside its subtree. Puma/Cougar's rule: compute
// nodes take a job only from the service partition, and the load a rank
// passes on is the one the launcher gave.

import { JOB_BLOCK as J, LAYOUT } from '../abi.ts';
import type { Process } from '../process.ts';
import { RangeJobMap } from './jobblock.ts';
import type { JobRecord } from './records.ts';

/** The rank that loads `rank` under the job block's fan-out (-1 for rank 0: the launcher loads it). userland/lib/fanout.ts draws the same trees. */
export function loadParentOf(block: Uint8Array, rank: number): number {
  if (rank <= 0) return -1;
  const dv = new DataView(block.buffer, block.byteOffset, block.byteLength);
  const fanout = dv.getUint32(4 * J.W_FANOUT, true);
  if (fanout === J.FANOUT_TREE) return Math.floor((rank - 1) / Math.max(1, dv.getUint32(4 * J.W_ARITY, true)));
  if (fanout === J.FANOUT_BINOMIAL) return rank - 2 ** Math.floor(Math.log2(rank));
  return 0;
}

/** What a rank asks its kernel to send as a load. */
export interface ForwardedLoad {
  readonly dstNid: number;
  readonly rank: number;
  readonly va: number;
  readonly len: number;
  readonly imageLen: number;
}

/** Why this kernel refuses rank `r`'s load, or null: a load to one of its children, of the load it received. */
export function forwardRefusal(r: JobRecord, p: Process, f: ForwardedLoad): string | null {
  const size = r.block.size;
  if (!(f.rank > 0 && f.rank < size) || loadParentOf(r.block.bytes, f.rank) !== r.rank) return `rank ${r.rank} of job ${r.jobId} loads only its children under the job's fan-out, not rank ${f.rank}`;
  const nid = new RangeJobMap(r.block.ranges, size, r.block.pid).at(f.rank).nid;
  if (f.dstNid !== nid) return `rank ${f.rank} of job ${r.jobId} is on node ${nid}, not node ${f.dstNid}`;
  if (r.loadImageLen <= 0) return `rank ${r.rank} of job ${r.jobId} was not loaded by a job load: it has none to pass on`;
  const total = r.loadImageLen + r.block.bytes.length;
  const image = p.aspace.find(LAYOUT.IMAGE_BASE);
  if (f.va !== LAYOUT.IMAGE_BASE || f.len !== total || f.imageLen !== r.loadImageLen || image === undefined || image.kind !== 'image' || image.start + image.size < LAYOUT.IMAGE_BASE + total) {
    return `a rank passes on the load it received, unchanged: ${total} bytes (image ${r.loadImageLen}) at 0x${LAYOUT.IMAGE_BASE.toString(16)}`;
  }
  return null;
}
