import { describe, expect, it } from 'vitest';
import { PhysicalMemory } from '../../hw/memory.ts';
import { PAGE_2M, PAGE_4K, PTE_HUGE, PTE_PRESENT, PTE_USER, PTE_WRITABLE, encodePte, tableIndex, walk } from '../../hw/mmu.ts';
import { TLB_USER, TLB_WRITABLE, Tlb } from '../../hw/tlb.ts';

// Builds a four-level table for one mapping by hand, using frames from `next`.
function map(mem: PhysicalMemory, cr3: number, va: number, pa: number, huge: boolean, alloc: () => number) {
  let table = cr3;
  const last = huge ? 2 : 1;
  for (let level = 4; level > last; level--) {
    const entry = table + 8 * tableIndex(va, level);
    const lo = mem.readU32(entry);
    if ((lo & PTE_PRESENT) === 0) encodePte(mem, entry, alloc(), PTE_PRESENT | PTE_WRITABLE | PTE_USER, false);
    table = (mem.readU32(entry) & 0xfffff000) >>> 0;
  }
  encodePte(mem, table + 8 * tableIndex(va, last), pa, PTE_PRESENT | PTE_USER | (huge ? PTE_HUGE : 0), true);
}

describe('the page walker', () => {
  it('translates 4 KiB and 2 MiB pages and reports permissions', () => {
    const mem = new PhysicalMemory(0, 1 << 30);
    let next = 0x100000;
    const alloc = () => (next += PAGE_4K);
    const cr3 = alloc();
    map(mem, cr3, 0x400000, 0x2000_0000, false, alloc);
    map(mem, cr3, 0x4000_0000, 0x3000_0000, true, alloc);
    const small = walk(mem, cr3, 0x400123);
    expect(small).toMatchObject({ ok: true, pageBase: 0x2000_0000, pageSize: PAGE_4K, writable: false, user: true, executable: false, levels: 4 });
    const big = walk(mem, cr3, 0x4000_0000 + 0x12345);
    expect(big).toMatchObject({ ok: true, pageBase: 0x3000_0000, pageSize: PAGE_2M, levels: 3 });
    expect(walk(mem, cr3, 0x800000)).toMatchObject({ ok: false, reason: 'not-present' });
    expect(walk(mem, cr3, 2 ** 48)).toMatchObject({ ok: false, reason: 'non-canonical' });
  });

  it('handles physical frames above 4 GiB', () => {
    const mem = new PhysicalMemory(0, 2 ** 34);
    let next = 0x100000;
    const alloc = () => (next += PAGE_4K);
    const cr3 = alloc();
    map(mem, cr3, 0x1000, 0x3_0000_0000, false, alloc);
    expect(walk(mem, cr3, 0x1008)).toMatchObject({ ok: true, pageBase: 0x3_0000_0000 });
  });
});

describe('the TLB', () => {
  const flags = new Uint8Array(1);

  it('hits only for the address space that inserted the entry', () => {
    const t = new Tlb(8);
    t.insert(1, 0x5000, 0x9000, PAGE_4K, TLB_WRITABLE);
    expect(t.translate(1, 0x5010, flags)).toBe(0x9010);
    expect(flags[0]).toBe(TLB_WRITABLE);
    expect(t.translate(2, 0x5010, flags)).toBe(-1);
    expect([t.hits, t.misses]).toEqual([1, 1]);
  });

  it('evicts the least recently used entry when full', () => {
    const t = new Tlb(2);
    t.insert(1, 0x1000, 0xa000, PAGE_4K, 0);
    t.insert(1, 0x2000, 0xb000, PAGE_4K, 0);
    t.translate(1, 0x1000, flags); // 0x1000 is now the most recent
    t.insert(1, 0x3000, 0xc000, PAGE_4K, 0);
    expect(t.translate(1, 0x2000, flags)).toBe(-1);
    expect(t.translate(1, 0x1000, flags)).toBe(0xa000);
    expect(t.translate(1, 0x3000, flags)).toBe(0xc000);
  });

  it('invalidates one page, one address space, or everything', () => {
    const t = new Tlb(16);
    t.insert(1, 0x1000, 0xa000, PAGE_4K, 0);
    t.insert(1, 0x2000, 0xb000, PAGE_4K, 0);
    t.insert(2, 0x1000, 0xc000, PAGE_4K, 0);
    t.invalidatePage(1, 0x1fff);
    expect(t.translate(1, 0x1000, flags)).toBe(-1);
    expect(t.translate(1, 0x2000, flags)).toBe(0xb000);
    t.flushAsid(1);
    expect(t.translate(1, 0x2000, flags)).toBe(-1);
    expect(t.translate(2, 0x1000, flags)).toBe(0xc000);
    t.flushAll();
    expect(t.size).toBe(0);
  });

  it('maps a whole 2 MiB page with one entry', () => {
    const t = new Tlb(4);
    t.insert(3, 0x20_0000 + 0x1234, 0x4000_0000, PAGE_2M, TLB_USER);
    expect(t.translate(3, 0x20_0000, flags)).toBe(0x4000_0000);
    expect(t.translate(3, 0x3f_ffff, flags)).toBe(0x401f_ffff);
    expect(t.entries()).toHaveLength(1);
    t.invalidatePage(3, 0x30_0000);
    expect(t.translate(3, 0x20_0000, flags)).toBe(-1);
  });

  it('allocates nothing until the first insert', () => {
    const t = new Tlb(512);
    expect(t.entries()).toEqual([]);
    t.flushAll();
    expect(t.translate(0, 0, flags)).toBe(-1);
  });
});
