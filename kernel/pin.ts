// Pins on the physical memory behind Portals objects, NIC operations and kernel messages.
// A memory descriptor, a list entry and an extension grant each hold a pin
// on the allocations their pieces lie in for as long as they exist, and an
// operation in flight holds its own pin on what it moves until its DMA is
// over. munmap then takes the pages from the process but the frames return
// to the allocator only when the last pin drops (see hw/physalloc.ts), so
// DMA through a stale object or a late completion reaches memory nobody
// else has been given. Pins are per allocation: a process's regions are
// physically contiguous extents, allocated and freed whole.

import type { ContiguousAllocator } from '../hw/physalloc.ts';
import type { Piece } from './portals/iov.ts';

export class Pin {
  private bases: number[] | null;

  private constructor(
    private readonly phys: ContiguousAllocator,
    bases: number[],
  ) {
    this.bases = bases;
  }

  /** Pins every allocation `pieces` lie in (each once). */
  static of(phys: ContiguousAllocator, pieces: readonly Piece[]): Pin {
    const bases: number[] = [];
    for (const p of pieces) {
      if (p.len === 0 || bases.includes(p.base)) continue;
      if (phys.pin(p.base)) bases.push(p.base);
    }
    return new Pin(phys, bases);
  }

  /** A pin on nothing, for objects without memory. */
  static none(phys: ContiguousAllocator): Pin {
    return new Pin(phys, []);
  }

  /** Drops the pins (once; later calls do nothing). */
  release(): void {
    if (this.bases === null) return;
    for (const b of this.bases) this.phys.unpin(b);
    this.bases = null;
  }

  get held(): boolean {
    return this.bases !== null && this.bases.length > 0;
  }
}
