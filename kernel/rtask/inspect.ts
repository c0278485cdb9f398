// What the inspection API hands the monitor of remote tasking (`info
// rtask`): per booted node, the jobs it is the source of and the tasks it
// holds, with each area's VM object (pages resident, children paging from
// it). Read-only.

import type { Kernel } from '../kernel.ts';
import type { RJob, RtaskStats } from './node.ts';
import { SOURCE, pagerOf } from './shape.ts';

export interface RtaskObjectView {
  readonly area: number;
  readonly kind: string;
  readonly pages: number;
  readonly resident: number;
  readonly refs: number;
  readonly fetching: number;
}

export interface RtaskJobView {
  readonly jobId: number;
  /** -1 for the source. */
  readonly rank: number;
  readonly plan: string;
  readonly pid: number | null;
  readonly state: string;
  /** The node this one pages from (null for the source). */
  readonly pagerNid: number | null;
  readonly objects: readonly RtaskObjectView[];
}

export interface RtaskNodeView {
  readonly node: number;
  readonly stats: RtaskStats;
  readonly jobs: readonly RtaskJobView[];
}

function jobView(k: Kernel, j: RJob): RtaskJobView {
  const p = j.process;
  const state = j.torn ? 'torn down' : j.tearing ? 'tearing down' : j.ended ? 'ended' : j.rank === SOURCE ? 'source' : j.started ? (p?.alive ? 'running' : 'exited') : 'created';
  return {
    jobId: j.jobId,
    rank: j.rank,
    plan: `${j.plan.algorithm} ${j.plan.creation}, ${j.plan.paging} paging${j.plan.nms ? ', nms' : ''}`,
    pid: p?.pid ?? null,
    state,
    pagerNid: j.rank === SOURCE ? null : k.rtask.nidOf(j, pagerOf(j.plan.paging, j.rank)),
    objects: j.objects.flatMap((o) => (o === null ? [] : [{ area: o.area.index, kind: o.area.kind, pages: o.resident.length, resident: o.resident.reduce((a, b) => a + b, 0), refs: o.refs, fetching: o.fetching.size }])),
  };
}

export function rtaskView(kernels: readonly Kernel[], node?: number): RtaskNodeView[] {
  return kernels
    .filter((k) => (node === undefined || k.nid === node) && (k.rtask.sources.size > 0 || k.rtask.tasks.size > 0))
    .map((k) => ({ node: k.nid, stats: { ...k.rtask.stats }, jobs: [...k.rtask.sources.values(), ...k.rtask.tasks.values()].map((j) => jobView(k, j)) }));
}
