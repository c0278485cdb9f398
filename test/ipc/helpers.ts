// Shared set-up for the distributed-IPC tests: a machine on a chosen profile
// and transport, and a way to run a kernel path on a node (as a cross-call
// the node's core 0 sends itself), as a kernel subsystem would.

import { getProfile, withOverrides } from '../../hw/profile.ts';
import type { Cpu } from '../../kernel/cpu.ts';
import type { PersonalityName } from '../../kernel/ipc/personality.ts';
import type { KPath } from '../../kernel/step.ts';
import { VECTOR } from '../../kernel/vectors.ts';
import { System } from '../../system/system.ts';

export function machine(opts: { nodes: number; transport: PersonalityName; profile?: string; overrides?: Record<string, number>; trace?: boolean }): System {
  let profile = getProfile(opts.profile ?? 'paragon');
  if (opts.overrides !== undefined) profile = withOverrides(profile, opts.overrides, 'test');
  const sys = new System({ profile, shape: { kind: 'mesh', dims: [opts.nodes] }, seed: 1, transport: opts.transport });
  sys.trace.enabled = opts.trace ?? false;
  for (let nid = 0; nid < opts.nodes; nid++) sys.boot(nid);
  return sys;
}

/** Runs `fn` as a kernel path on core 0 of node `nid`. */
export function inKernel(sys: System, nid: number, fn: (cpu: Cpu) => KPath): void {
  const k = sys.kernel(nid);
  const cpu = k.cpus[0];
  k.xcalls.of(0).push({ what: 'test', fn: (c) => fn(k.cpus[c.index]), initiator: cpu, finished: 0 });
  cpu.core.apic.sendIpi(0, VECTOR.xcall);
}

/** Simulated microseconds from picoseconds. */
export const us = (ps: number): number => ps / 1e6;
