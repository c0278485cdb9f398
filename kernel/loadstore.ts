// User-mode loads and stores: translated through the core's TLB, walking
// the page tables on a miss and caching the result. A stale TLB entry is
// used as the hardware would use it. A miss that finds no user mapping, or a
// write to a read-only page, raises a page fault (the fault path).

import { TLB_USER, TLB_WRITABLE } from '../hw/tlb.ts';
import type { UserOp, UserResult } from './abi.ts';
import type { CoreContext, KernelContext } from './context.ts';
import { pageFaultPath } from './fault.ts';
import type { Thread } from './process.ts';
import type { KPath } from './step.ts';

/** Largest single user load or store. */
const MAX_ACCESS = 1 << 30;

export interface AccessResult {
  readonly value: UserResult;
  readonly cycles: number;
  readonly fault: KPath<unknown> | null;
}

const flags = new Uint8Array(1);

export function userAccess(k: KernelContext, cpu: CoreContext, t: Thread, op: Extract<UserOp, { op: 'load' | 'store' }>): AccessResult {
  const write = op.op === 'store';
  const va = op.va;
  const len = write ? (op.bytes instanceof Uint8Array ? op.bytes.length : -1) : op.len;
  if (!Number.isSafeInteger(va) || va < 0 || !Number.isSafeInteger(len) || len < 0 || len > MAX_ACCESS) {
    return { value: undefined, cycles: 0, fault: pageFaultPath(k, cpu, t, Number.isSafeInteger(va) ? va : -1, write, 'invalid address or length') };
  }
  const core = cpu.core;
  const tlb = core.tlb;
  const asid = core.asid;
  const mem = k.node.memory;
  const v = k.profile.values;
  const out = write ? undefined : new Uint8Array(len);
  let cycles = 1 + Math.ceil(len / v['kernel.copyBytesPerCycle']);
  let done = 0;
  // A zero-length access still checks the first byte's page, as real hardware would not; skip it.
  while (done < len) {
    const a = va + done;
    let pa = tlb.translate(asid, a, flags);
    if (pa < 0) {
      cycles += v['tlb.missCycles'];
      const w = t.process.aspace.pt.translate(a);
      if (!w.ok) return { value: undefined, cycles, fault: fault(k, cpu, t, op, a, write, w.reason) };
      if (!w.user) return { value: undefined, cycles, fault: pageFaultPath(k, cpu, t, a, write, 'supervisor page') };
      const f = (w.writable ? TLB_WRITABLE : 0) | TLB_USER;
      tlb.insert(asid, a, w.pageBase, w.pageSize, f);
      flags[0] = f;
      pa = w.pageBase + (a % w.pageSize);
    }
    if (write && (flags[0] & TLB_WRITABLE) === 0) {
      return { value: undefined, cycles, fault: fault(k, cpu, t, op, a, write, 'write to a read-only page') };
    }
    // Bytes up to the end of this 4 KiB page (a 2 MiB page simply hits again).
    const n = Math.min(4096 - (a % 4096), len - done);
    // Most accesses are a few bytes within one page: no subarray for those.
    const whole = done === 0 && n === len;
    if (write) {
      const bytes = (op as { bytes: Uint8Array }).bytes;
      mem.write(pa, whole ? bytes : bytes.subarray(done, done + n));
    } else mem.read(pa, whole ? out! : out!.subarray(done, done + n));
    done += n;
  }
  return { value: out, cycles, fault: null };
}

/** A fault in the kernel DSM's region is served by its protocol (KernelContext.regionFault); any other is a page fault. */
function fault(k: KernelContext, cpu: CoreContext, t: Thread, op: Extract<UserOp, { op: 'load' | 'store' }>, a: number, write: boolean, reason: string): KPath<unknown> {
  return k.regionFault(cpu, t, op, a, write) ?? pageFaultPath(k, cpu, t, a, write, reason);
}
