// The seed's remote-tasking experiments (seed 002, Figures 6 to 13) as runs
// of the mechanisms: each point launches a job with --load crtc on a Paragon
// and reads what yod and the ranks measured in simulated time (creation,
// page-in, termination). Nothing here computes an expected curve.

import { getProfile } from '../hw/profile.ts';
import type { PersonalityName } from '../kernel/ipc/personality.ts';
import { System } from '../system/system.ts';
import { APPS } from '../userland/apps/index.ts';
import { DEFAULT_RTASK, type RtaskChoice } from '../userland/lib/rtask.ts';
import { launch } from './launch.ts';
import { buildReport } from './report.ts';

/** What a point measures: creation (yod's rtask_create), page-in (the slowest rank's), or termination. */
export type Measure = 'create' | 'pagein' | 'terminate';

export interface PointSpec {
  readonly profile: string;
  /** The machine: a 2D mesh (the seed's Paragon had 56 nodes; the last is the service node, the source). */
  readonly mesh: readonly [number, number];
  readonly ranks: number;
  readonly transport: PersonalityName;
  readonly rtask: RtaskChoice;
  readonly measure: Measure;
  /** cor_touch's arguments for the page-in measures. */
  readonly argv?: readonly string[];
}

export interface Point {
  readonly x: number;
  /** Simulated ns of what the figure measures (null: the run failed). */
  readonly ns: number | null;
  readonly status: string;
}

const TIMEOUT_US = 3600e6;

export function measure(spec: PointSpec): { ns: number | null; status: string } {
  const sys = new System({ profile: getProfile(spec.profile), shape: { kind: 'mesh', dims: [...spec.mesh] }, seed: 1, transport: spec.transport });
  sys.trace.enabled = false;
  const job = launch(sys, {
    load: 'crtc',
    fanout: { kind: 'binomial' },
    programs: [spec.measure === 'pagein' ? APPS.cor_touch : APPS.hello],
    map: [{ firstNid: 0, count: spec.ranks, image: 0 }],
    argv: spec.argv ?? [],
    timeoutUs: TIMEOUT_US,
    rtask: spec.rtask,
    terminate: spec.measure === 'terminate',
  });
  const stop = sys.run({ done: () => sys.jobDone(job), until: 4000e12 });
  const r = buildReport(sys, job, stop, null, 0);
  const yod = r.yod?.results ?? {};
  const ns =
    spec.measure === 'create' ? (yod.rtask_create_ns ?? null)
    : spec.measure === 'terminate' ? (yod.rtask_terminate_ns ?? null)
    : (r.results.pagein_ns?.max ?? null);
  const ok = spec.measure === 'terminate' ? yod.ranks_terminated === spec.ranks : r.job.status === 'completed';
  return { ns: ok ? ns : null, status: ok ? 'ok' : (r.yod?.stderr.trim() || r.job.status) };
}

export const rtask = (o: Partial<RtaskChoice>): RtaskChoice => ({ ...DEFAULT_RTASK, ...o });
