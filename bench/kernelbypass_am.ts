// Kernel bypass benchmark, Active Messages half: on each profile, the
// round trip against message size (0 to 4 KiB) of raw U-Net, Active
// Messages over U-Net, Active Messages over Portals, a Portals put answered
// by a kernel extension (ext_pingpong) and one answered by a user process
// (pingpong), all as twice the published one-way latency; the kernel time AM over Portals costs per zero-byte
// one-way trip (the trace's time per kernel path, both nodes together,
// empty polls included: it shows where the kernel's share goes, and can
// exceed the one-way time since both nodes work at once); and the Split-C matrix
// multiply's fraction of peak with and without overlap on 4 ranks.

import { getProfile } from '../hw/profile.ts';
import { System } from '../system/system.ts';
import type { UserProgram } from '../kernel/abi.ts';
import { APPS } from '../userland/apps/index.ts';

const SIZES = [0, 64, 256, 512, 1024, 2048, 4096];
const MATMUL_M = [4, 8, 16, 32];

function run(profile: string, app: UserProgram, argv: string[], ranks = 2, trace = false): { results: Map<string, number>; peer: Map<string, number>; sys: System } {
  const sys = new System({ profile: getProfile(profile), shape: { kind: 'mesh', dims: [ranks] }, seed: 1 });
  sys.trace.enabled = trace;
  const job = sys.launchDirect(app, Array.from({ length: ranks }, (_, i) => i), argv);
  sys.run({ done: () => sys.jobDone(job) });
  const bad = job.ranks.find((r) => r.process?.exitStatus !== 0);
  if (bad) throw new Error(`${app.name} ${argv.join(' ')}: rank ${bad.rank} ${bad.process?.exitReason ?? bad.error}`);
  return { results: job.ranks[0].process!.results, peer: job.ranks[1].process!.results, sys };
}

export interface AmBypassResult {
  profile: string;
  round_trip_ns: Record<'unet' | 'am_unet' | 'am_portals' | 'portals_ext' | 'portals_user', Record<string, number>>;
  /** Runs of the answering extension on the receiver (ext_stats): the put really was answered in the kernel. */
  portals_ext_handler_runs: number;
  /** Per zero-byte AM over Portals one-way trip: time in each kernel path, both nodes together, empty polls included. */
  am_portals_kernel_ns_per_trip: Record<string, number>;
  matmul_4_ranks: { m: number; overlap: number; no_overlap: number }[];
  wall_s: number;
}

export function benchKernelBypassAm(profile: string): AmBypassResult {
  const t0 = process.hrtime.bigint();
  const sz = SIZES.map(String);
  const rt = (r: Map<string, number>) => Object.fromEntries(SIZES.map((s) => [s, 2 * r.get(`latency_ns_${s}`)!]));
  const ext = run(profile, APPS.ext_pingpong, sz);
  const round_trip_ns = {
    unet: rt(run(profile, APPS.unet_pingpong, sz).results),
    am_unet: rt(run(profile, APPS.am_pingpong, ['unet', ...sz]).results),
    am_portals: rt(run(profile, APPS.am_pingpong, ['portals', ...sz]).results),
    portals_ext: rt(ext.results),
    portals_user: rt(run(profile, APPS.pingpong, sz).results),
  };
  // A zero-byte exchange traced: the last ITERATIONS round trips, by kernel path.
  const traced = run(profile, APPS.am_pingpong, ['portals', '0'], 2, true);
  const oneWay = traced.results.get('zero_byte_latency_ns')!;
  const recs = traced.sys.trace.last();
  const end = recs.at(-1)!.t;
  const window = end - 20 * oneWay * 1000;
  const byPath: Record<string, number> = {};
  for (const x of recs) if (x.t >= window && x.dur !== undefined) byPath[x.path] = (byPath[x.path] ?? 0) + x.dur;
  const breakdown: Record<string, number> = {};
  for (const [p, ps] of Object.entries(byPath)) breakdown[p] = Math.round(ps / 1000 / 20);
  const mm = run(profile, APPS.splitc_matmul, MATMUL_M.map(String), 4).results;
  return {
    profile,
    round_trip_ns,
    portals_ext_handler_runs: ext.peer.get('ext_runs') ?? 0,
    am_portals_kernel_ns_per_trip: breakdown,
    matmul_4_ranks: MATMUL_M.map((m) => ({ m, overlap: mm.get(`peak_fraction_m${m}`)!, no_overlap: mm.get(`peak_fraction_m${m}_nooverlap`)! })),
    wall_s: +(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3),
  };
}
