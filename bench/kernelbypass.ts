// Kernel bypass benchmark, U-Net half: on each profile, the raw U-Net
// round trip against message size (0 to 4 KiB, base level and direct
// access) beside the Portals pingpong's zero-byte round trip, streaming
// bandwidth base vs direct, and where a zero-byte U-Net message's one-way
// time goes, read from the trace. (Active Messages add their rows later.)

import { getProfile } from '../hw/profile.ts';
import { System } from '../system/system.ts';
import type { UserProgram } from '../kernel/abi.ts';
import { APPS } from '../userland/apps/index.ts';

const SIZES = [0, 64, 256, 512, 1024, 2048, 4096];

function run(profile: string, app: UserProgram, argv: string[], trace = false): { results: Map<string, number>; sys: System } {
  const sys = new System({ profile: getProfile(profile), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = trace;
  const job = sys.launchDirect(app, [0, 1], argv);
  sys.run({ done: () => sys.jobDone(job) });
  return { results: job.ranks[0].process!.results, sys };
}

export interface KernelBypassResult {
  profile: string;
  /** Round trip (twice the published one-way latency) by message size. */
  unet_round_trip_ns: Record<string, number>;
  unet_direct_round_trip_ns: Record<string, number>;
  portals_round_trip_ns_0: number;
  unet_zero_byte_latency_ns: number;
  portals_zero_byte_latency_ns: number;
  /** Streaming bandwidth by message size. */
  unet_bandwidth_MBps: Record<string, number>;
  unet_direct_bandwidth_MBps: Record<string, number>;
  /** One zero-byte message, from the doorbell store to the receive write-back's end. */
  breakdown_ns: { doorbell_and_descriptor_fetch: number; dma_injection_wire: number; receive_demux_free_fetch_dma: number; write_back: number; total_nic: number };
  wall_s: number;
}

export function benchKernelBypass(profile: string): KernelBypassResult {
  const t0 = process.hrtime.bigint();
  const sz = SIZES.map(String);
  const base = run(profile, APPS.unet_pingpong, sz).results;
  const direct = run(profile, APPS.unet_pingpong, ['direct', ...sz]).results;
  const portals = run(profile, APPS.pingpong, ['0']).results;
  const bw = run(profile, APPS.unet_bandwidth, SIZES.slice(1).map(String)).results;
  const bwd = run(profile, APPS.unet_bandwidth, ['direct', ...SIZES.slice(1).map(String)]).results;
  const rt = (r: Map<string, number>) => Object.fromEntries(SIZES.map((s) => [s, 2 * r.get(`latency_ns_${s}`)!]));
  const mb = (r: Map<string, number>) => Object.fromEntries(SIZES.slice(1).map((s) => [s, r.get(`bandwidth_MBps_${s}`)!]));
  // The last zero-byte message rank 0 sent, step by step on both NICs.
  const recs = run(profile, APPS.unet_pingpong, ['0'], true).sys.trace.last().filter((x) => x.path === 'unet-nic' && !x.detail.startsWith('control'));
  const last = (node: number, step: string, before = Infinity) => recs.filter((x) => x.node === node && x.step === step && x.t < before).at(-1)!;
  const wb = last(1, 'receive write-back');
  const demux = last(1, 'receive demux', wb.t);
  const dma = last(0, 'send buffer DMA', demux.t);
  const bell = last(0, 'doorbell', dma.t);
  const ns = (ps: number) => Math.round(ps / 1000);
  return {
    profile,
    unet_round_trip_ns: rt(base),
    unet_direct_round_trip_ns: rt(direct),
    portals_round_trip_ns_0: 2 * portals.get('zero_byte_latency_ns')!,
    unet_zero_byte_latency_ns: base.get('zero_byte_latency_ns')!,
    portals_zero_byte_latency_ns: portals.get('zero_byte_latency_ns')!,
    unet_bandwidth_MBps: mb(bw),
    unet_direct_bandwidth_MBps: mb(bwd),
    breakdown_ns: {
      doorbell_and_descriptor_fetch: ns(dma.t - bell.t),
      dma_injection_wire: ns(demux.t - dma.t),
      receive_demux_free_fetch_dma: ns(wb.t - demux.t),
      write_back: ns(wb.dur ?? 0),
      total_nic: ns(wb.t + (wb.dur ?? 0) - bell.t),
    },
    wall_s: +(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3),
  };
}
