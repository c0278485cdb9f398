// What the inspection API hands the monitor of the kernel DSM (`info dsm [page]`): for each
// region, every node's access to a page, the requests it waits for, and the
// manager's record (owner, copies, the transaction in progress, the queue).
// Read-only: nothing here changes the protocol's state.

import type { Kernel } from '../kernel.ts';
import { ACCESS_NAME, type DsmRegion } from './region.ts';

export interface DsmPageView {
  readonly page: number;
  readonly manager: number;
  readonly owner: number;
  readonly copies: readonly number[];
  readonly busy: string | null;
  readonly queued: number;
  readonly lostWith: number;
  /** Per rank: its node, its access, what it asked for, threads waiting. */
  readonly ranks: readonly { rank: number; node: number; access: string; pending: string; waiting: number }[];
}

export interface DsmRegionView {
  readonly key: string;
  readonly ranks: number;
  readonly pages: number;
  readonly base: number;
  readonly pageViews: readonly DsmPageView[];
}

/** The regions on the booted nodes, one view per job; `page` narrows to one page. */
export function dsmView(kernels: readonly Kernel[], page?: number): DsmRegionView[] {
  const byKey = new Map<string, Map<number, DsmRegion>>();
  for (const k of kernels) {
    for (const [key, r] of k.dsm.regions) {
      let m = byKey.get(key);
      if (m === undefined) byKey.set(key, (m = new Map()));
      m.set(r.rank, r);
    }
  }
  const out: DsmRegionView[] = [];
  for (const [key, ranks] of [...byKey].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const any = ranks.values().next().value!;
    const pages = page === undefined ? [...Array(any.pages).keys()] : page >= 0 && page < any.pages ? [page] : [];
    out.push({
      key,
      ranks: any.size,
      pages: any.pages,
      base: any.base,
      pageViews: pages.map((p) => {
        const mgrRank = any.managerOf(p);
        const m = ranks.get(mgrRank)?.managed.get(p);
        return {
          page: p,
          manager: mgrRank,
          owner: m?.owner ?? -1,
          copies: m === undefined ? [] : [...m.copyset].sort((a, b) => a - b),
          busy: m?.busy ? `${ACCESS_NAME[m.busy.access]} for rank ${m.busy.requester}${m.busy.acks > 0 ? `, ${m.busy.acks} ack(s) to come` : ''}` : null,
          queued: m?.queue.length ?? 0,
          lostWith: m?.lostWith ?? -1,
          ranks: [...ranks.values()]
            .sort((a, b) => a.rank - b.rank)
            .map((r) => ({ rank: r.rank, node: r.nids[r.rank], access: ACCESS_NAME[r.access[p]], pending: ACCESS_NAME[r.pending[p]], waiting: r.waiters.get(p)?.length ?? 0 })),
        };
      }),
    });
  }
  return out;
}
