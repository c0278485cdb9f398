// The LWK physical allocator: regions are physically contiguous and handed
// out up front (Kitten's and Catamount's model, no demand paging). First fit
// over a sorted list of free extents, coalescing on free.

export interface Extent {
  readonly base: number;
  readonly size: number;
}

export class ContiguousAllocator {
  private free: { base: number; size: number }[];
  private readonly used = new Map<number, number>();

  constructor(
    readonly base: number,
    readonly size: number,
  ) {
    this.free = size > 0 ? [{ base, size }] : [];
  }

  /** Allocates `size` bytes aligned to `align` (a power of two). Null when no extent fits. */
  alloc(size: number, align = 4096): number | null {
    if (!(Number.isSafeInteger(size) && size > 0 && Number.isSafeInteger(align) && align > 0 && (align & (align - 1)) === 0)) {
      return null;
    }
    for (let i = 0; i < this.free.length; i++) {
      const e = this.free[i];
      const start = Math.ceil(e.base / align) * align;
      const pad = start - e.base;
      if (pad + size > e.size) continue;
      const tail = e.size - pad - size;
      const pieces: { base: number; size: number }[] = [];
      if (pad > 0) pieces.push({ base: e.base, size: pad });
      if (tail > 0) pieces.push({ base: start + size, size: tail });
      this.free.splice(i, 1, ...pieces);
      this.used.set(start, size);
      return start;
    }
    return null;
  }

  /** Frees an allocation by its base. Returns false if `base` was not allocated. */
  release(base: number): boolean {
    const size = this.used.get(base);
    if (size === undefined) return false;
    this.used.delete(base);
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
    return true;
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
