// Handler invocation on a busy receiver (issue 13, the seed-000 argument
// with user-level networking): on each profile, with one core per node so a
// handler must take the core from the work, the busy_handler app's mean
// round trip of a small request and the receiver's lost compute, for Active
// Messages over U-Net polling every P us of work (several P), Active
// Messages with the upcall (interrupt-driven), and a kernel extension
// answering a Portals put in the receive interrupt. All figures are read
// from the runs' published results.

import { getProfile, withOverrides } from '../hw/profile.ts';
import { System } from '../system/system.ts';
import { svgPlot } from '../monitor/svgplot.ts';
import { APPS } from '../userland/apps/index.ts';

export const POLL_PERIODS_US = [5, 20, 100, 500];
export const BUSY_PROFILES = ['redstorm', 'paragon', 'modern', 'atm95'];

export interface BusyRow {
  mode: string;
  round_trip_ns: number;
  lost_compute_ns: number;
}

export interface BusyHandlerResult {
  profile: string;
  rows: BusyRow[];
}

export function busyRun(profile: string, mode: string): BusyRow {
  const p = withOverrides(getProfile(profile), { 'cpu.cores': 1 }, 'busy receiver: one core per node');
  const sys = new System({ profile: p, shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = false;
  const job = sys.launchDirect(APPS.busy_handler, [0, 1], [mode]);
  sys.run({ done: () => sys.jobDone(job), until: 60e12 });
  const bad = job.ranks.find((r) => r.process?.exitStatus !== 0);
  if (bad) throw new Error(`busy_handler ${mode} on ${profile}: rank ${bad.rank} ${bad.process?.exitReason ?? bad.error}`);
  return { mode, round_trip_ns: job.ranks[0].process!.results.get('round_trip_ns')!, lost_compute_ns: job.ranks[1].process!.results.get('lost_compute_ns')! };
}

export function benchBusyHandler(profile: string): BusyHandlerResult {
  const modes = [...POLL_PERIODS_US.map((p) => `poll:${p}`), 'upcall', 'ext'];
  return { profile, rows: modes.map((m) => busyRun(profile, m)) };
}

/** Round trip against the polling period; the upcall and the extension, which do not poll, as flat lines. */
export function busyHandlerSvg(results: readonly BusyHandlerResult[]): string {
  const series = results.flatMap((r) => {
    const at = (mode: string) => r.rows.find((x) => x.mode === mode)!.round_trip_ns / 1000;
    const flat = (name: string, y: number) => ({ name, points: POLL_PERIODS_US.map((x) => ({ x, y })) });
    return [
      { name: `${r.profile} AM polling`, points: POLL_PERIODS_US.map((x) => ({ x, y: at(`poll:${x}`) })) },
      flat(`${r.profile} AM upcall`, at('upcall')),
      flat(`${r.profile} extension`, at('ext')),
    ];
  });
  return svgPlot('round trip to a busy receiver against its polling period', 'polling period P (us of work)', 'round trip (us, simulated)', series, { logX: true, logY: true });
}
