// Memory calls: mmap, munmap, mprotect, brk, and the LWK address-space
// queries. Mappings are backed by contiguous memory allocated at the call;
// changes to existing mappings shoot down stale TLB entries on other cores
// before any frame is freed.

import { LAYOUT } from '../abi.ts';
import { MAX_DSM_BYTES } from '../dsm/calls.ts';
import { fail } from '../errno.ts';
import { PAGE_2M, PAGE_4K, type PageFlags } from '../pagetable.ts';
import { type KPath, step } from '../step.ts';
import { shootdown } from '../tlbflush.ts';
import { copyout, i64bytes } from '../uaccess.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from './context.ts';
import { FLAGS } from './table.ts';
import { USER_VA_LIMIT as USER_TOP } from '../../hw/mmu.ts';

const { PROT_READ, PROT_WRITE, PROT_EXEC, MAP_SHARED, MAP_PRIVATE, MAP_FIXED, MAP_ANONYMOUS } = FLAGS;

function protFlags(prot: number): PageFlags {
  if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC)) fail('EINVAL', `unknown prot bits 0x${prot.toString(16)}`);
  return { readable: prot !== 0, writable: (prot & PROT_WRITE) !== 0, executable: (prot & PROT_EXEC) !== 0 };
}

function pageRound(len: number): number {
  if (len === 0) fail('EINVAL', 'length 0');
  const r = Math.ceil(len / PAGE_4K) * PAGE_4K;
  if (r > USER_TOP) fail('ENOMEM', 'length larger than the address space');
  return r;
}

/** Page-table entries written to split the 2 MiB pages a call split since `splitsBefore` (aspace.ts). */
function splitEntries(c: SyscallCtx, splitsBefore: number): number {
  return (c.p.aspace.splits - splitsBefore) * (PAGE_2M / PAGE_4K);
}

function* unmapRange(c: SyscallCtx, start: number, len: number): KPath {
  const splits = c.p.aspace.splits;
  const { pages, release } = c.p.aspace.unmap(start, len);
  if (pages.length === 0) return;
  yield step('mm', 'unmap', c.k.profile.values['kernel.mapPageCycles'] * (pages.length + splitEntries(c, splits)), `0x${start.toString(16)} ${pages.length} page(s)`);
  yield* shootdown(c.k, c.cpu, c.p.aspace, pages);
  // Frames go back only now that no TLB can reach them.
  for (const base of release) c.k.phys.release(base);
}

/**
 * The kernel DSM maps its pages one by one in this window and changes their
 * rights itself (kernel/dsm/): mmap, munmap and mprotect may not touch it
 * (dsm_detach is how a process gives the region up).
 */
function refuseDsmWindow(call: string, addr: number, len: number): void {
  if (addr < LAYOUT.DSM_BASE + MAX_DSM_BYTES && addr + len > LAYOUT.DSM_BASE) fail('EINVAL', `${call} over the kernel DSM window (0x${LAYOUT.DSM_BASE.toString(16)}, ${MAX_DSM_BYTES} bytes)`);
}

/**
 * The job load a rank was created from is mapped read-only at
 * LAYOUT.IMAGE_BASE: it is the kernel's copy that the rank passes on to its
 * children (kernel/job/forward.ts), so no process may change or unmap it.
 */
function refuseJobLoad(c: SyscallCtx, call: string, addr: number, len: number): void {
  const img = c.p.aspace.find(LAYOUT.IMAGE_BASE);
  if (img !== undefined && img.kind === 'image' && addr < img.start + img.size && addr + len > img.start) fail('EINVAL', `${call} over the job load the kernel mapped at 0x${img.start.toString(16)} (read-only for good)`);
}

