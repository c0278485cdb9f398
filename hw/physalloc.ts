// The LWK physical allocator: regions are physically contiguous and handed
// out up front (Kitten's and Catamount's model, no demand paging). First fit
// or next fit over a sorted list of free extents, coalescing on free. Next
// fit (a roving start) keeps a just-freed extent from being handed straight
// back, as a real allocator under load would not.
//
// An allocation can be pinned (a device may still DMA into it, as memory
// registered with an RDMA NIC). Releasing a pinned allocation takes it from
// its owner but not from the device: its frames go back to the free list
// only when the last pin drops, so they are never handed to anyone else
// while a DMA can reach them.

export interface Extent {
  readonly base: number;
  readonly size: number;
}

export class ContiguousAllocator {
  private free: { base: number; size: number }[];
  private readonly used = new Map<number, number>();
  /** Bases of the allocations, sorted (to find the allocation holding an address). */
  private readonly bases: number[] = [];
  private readonly pins = new Map<number, number>();
  /** Pinned allocations their owner has released: freed when the last pin drops. */
  private readonly orphans = new Set<number>();
  /** Next fit starts searching at the first free extent at or above this address. */
  private rover = 0;

  constructor(
    readonly base: number,
    readonly size: number,
    readonly policy: 'first-fit' | 'next-fit' = 'first-fit',
    /** Wipes an orphan's frames as they come back: a device may have written into them after their owner let go. */
    private readonly scrub: (base: number, size: number) => void = () => {},
  ) {
    this.free = size > 0 ? [{ base, size }] : [];
  }

  /** Allocates `size` bytes aligned to `align` (a power of two). Null when no extent fits. */
  alloc(size: number, align = 4096): number | null {
    if (!(Number.isSafeInteger(size) && size > 0 && Number.isSafeInteger(align) && align > 0 && (align & (align - 1)) === 0)) {
      return null;
    }
    const n = this.free.length;
    if (n === 0) return null;
    // Next fit starts in the extent holding the rover (or the first above it), at the rover;
    // after going round once it may use the part of that extent below the rover.
    let first = 0;
    if (this.policy === 'next-fit') while (first < n && this.free[first].base + this.free[first].size <= this.rover) first++;
    if (first === n) first = 0;
    const rounds = this.policy === 'next-fit' ? n + 1 : n;
    for (let k = 0; k < rounds; k++) {
      const i = (first + k) % n;
      const e = this.free[i];
      const from = this.policy === 'next-fit' && k === 0 ? Math.max(e.base, this.rover) : e.base;
      const start = Math.ceil(from / align) * align;
      const pad = start - e.base;
      if (pad + size > e.size) continue;
      const tail = e.size - pad - size;
      const pieces: { base: number; size: number }[] = [];
      if (pad > 0) pieces.push({ base: e.base, size: pad });
      if (tail > 0) pieces.push({ base: start + size, size: tail });
      this.free.splice(i, 1, ...pieces);
      this.used.set(start, size);
      this.bases.splice(this.indexOf(start), 0, start);
      this.rover = start + size;
      return start;
    }
    return null;
  }

  /** The size of the allocation at `base`, or 0. */
  sizeOf(base: number): number {
    return this.used.get(base) ?? 0;
  }

  /** Index of the first base at or above `addr`. */
  private indexOf(addr: number): number {
    let lo = 0;
    let hi = this.bases.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.bases[mid] < addr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The base of the allocation holding physical address `pa`, or -1. */
  baseOf(pa: number): number {
    const i = this.indexOf(pa + 1) - 1;
    if (i < 0) return -1;
    const base = this.bases[i];
    return pa < base + this.used.get(base)! ? base : -1;
  }

  /** Adds a pin to the allocation at `base`. False if there is none. */
  pin(base: number): boolean {
    if (!this.used.has(base)) return false;
    this.pins.set(base, (this.pins.get(base) ?? 0) + 1);
    return true;
  }

  /** Drops a pin; frees the allocation if it was the last pin and the owner has released it. */
  unpin(base: number): boolean {
    const n = this.pins.get(base);
    if (n === undefined) return false;
    if (n > 1) {
      this.pins.set(base, n - 1);
      return true;
    }
    this.pins.delete(base);
    if (this.orphans.delete(base)) {
      this.scrub(base, this.used.get(base)!);
      this.returnFrames(base);
    }
    return true;
  }

  /** Pins on the allocation at `base`. */
  pinCount(base: number): number {
    return this.pins.get(base) ?? 0;
  }

  /** Bytes released by their owners but still pinned. */
  get orphanedBytes(): number {
    let n = 0;
    for (const b of this.orphans) n += this.used.get(b)!;
    return n;
  }

  /**
   * The owner gives up the allocation at `base`: freed now, or (if pinned)
   * when its last pin drops. Returns false if `base` was not allocated or
   * already released.
   */
  release(base: number): boolean {
    if (!this.used.has(base) || this.orphans.has(base)) return false;
    if (this.pins.has(base)) this.orphans.add(base);
    else this.returnFrames(base);
    return true;
  }

  private returnFrames(base: number): void {
    const size = this.used.get(base)!;
    this.used.delete(base);
    this.bases.splice(this.indexOf(base), 1);
    let i = 0;
    while (i < this.free.length && this.free[i].base < base) i++;
    this.free.splice(i, 0, { base, size });
    // Coalesce with neighbours.
    if (i + 1 < this.free.length && this.free[i].base + this.free[i].size === this.free[i + 1].base) {
      this.free[i].size += this.free[i + 1].size;
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1].base + this.free[i - 1].size === this.free[i].base) {
      this.free[i - 1].size += this.free[i].size;
      this.free.splice(i, 1);
    }
  }

  get freeBytes(): number {
    return this.free.reduce((a, e) => a + e.size, 0);
  }

  get usedBytes(): number {
    let n = 0;
    for (const s of this.used.values()) n += s;
    return n;
  }

  freeExtents(): readonly Extent[] {
    return this.free.map((e) => ({ ...e }));
  }

  allocations(): readonly Extent[] {
    return [...this.used].map(([base, size]) => ({ base, size })).sort((a, b) => a.base - b.base);
  }
}
