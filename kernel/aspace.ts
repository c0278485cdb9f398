// Address spaces, LWK style: a list of regions, each backed by physically
// contiguous memory allocated up front and mapped at creation (no demand
// paging). Regions can be split by munmap and mprotect; the physical extent
// behind a region is freed when its last piece goes, and only after the
// caller has shot down stale TLB entries.

import type { PhysicalMemory } from '../hw/memory.ts';
import type { ContiguousAllocator } from '../hw/physalloc.ts';
import { LAYOUT } from './abi.ts';
import { fail } from './errno.ts';
import { PAGE_2M, PAGE_4K, type PageFlags, PageTables } from './pagetable.ts';

export type RegionKind = 'text' | 'data' | 'bss' | 'heap' | 'stack' | 'mmap' | 'image';

interface Extent {
  readonly base: number;
  refs: number;
}

export interface Region {
  readonly kind: RegionKind;
  readonly start: number;
  readonly size: number;
  /** Physical address of `start`. */
  readonly pa: number;
  readonly pageSize: number;
  readonly readable: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
  readonly extent: Extent;
}

export interface RegionView {
  readonly kind: RegionKind;
  readonly start: number;
  readonly end: number;
  readonly pa: number;
  readonly pageSize: number;
  readonly perms: string;
}

export class AddressSpace {
  readonly pt: PageTables;
  regions: Region[] = [];
  brkStart = 0;
  brk = 0;
  brkEnd = 0;
  private mmapNext: number = LAYOUT.MMAP_TOP;
  /** 2 MiB pages split into 4 KiB pages so far (each rewrites a page table: its cost is charged by the caller). */
  splits = 0;
  /** Cores that may hold TLB entries tagged with this asid (the shootdown targets). */
  readonly cpuMask = new Set<number>();

  constructor(
    readonly asid: number,
    private readonly mem: PhysicalMemory,
    private readonly alloc: ContiguousAllocator,
  ) {
    this.pt = new PageTables(mem, alloc);
  }

  get cr3(): number {
    return this.pt.root;
  }

  /**
   * Allocates physically contiguous memory for [start, start+size), zeroes it
   * and maps it. Uses 2 MiB pages when the region allows. Throws ENOMEM.
   */
  addRegion(kind: RegionKind, start: number, size: number, flags: PageFlags, allowHuge = true): Region {
    const huge = allowHuge && start % PAGE_2M === 0 && size % PAGE_2M === 0;
    const pageSize = huge ? PAGE_2M : PAGE_4K;
    const pa = this.alloc.alloc(size, pageSize);
    if (pa === null) fail('ENOMEM', `no ${size}-byte contiguous physical extent for ${kind}`);
    this.mem.zero(pa, size);
    const region: Region = { kind, start, size, pa, pageSize, ...flags, extent: { base: pa, refs: 1 } };
    let mapped = 0;
    try {
      for (; mapped < size; mapped += pageSize) this.pt.map(start + mapped, pa + mapped, pageSize, flags);
    } catch (e) {
      // No frame for a page table: undo, so the caller gets ENOMEM and keeps nothing.
      for (let off = 0; off < mapped; off += pageSize) this.pt.unmap(start + off, pageSize);
      this.alloc.release(pa);
      throw e;
    }
    this.insert(region);
    return region;
  }

  private insert(r: Region): void {
    let i = 0;
    while (i < this.regions.length && this.regions[i].start < r.start) i++;
    this.regions.splice(i, 0, r);
  }

  find(va: number): Region | undefined {
    for (const r of this.regions) if (va >= r.start && va < r.start + r.size) return r;
    return undefined;
  }

  overlaps(start: number, size: number): boolean {
    return this.regions.some((r) => start < r.start + r.size && r.start < start + size);
  }

  /** A free, aligned range of `size` bytes below the mmap top, searching downwards. */
  findFree(size: number, align: number): number {
    let top = this.mmapNext;
    for (;;) {
      const start = Math.floor((top - size) / align) * align;
      if (start < LAYOUT.TEXT_BASE) fail('ENOMEM', 'virtual address space exhausted');
      const clash = this.regions.find((r) => start < r.start + r.size && r.start < start + size);
      if (!clash) {
        this.mmapNext = start;
        return start;
      }
      top = clash.start;
    }
  }