export function* sys_mmap(c: SyscallCtx): KPath<number> {
  const addr = argPtr(c, 0);
  const len = pageRound(argSize(c, 1));
  const prot = argInt(c, 2);
  const flags = argInt(c, 3);
  const fd = argInt(c, 4);
  if (!(flags & MAP_ANONYMOUS)) fail(fd === -1 ? 'EINVAL' : 'ENODEV', 'only anonymous mappings (no file system on a compute node)');
  if (((flags & MAP_SHARED) !== 0) === ((flags & MAP_PRIVATE) !== 0)) fail('EINVAL', 'exactly one of MAP_SHARED and MAP_PRIVATE');
  const pflags = protFlags(prot);
  const aspace = c.p.aspace;
  const huge = len % PAGE_2M === 0;
  let start: number;
  if (flags & MAP_FIXED) {
    if (addr % PAGE_4K !== 0 || addr < PAGE_4K || addr + len > USER_TOP) fail('EINVAL', 'MAP_FIXED address must be page aligned and in user space');
    refuseDsmWindow('MAP_FIXED', addr, len);
    refuseJobLoad(c, 'MAP_FIXED', addr, len);
    start = addr;
    if (aspace.overlaps(start, len)) yield* unmapRange(c, start, len);
  } else {
    start = aspace.findFree(len, huge ? PAGE_2M : PAGE_4K);
  }
  const region = aspace.addRegion('mmap', start, len, pflags, huge && start % PAGE_2M === 0);
  const pages = len / region.pageSize;
  yield step('mm', 'mmap', c.k.profile.values['kernel.mapPageCycles'] * pages, `0x${start.toString(16)} ${len} B (${region.pageSize === PAGE_2M ? '2M' : '4K'} pages) phys 0x${region.pa.toString(16)}`);
  return start;
}

export function* sys_munmap(c: SyscallCtx): KPath<number> {
  const addr = argPtr(c, 0);
  const len = pageRound(argSize(c, 1));
  if (addr % PAGE_4K !== 0) fail('EINVAL', 'address must be page aligned');
  refuseDsmWindow('munmap', addr, len);
  refuseJobLoad(c, 'munmap', addr, len);
  yield* unmapRange(c, addr, len);
  return 0;
}

export function* sys_mprotect(c: SyscallCtx): KPath<number> {
  const addr = argPtr(c, 0);
  const len = pageRound(argSize(c, 1));
  const pflags = protFlags(argInt(c, 2));
  if (addr % PAGE_4K !== 0) fail('EINVAL', 'address must be page aligned');
  refuseDsmWindow('mprotect', addr, len);
  refuseJobLoad(c, 'mprotect', addr, len);
  const splits = c.p.aspace.splits;
  const pages = c.p.aspace.protect(addr, len, pflags);
  // Memory the process can no longer write, the NIC can no longer write either.
  if (!pflags.writable) c.k.portals.revokeWrite(c.p, addr, len);
  yield step('mm', 'mprotect', c.k.profile.values['kernel.mapPageCycles'] * (pages.length + splitEntries(c, splits)), `0x${addr.toString(16)} ${pages.length} page(s)`);
  yield* shootdown(c.k, c.cpu, c.p.aspace, pages);
  return 0;
}

export function* sys_brk(c: SyscallCtx): KPath<number> {
  const addr = argPtr(c, 0);
  const a = c.p.aspace;
  // The heap was reserved and mapped at creation, so moving the break maps nothing.
  if (addr >= a.brkStart && addr <= a.brkEnd) a.brk = addr;
  yield step('mm', 'brk', c.k.profile.values['kernel.syscallWorkCycles'], `0x${a.brk.toString(16)}`);
  return a.brk;
}

export function* sys_lwk_aspace_regions(c: SyscallCtx): KPath<number> {
  const buf = argPtr(c, 0);
  const max = argSize(c, 1);
  const regions = c.p.aspace.view().slice(0, Math.min(max, 4096));
  const words: number[] = [];
  for (const r of regions) words.push(r.start, r.end, r.pa, (r.perms.includes('r') ? 1 : 0) | (r.perms.includes('w') ? 2 : 0) | (r.perms.includes('x') ? 4 : 0));
  if (words.length > 0) yield* copyout(c.k, c.cpu, c.p, buf, i64bytes(...words));
  return regions.length;
}

export function* sys_lwk_set_fault_handler(c: SyscallCtx): KPath<number> {
  const handler = argPtr(c, 0);
  const previous = c.p.faultHandler;
  c.p.faultHandler = handler;
  yield step('fault', 'set-handler', c.k.profile.values['kernel.syscallWorkCycles'], `0x${handler.toString(16)}`);
  return previous;
}

export function* sys_lwk_tlb_stats(c: SyscallCtx): KPath<number> {
  const tlb = c.cpu.core.tlb;
  yield* copyout(c.k, c.cpu, c.p, argPtr(c, 0), i64bytes(tlb.hits, tlb.misses, tlb.flushes, tlb.invalidations));
  return 0;
}
