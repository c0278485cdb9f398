// Portals benchmark: pingpong between two neighbouring nodes under each
// profile: one-way zero-byte put latency, large-put bandwidth, and where the
// zero-byte time goes, read from the trace.

import { getProfile } from '../hw/profile.ts';
import { System } from '../system/system.ts';
import { APPS } from '../userland/apps/index.ts';

export interface PortalsBenchResult {
  profile: string;
  zero_byte_latency_ns: number;
  bandwidth_MBps_1MiB: number;
  /** One zero-byte put, from the initiator's trap to the target's PtlEQWait returning. */
  breakdown_ns: { trap_and_arguments: number; send_path_nic_wire: number; interrupt_and_match: number; eoi_wake_switch: number; total: number };
  wall_s: number;
}

export function benchPortals(profileName: string): PortalsBenchResult {
  const t0 = process.hrtime.bigint();
  const sys = new System({ profile: getProfile(profileName), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  const job = sys.launchDirect(APPS.pingpong, [0, 1], ['0', '1048576']);
  sys.run({ done: () => sys.jobDone(job) });
  const r = job.ranks[0].process!.results;
  // A second run with tracing on for the breakdown of one zero-byte put.
  const traced = new System({ profile: getProfile(profileName), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  traced.trace.enabled = true;
  const tj = traced.launchDirect(APPS.pingpong, [0, 1], ['0']);
  traced.run({ done: () => traced.jobDone(tj) });
  const recs = traced.trace.last();
  const sends = recs.flatMap((x, i) => (x.node === 0 && x.path === 'portals' && x.step === 'send' ? [i] : []));
  const si = sends[sends.length - 1];
  let ei = si;
  while (!(recs[ei].node === 0 && recs[ei].path === 'syscall' && recs[ei].step === 'entry')) ei--;
  const after = (pred: (i: number) => boolean) => {
    for (let i = si; i < recs.length; i++) if (pred(i)) return recs[i].t;
    return NaN;
  };
  const tIrq = after((i) => recs[i].node === 1 && recs[i].path === 'irq' && recs[i].step === 'entry');
  const tEvent = after((i) => recs[i].node === 1 && recs[i].path === 'portals' && recs[i].step === 'event');
  const tDone = after((i) => recs[i].node === 1 && recs[i].path === 'syscall' && recs[i].step === 'exit' && recs[i].detail.startsWith('ptl_eq_wait'));
  const ns = (ps: number) => Math.round(ps / 1000);
  return {
    profile: profileName,
    zero_byte_latency_ns: r.get('zero_byte_latency_ns')!,
    bandwidth_MBps_1MiB: r.get('bandwidth_MBps')!,
    breakdown_ns: {
      trap_and_arguments: ns(recs[si].t - recs[ei].t),
      send_path_nic_wire: ns(tIrq - recs[si].t),
      interrupt_and_match: ns(tEvent - tIrq),
      eoi_wake_switch: ns(tDone - tEvent),
      total: ns(tDone - recs[ei].t),
    },
    wall_s: +(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(3),
  };
}
