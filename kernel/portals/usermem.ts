// User memory as the NIC sees it: a user range (or a PTL_IOVEC list) as
// physical pieces, and write permission taken back on mprotect.

import type { Process } from '../process.ts';
import { peekUser } from '../uaccess.ts';
import type { PortalsDriver } from './driver.ts';
import type { Piece } from './iov.ts';
import type { NetworkInterface } from './objects.ts';

/**
 * The physical pieces of a user range (one per region it crosses), or null
 * if any byte is unmapped, or (with `write`) not writable by its owner.
 */
export function physical(p: Process, start: number, length: number, write = false): Piece[] | null {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0) return null;
  const out: Piece[] = [];
  for (let at = start; at < start + length; ) {
    const r = p.aspace.find(at);
    if (r === undefined || !r.readable || (write && !r.writable)) return null;
    const n = Math.min(r.start + r.size, start + length) - at;
    out.push({ pa: r.pa + (at - r.start), len: n, base: r.extent.base });
    at += n;
  }
  return out;
}

/**
 * The owner takes write permission away from [start, start+length) (mprotect):
 * so does the NIC. Entries, descriptors and grants over any of that memory
 * stop being written (puts and atomics refused, replies refused at the call,
 * a handler's grant read-only), until they are made again. Operations
 * already matched finish. Called once the regions have their new permissions (their frames are the same).
 */
export function revokeWrite(drv: PortalsDriver, p: Process, start: number, length: number): void {
  const pp = drv.peek(p);
  if (pp === undefined) return;
  const ranges: { pa: number; len: number }[] = [];
  for (const r of p.aspace.view()) {
    const lo = Math.max(r.start, start);
    const hi = Math.min(r.end, start + length);
    if (lo < hi) ranges.push({ pa: r.pa + (lo - r.start), len: hi - lo });
  }
  const hit = (pieces: readonly Piece[]) => pieces.some((x) => ranges.some((y) => x.pa < y.pa + y.len && y.pa < x.pa + x.len));
  for (const ni of pp.nis) {
    if (ni === null) continue;
    for (const md of ni.mds.values()) if (md.writable && hit(md.pieces)) md.writable = false;
    for (const e of ni.entries.values()) {
      if (e.writable && hit(e.pieces)) e.writable = false;
      if (e.ext !== null && e.ext.grantWritable && hit(e.ext.grant)) e.ext.grantWritable = false;
    }
  }
}

/** A buffer's pieces: the range itself, or (PTL_IOVEC) the list of `count` {base, length} pairs at `start`. */
export function memoryOf(drv: PortalsDriver, p: Process, ni: NetworkInterface, start: number, length: number, iovec: boolean, write = false): Piece[] | null {
  if (!iovec) return drv.physical(p, start, length, write);
  if (!Number.isSafeInteger(length) || length < 0 || length > ni.limits.max_iovecs) return null;
  let words: Uint8Array;
  try {
    words = peekUser(drv.k, p, start, 16 * length);
  } catch {
    return null;
  }
  const dv = new DataView(words.buffer);
  const out: Piece[] = [];
  for (let i = 0; i < length; i++) {
    const part = drv.physical(p, Number(dv.getBigUint64(16 * i, true)), Number(dv.getBigUint64(16 * i + 8, true)), write);
    if (part === null) return null;
    out.push(...part);
  }
  return out;
}
