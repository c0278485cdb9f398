// TLB shootdown. When a mapping of an address space changes, stale
// translations must leave every TLB that may hold them before the frames are
// reused. Only the cores in the address space's cpu mask (those that have
// run it) are interrupted, not every core as Kitten does. With shootdown
// disabled (--no-shootdown) only the local TLB is invalidated.

import type { AddressSpace } from './aspace.ts';
import type { CoreContext, KernelContext } from './context.ts';
import { type KPath, step } from './step.ts';
import { type XcallContext, xcall } from './xcall.ts';

/** Above this many pages a full flush of the address space is cheaper than invlpg each. */
const FLUSH_THRESHOLD = 32;

/** What a shootdown needs of the kernel: cross-calls, the clock and the --no-shootdown option. */
export type ShootdownContext = XcallContext & Pick<KernelContext, 'engine' | 'options'>;

export interface PageRange {
  readonly va: number;
  readonly size: number;
}

function* invalidateLocal(k: Pick<KernelContext, 'profile'>, cpu: CoreContext, aspace: AddressSpace, pages: readonly PageRange[]): KPath {
  const v = k.profile.values;
  if (pages.length > FLUSH_THRESHOLD) {
    cpu.core.tlb.flushAsid(aspace.asid);
    yield step('tlb', 'flush', v['tlb.flushCycles'], `asid ${aspace.asid}`);
    return;
  }
  for (const p of pages) cpu.core.tlb.invalidatePage(aspace.asid, p.va);
  yield step('tlb', 'invlpg', v['tlb.invlpgCycles'] * pages.length, `asid ${aspace.asid}, ${pages.length} page(s)`);
}

export function* shootdown(k: ShootdownContext, cpu: CoreContext, aspace: AddressSpace, pages: readonly PageRange[]): KPath {
  if (pages.length === 0) return;
  const start = k.engine.now;
  yield* invalidateLocal(k, cpu, aspace, pages);
  const targets = [...aspace.cpuMask].filter((c) => c !== cpu.index).sort((a, b) => a - b);
  if (targets.length === 0) return;
  if (!k.options.shootdown) {
    yield step('tlb', 'shootdown-skipped', 0, `cores ${targets.join(',')} keep stale entries (--no-shootdown)`);
    return;
  }
  k.stats.shootdowns++;
  k.stats.shootdownIpis += targets.length;
  yield step('tlb', 'shootdown', 0, `asid ${aspace.asid} -> cores ${targets.join(',')}`);
  yield* xcall(k, cpu, targets, `invalidate asid ${aspace.asid}`, (target) => invalidateLocal(k, target, aspace, pages));
  k.stats.shootdownPs += k.engine.now - start;
}
