// Memory behind Portals descriptors and list entries: a list of physically
// contiguous pieces (one for an ordinary buffer in one region; several for
// a buffer that crosses regions or a PTL_IOVEC list). The NIC DMAs to and
// from one physical range, so a transfer that spans pieces goes through a
// staging ring in kernel memory: gathered before a send, scattered after a
// receive, as an LWK does for non-contiguous user buffers.

import type { PhysicalMemory } from '../../hw/memory.ts';
import { ContiguousAllocator } from '../../hw/physalloc.ts';

export interface Piece {
  readonly pa: number;
  readonly len: number;
  /** The physical allocation the piece lies in (what a pin holds). */
  readonly base: number;
}

/** The pieces covering [offset, offset + len) of a piece list. */
export function slice(pieces: readonly Piece[], offset: number, len: number): Piece[] {
  const out: Piece[] = [];
  let skip = offset;
  let want = len;
  for (const p of pieces) {
    if (want <= 0) break;
    if (skip >= p.len) {
      skip -= p.len;
      continue;
    }
    const n = Math.min(p.len - skip, want);
    out.push({ pa: p.pa + skip, len: n, base: p.base });
    want -= n;
    skip = 0;
  }
  return out;
}

export function total(pieces: readonly Piece[]): number {
  return pieces.reduce((a, p) => a + p.len, 0);
}

export function gather(mem: PhysicalMemory, pieces: readonly Piece[]): Uint8Array {
  const out = new Uint8Array(total(pieces));
  let at = 0;
  for (const p of pieces) {
    mem.read(p.pa, out.subarray(at, at + p.len));
    at += p.len;
  }
  return out;
}

export function scatter(mem: PhysicalMemory, pieces: readonly Piece[], data: Uint8Array): void {
  let at = 0;
  for (const p of pieces) {
    if (at >= data.length) break;
    const n = Math.min(p.len, data.length - at);
    mem.write(p.pa, data.subarray(at, at + n));
    at += n;
  }
}

/**
 * A ring of kernel memory for staging transfers (and atomic operands). A
 * slot belongs to its transfer from `take` until `release`, whatever order
 * transfers finish in: a slot still being DMAed into is never handed out
 * again. When no slot fits, `take` fails and the caller refuses the
 * transfer (Portals flow control) instead of writing over another one.
 */
export class StagingRing {
  /** Next fit, so slots go round the ring as they would in hardware. */
  private readonly slots: ContiguousAllocator;

  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    this.slots = new ContiguousAllocator(base, size, 'next-fit');
  }

  /** A slot of `len` bytes (8-byte aligned), or -1 when none is free. */
  take(len: number): number {
    return this.slots.alloc(Math.ceil(len / 8) * 8, 8) ?? -1;
  }

  release(at: number): void {
    this.slots.release(at);
  }

  /** Bytes owned by transfers in flight. */
  get busyBytes(): number {
    return this.slots.usedBytes;
  }
}
