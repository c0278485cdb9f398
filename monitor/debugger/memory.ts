// Memory as a debugger shows it: x/NFU and xp/NFU (count, format, unit, as
// in QEMU's monitor and gdb), a page-table walk level by level (Bochs
// `page`, QEMU `gva2gpa`), and a process's address space as mapped ranges
// with their rights.

import { match } from 'ts-pattern';
import { UsageError } from '../args.ts';
import { decodePte, PTE_HUGE, PTE_PRESENT, PTE_USER, PTE_WRITABLE, tableIndex, USER_VA_LIMIT } from '../../hw/mmu.ts';
import type { PhysicalMemory } from '../../hw/memory.ts';
import { decode } from '../../kernel/ext/isa.ts';
import { disassembleOne } from '../../kernel/ext/disasm.ts';
import { hex } from './words.ts';

const FORMATS = ['x', 'd', 'u', 'c', 's', 'i'] as const;
export type Format = (typeof FORMATS)[number];
const UNITS: Readonly<Record<string, number>> = { b: 1, h: 2, w: 4, g: 8 };

/** Most bytes one x/xp shows. */
export const MAX_DUMP = 4096;

export interface Fmt {
  readonly count: number;
  readonly format: Format;
  readonly unit: number;
}

/** Parses the "/NFU" after x or xp ("" means 1 word in hex). Count, format and unit may each be left out. */
export function parseFmt(text: string): Fmt {
  const m = /^(?:\/(\d*)([a-z]?)([a-z]?))?$/.exec(text);
  if (m === null) throw new UsageError(`bad format '${text}': use /NFU, e.g. /4xg (count, format ${FORMATS.join(' ')}, unit b h w g)`);
  let [, n, f, u] = m;
  // "/4g" is a unit, not a format.
  if (f !== undefined && f in UNITS && u === '') [f, u] = ['', f];
  const format = (f || 'x') as Format;
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`unknown format '${f}' (${FORMATS.join(', ')})`);
  if (u !== '' && u !== undefined && !(u in UNITS)) throw new UsageError(`unknown unit '${u}' (b=1, h=2, w=4, g=8 bytes)`);
  const count = n === undefined || n === '' ? 1 : Number(n);
  if (count < 1) throw new UsageError('the count in /NFU must be at least 1');
  const unit = format === 'c' || format === 's' ? 1 : format === 'i' ? 8 : UNITS[u || 'w'];
  return { count, format, unit };
}

/** Bytes a dump needs (strings: up to 256 bytes each). */
export function dumpBytes(f: Fmt): number {
  const n = f.format === 's' ? f.count * 256 : f.count * f.unit;
  if (n > MAX_DUMP) throw new UsageError(`that is ${n} bytes; x and xp show at most ${MAX_DUMP} (fewer items or a smaller unit)`);
  return n;
}