  /**
   * Splits regions so that `va` is a region boundary. Inside a 2 MiB page the
   * page is split into 4 KiB pages first, as Linux splits a transparent huge
   * page: the program asked for 4 KiB pages' semantics, the huge page was the
   * kernel's choice. ENOMEM when no frame is left for the new page table.
   */
  private splitAt(va: number): void {
    let r = this.find(va);
    if (r === undefined || r.start === va) return;
    if ((va - r.start) % r.pageSize !== 0) {
      const huge = va - (va % PAGE_2M);
      this.splitAt(huge);
      this.splitAt(huge + PAGE_2M);
      r = this.demote(this.find(va) as Region);
      if (r.start === va) return;
    }
    const left: Region = { ...r, size: va - r.start };
    const right: Region = { ...r, start: va, size: r.start + r.size - va, pa: r.pa + (va - r.start) };
    r.extent.refs++;
    this.regions.splice(this.regions.indexOf(r), 1, left, right);
  }

  /**
   * Maps the one 2 MiB page of `r` with 512 4 KiB entries to the same frames
   * and rights. The TLB may keep the 2 MiB entry: it translates the same, and
   * the invlpg of any 4 KiB page inside it, which every caller shoots down
   * after changing one, drops it (hw/tlb.ts).
   */
  private demote(r: Region): Region {
    const small: Region = { ...r, pageSize: PAGE_4K };
    this.pt.unmap(r.start, PAGE_2M);
    let mapped = 0;
    try {
      for (; mapped < r.size; mapped += PAGE_4K) this.pt.map(r.start + mapped, r.pa + mapped, PAGE_4K, r);
    } catch (e) {
      // No frame for the page table: the 2 MiB page stays as it was.
      for (let off = 0; off < mapped; off += PAGE_4K) this.pt.unmap(r.start + off, PAGE_4K);
      this.pt.map(r.start, r.pa, PAGE_2M, r);
      throw e;
    }
    this.regions.splice(this.regions.indexOf(r), 1, small);
    this.splits++;
    return small;
  }

  /** Regions wholly inside [start, start+size) after splitting at both ends. */
  private carve(start: number, size: number): Region[] {
    this.splitAt(start);
    this.splitAt(start + size);
    return this.regions.filter((r) => r.start >= start && r.start + r.size <= start + size);
  }

  /**
   * Unmaps [start, start+size). Returns the pages unmapped and the physical
   * extents whose last piece went, to be released after the TLB shootdown.
   */
  unmap(start: number, size: number): { pages: { va: number; size: number }[]; release: number[] } {
    const pages: { va: number; size: number }[] = [];
    const release: number[] = [];
    for (const r of this.carve(start, size)) {
      for (let off = 0; off < r.size; off += r.pageSize) {
        this.pt.unmap(r.start + off, r.pageSize);
        pages.push({ va: r.start + off, size: r.pageSize });
      }
      this.regions.splice(this.regions.indexOf(r), 1);
      if (--r.extent.refs === 0) release.push(r.extent.base);
    }
    return { pages, release };
  }

  /** Changes permissions on [start, start+size); every byte must be mapped. */
  protect(start: number, size: number, flags: PageFlags): { va: number; size: number }[] {
    for (let va = start; va < start + size; ) {
      const r = this.find(va);
      if (r === undefined) fail('ENOMEM', `0x${va.toString(16)} is not mapped`);
      va = r.start + r.size;
    }
    const pages: { va: number; size: number }[] = [];
    for (const r of this.carve(start, size)) {
      const updated: Region = { ...r, ...flags };
      this.regions.splice(this.regions.indexOf(r), 1, updated);
      for (let off = 0; off < r.size; off += r.pageSize) {
        this.pt.map(r.start + off, r.pa + off, r.pageSize, flags);
        pages.push({ va: r.start + off, size: r.pageSize });
      }
    }
    return pages;
  }

  /** Frees every region and table. */
  destroy(): void {
    const released = new Set<number>();
    for (const r of this.regions) {
      if (!released.has(r.extent.base)) {
        released.add(r.extent.base);
        // Scrubbed as it is freed: the next owner sees zeros, and the host drops the frames.
        this.mem.zero(r.extent.base, this.alloc.sizeOf(r.extent.base));
        this.alloc.release(r.extent.base);
      }
    }
    this.regions = [];
    this.pt.destroy();
  }

  view(): RegionView[] {
    return this.regions.map((r) => ({
      kind: r.kind,
      start: r.start,
      end: r.start + r.size,
      pa: r.pa,
      pageSize: r.pageSize,
      perms: `${r.readable ? 'r' : '-'}${r.writable ? 'w' : '-'}${r.executable ? 'x' : '-'}`,
    }));
  }
}
