// The x86-64 page-table format and the hardware page walker: four levels
// (PML4, PDPT, PD, PT) of 512 64-bit entries in physical memory, 4 KiB pages
// and 2 MiB pages (PS bit in the PD entry). The kernel writes entries with
// `encodePte`; the core's MMU walks them on a TLB miss.

import type { PhysicalMemory } from './memory.ts';

export const PAGE_4K = 4096;
export const PAGE_2M = 2 * 1024 * 1024;

export const PTE_PRESENT = 1 << 0;
export const PTE_WRITABLE = 1 << 1;
export const PTE_USER = 1 << 2;
export const PTE_HUGE = 1 << 7;

/** Canonical 48-bit user half: 0 .. 2^47-1. */
export const USER_VA_LIMIT = 2 ** 47;

export interface Translation {
  readonly ok: true;
  /** Physical address of the start of the page. */
  readonly pageBase: number;
  readonly pageSize: number;
  readonly writable: boolean;
  readonly user: boolean;
  readonly executable: boolean;
  /** Page-table levels read (for the walk's cost). */
  readonly levels: number;
}

export interface WalkFault {
  readonly ok: false;
  readonly reason: 'not-present' | 'non-canonical';
  readonly level: number;
}

export type WalkResult = Translation | WalkFault;

const LEVEL_SHIFT = [0, 2 ** 12, 2 ** 21, 2 ** 30, 2 ** 39];

/** Index into the table at `level` (4 = PML4 ... 1 = PT) for virtual address `va`. */
export function tableIndex(va: number, level: number): number {
  return Math.floor(va / LEVEL_SHIFT[level]) % 512;
}

/** Writes one page-table entry (8 bytes) at `entryAddr`. */
export function encodePte(mem: PhysicalMemory, entryAddr: number, frame: number, flags: number, noExecute: boolean): void {
  const lo = ((frame % 2 ** 32) & 0xfffff000) | (flags & 0xfff);
  const hi = (Math.floor(frame / 2 ** 32) & 0xfffff) | (noExecute ? 0x80000000 : 0);
  mem.writeU32(entryAddr, lo >>> 0);
  mem.writeU32(entryAddr + 4, hi >>> 0);
}

export interface DecodedPte {
  readonly frame: number;
  readonly flags: number;
  readonly noExecute: boolean;
}

export function decodePte(mem: PhysicalMemory, entryAddr: number): DecodedPte {
  const lo = mem.readU32(entryAddr);
  const hi = mem.readU32(entryAddr + 4);
  return {
    frame: (hi & 0xfffff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0),
    flags: lo & 0xfff,
    noExecute: (hi & 0x80000000) !== 0,
  };
}

/** Walks the tables rooted at `cr3` for `va`. Never throws for a bad address; faults are results. */
export function walk(mem: PhysicalMemory, cr3: number, va: number): WalkResult {
  if (!(Number.isSafeInteger(va) && va >= 0 && va < USER_VA_LIMIT)) return { ok: false, reason: 'non-canonical', level: 4 };
  let table = cr3;
  let writable = true;
  let user = true;
  let executable = true;
  for (let level = 4; level >= 1; level--) {
    // decodePte's fields, read in place: a walk runs on every TLB miss.
    const at = table + 8 * tableIndex(va, level);
    const lo = mem.readU32(at);
    const hi = mem.readU32(at + 4);
    const flags = lo & 0xfff;
    const frame = (hi & 0xfffff) * 2 ** 32 + ((lo & 0xfffff000) >>> 0);
    if ((flags & PTE_PRESENT) === 0) return { ok: false, reason: 'not-present', level };
    writable &&= (flags & PTE_WRITABLE) !== 0;
    user &&= (flags & PTE_USER) !== 0;
    executable &&= (hi & 0x80000000) === 0;
    if (level === 2 && (flags & PTE_HUGE) !== 0) {
      return { ok: true, pageBase: frame - (frame % PAGE_2M), pageSize: PAGE_2M, writable, user, executable, levels: 5 - level };
    }
    if (level === 1) return { ok: true, pageBase: frame, pageSize: PAGE_4K, writable, user, executable, levels: 4 };
    table = frame;
  }
  return { ok: false, reason: 'not-present', level: 1 };
}