function unitValue(b: Uint8Array, off: number, unit: number): bigint {
  let v = 0n;
  for (let i = unit - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

/** The dump of `bytes` read at `addr`, as x/NFU shows it. */
export function formatDump(addr: number, bytes: Uint8Array, f: Fmt): string[] {
  const at = (i: number) => hex(addr + i).padStart(14) + ':';
  if (f.format === 'i') {
    const p = decode(bytes.subarray(0, f.count * 8));
    return Array.from({ length: p.length }, (_, pc) => `${at(pc * 8)} ${disassembleOne(p, pc)}`);
  }
  if (f.format === 's') {
    const out: string[] = [];
    let i = 0;
    for (let k = 0; k < f.count && i < bytes.length; k++) {
      let end = bytes.indexOf(0, i);
      if (end < 0) end = bytes.length;
      const text = [...bytes.subarray(i, end)].map((c) => (c >= 32 && c < 127 ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
      out.push(`${at(i)} "${text}"`);
      i = end + 1;
    }
    return out;
  }
  // What is left: one value per unit (a character per byte for c).
  const format = f.format;
  const cell = (i: number) => {
    const v = unitValue(bytes, i, f.unit);
    return match(format)
      .with('x', () => `0x${v.toString(16).padStart(f.unit * 2, '0')}`)
      .with('u', () => v.toString().padStart(Math.ceil(f.unit * 2.5)))
      .with('d', () => BigInt.asIntN(f.unit * 8, v).toString().padStart(Math.ceil(f.unit * 2.5) + 1))
      .with('c', () => {
        const c = Number(v);
        return c >= 32 && c < 127 ? `'${String.fromCharCode(c)}'` : `\\x${c.toString(16).padStart(2, '0')}`;
      })
      .exhaustive();
  };
  const perRow = format === 'c' ? 16 : Math.max(1, 16 / f.unit);
  const out: string[] = [];
  for (let i = 0; i < f.count * f.unit; i += perRow * f.unit) {
    const cells: string[] = [];
    for (let j = i; j < Math.min(i + perRow * f.unit, f.count * f.unit); j += f.unit) cells.push(cell(j));
    out.push(`${at(i)} ${cells.join(' ')}`);
  }
  return out;
}

/** The classic hex-and-ASCII dump (x NODE[/PID] ADDR LEN). */
export function hexDump(addr: number, bytes: Uint8Array): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const ascii = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
    out.push(`${hex(addr + i).padStart(14)}  ${[...row].map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(48)} ${ascii}`);
  }
  return out;
}

const LEVEL_NAME = ['', 'PT', 'PD', 'PDPT', 'PML4'];

function flagText(flags: number, nx: boolean): string {
  return `${flags & PTE_PRESENT ? 'P' : '-'}${flags & PTE_WRITABLE ? 'W' : 'R'}${flags & PTE_USER ? 'U' : 'S'}${flags & PTE_HUGE ? 'H' : '-'}${nx ? ' NX' : ''}`;
}

export interface WalkStep {
  readonly level: string;
  readonly index: number;
  readonly entryAddr: number;
  readonly frame: number;
  readonly flags: string;
}

/** Walks the 4-level page tables at `cr3` for `va`, level by level; the physical address or why there is none. */
export function pageWalk(mem: PhysicalMemory, cr3: number, va: number): { steps: WalkStep[]; pa: number | null; why: string; pageSize: number } {
  const steps: WalkStep[] = [];
  if (va >= USER_VA_LIMIT) return { steps, pa: null, why: `${hex(va)} is not a canonical user address (below ${hex(USER_VA_LIMIT)})`, pageSize: 0 };
  let table = cr3;
  for (let level = 4; level >= 1; level--) {
    const entryAddr = table + 8 * tableIndex(va, level);
    const e = decodePte(mem, entryAddr);
    steps.push({ level: LEVEL_NAME[level], index: tableIndex(va, level), entryAddr, frame: e.frame, flags: flagText(e.flags, e.noExecute) });
    if ((e.flags & PTE_PRESENT) === 0) return { steps, pa: null, why: `not present at the ${LEVEL_NAME[level]} level`, pageSize: 0 };
    if (level === 2 && (e.flags & PTE_HUGE) !== 0) return { steps, pa: e.frame - (e.frame % 2 ** 21) + (va % 2 ** 21), why: '', pageSize: 2 ** 21 };
    if (level === 1) return { steps, pa: e.frame + (va % 4096), why: '', pageSize: 4096 };
    table = e.frame;
  }
  return { steps, pa: null, why: 'not present', pageSize: 0 };
}

export function walkLines(va: number, w: ReturnType<typeof pageWalk>): string[] {
  return [
    ...w.steps.map((s) => `  ${s.level.padEnd(4)} [${String(s.index).padStart(3)}] entry at ${hex(s.entryAddr)} -> ${hex(s.frame)} ${s.flags}`),
    w.pa === null ? `  ${hex(va)}: no translation (${w.why})` : `  ${hex(va)} -> physical ${hex(w.pa)} (${w.pageSize === 4096 ? '4 KiB' : '2 MiB'} page)`,
  ];
}

export interface RegionLike {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
  readonly pa: number;
  readonly pageSize: number;
  readonly perms: string;
}

/** Mapped ranges with rights, as QEMU's `info mem` shows them. */
export function rangeLines(regions: readonly RegionLike[]): string[] {
  return regions.map((r) => `  ${hex(r.start).padStart(14)}-${hex(r.end).padEnd(14)} ${hex(r.end - r.start).padStart(10)} ${r.perms}  ${r.kind.padEnd(6)} phys ${hex(r.pa)} (${r.pageSize === 4096 ? '4K' : '2M'} pages)`);
}
