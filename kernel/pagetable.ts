// Building x86-64 page tables in a node's physical memory: map, unmap and
// re-protect 4 KiB or 2 MiB pages. Table frames come from the node's
// physical allocator and are freed when the address space is destroyed.

import type { PhysicalMemory } from '../hw/memory.ts';
import { PAGE_2M, PAGE_4K, PTE_HUGE, PTE_PRESENT, PTE_USER, PTE_WRITABLE, encodePte, tableIndex, walk, type WalkResult } from '../hw/mmu.ts';
import type { ContiguousAllocator } from '../hw/physalloc.ts';
import { fail } from './errno.ts';

export interface PageFlags {
  /** False for PROT_NONE: the page stays allocated but its entry is not present. */
  readonly readable: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

export class PageTables {
  readonly root: number;
  private readonly tableFrames: number[] = [];
  /** Entries written (for the cost of a mapping operation). */
  writes = 0;

  constructor(
    private readonly mem: PhysicalMemory,
    private readonly alloc: ContiguousAllocator,
  ) {
    this.root = this.newTable();
  }

  private newTable(): number {
    const f = this.alloc.alloc(PAGE_4K, PAGE_4K);
    if (f === null) fail('ENOMEM', 'out of physical memory for page tables');
    this.mem.zero(f, PAGE_4K);
    this.tableFrames.push(f);
    return f;
  }

  /** The table entry address for `va` at `level`, creating intermediate tables as needed. */
  private entry(va: number, level: number, create: boolean): number {
    let table = this.root;
    for (let l = 4; l > level; l--) {
      const addr = table + 8 * tableIndex(va, l);
      // decodePte's fields, read in place (no object per level of every mapping).
      const lo = this.mem.readU32(addr);
      const flags = lo & 0xfff;
      if ((flags & PTE_PRESENT) === 0) {
        if (!create) return -1;
        const t = this.newTable();
        encodePte(this.mem, addr, t, PTE_PRESENT | PTE_WRITABLE | PTE_USER, false);
        this.writes++;
        table = t;
      } else {
        if ((flags & PTE_HUGE) !== 0) return -1;
        table = (this.mem.readU32(addr + 4) & 0xfffff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0);
      }
    }
    return table + 8 * tableIndex(va, level);
  }

  /** Maps (or re-protects) one page of `size` bytes at `va` to physical `pa`. */
  map(va: number, pa: number, size: number, flags: PageFlags): void {
    const level = size === PAGE_2M ? 2 : 1;
    const addr = this.entry(va, level, true);
    if (addr < 0) throw new RangeError(`cannot map 0x${va.toString(16)}: covered by a larger page`);
    const bits = flags.readable ? PTE_PRESENT | PTE_USER | (flags.writable ? PTE_WRITABLE : 0) | (level === 2 ? PTE_HUGE : 0) : 0;
    encodePte(this.mem, addr, flags.readable ? pa : 0, bits, !flags.executable);
    this.writes++;
  }

  /** Clears the entry for the page of `size` at `va`. */
  unmap(va: number, size: number): void {
    const addr = this.entry(va, size === PAGE_2M ? 2 : 1, false);
    if (addr < 0) return;
    encodePte(this.mem, addr, 0, 0, false);
    this.writes++;
  }

  translate(va: number): WalkResult {
    return walk(this.mem, this.root, va);
  }

  /** Frees every table frame. */
  destroy(): void {
    for (const f of this.tableFrames) {
      this.mem.zero(f, PAGE_4K);
      this.alloc.release(f);
    }
    this.tableFrames.length = 0;
  }

  get tablePages(): number {
    return this.tableFrames.length;
  }
}

export { PAGE_2M, PAGE_4K };
