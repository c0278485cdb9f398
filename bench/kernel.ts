// Kernel benchmark: the simulated cost of a null syscall (getpid) and of a
// TLB shootdown under a profile, read from the trace, plus how fast the host
// simulates syscalls.

import { getProfile, withOverrides } from '../hw/profile.ts';
import { System } from '../system/system.ts';
import { program } from '../userland/lib/runtime.ts';

export interface KernelBenchResult {
  profile: string;
  null_syscall_ns: number;
  null_syscall_cycles: number;
  shootdown_ns: number;
  /** Cross-call IPIs per shootdown (one per other core that ran the address space). */
  ipis_per_shootdown: number;
  host_syscalls_per_s: number;
}

export function benchKernel(profileName = 'redstorm', calls = 200_000): KernelBenchResult {
  const profile = withOverrides(getProfile(profileName), { 'cpu.cores': 2 }, 'bench');
  const hz = profile.values['cpu.clockHz'];

  // One traced getpid: from its entry step to the end of its exit step.
  const traced = new System({ profile, shape: { kind: 'mesh', dims: [1] }, seed: 1 });
  traced.trace.enabled = true;
  const probe = traced.launchDirect(program('null', function* (env) {
    yield* env.sys.getpid();
    yield* env.sys.getpid();
  }), [0], []);
  traced.run({ done: () => traced.jobDone(probe) });
  const recs = traced.trace.last();
  const d = recs.findIndex((r) => r.path === 'syscall' && r.step === 'dispatch' && r.detail === 'getpid');
  const entry = recs[d - 1];
  const exit = recs.slice(d).find((r) => r.path === 'syscall' && r.step === 'exit')!;
  const nullPs = exit.t + Math.ceil((profile.values['kernel.trapExitCycles'] * 1e12) / hz) - entry.t;

  // A shootdown to one other core that ran the address space.
  const sd = new System({ profile, shape: { kind: 'mesh', dims: [1] }, seed: 1 });
  const job = sd.launchDirect(program('shoot', function* (env) {
    const a = yield* env.sys.mmap(0, 4096, 3, 0x22);
    const h = yield* env.spawn(function* (t) {
      yield* t.mem.loadU64(a);
      yield* t.compute(1_000_000);
    });
    yield* env.compute(100_000);
    yield* env.sys.munmap(a, 4096);
    yield* env.join(h);
  }), [0], []);
  sd.run({ done: () => sd.jobDone(job) });
  const k = sd.kernel(0);

  // Host speed: many null syscalls on 16 nodes.
  const host = new System({ profile, shape: { kind: 'mesh', dims: [16] }, seed: 1 });
  const perNode = Math.ceil(calls / 16);
  const many = host.launchDirect(program('many', function* (env) {
    for (let i = 0; i < perNode; i++) yield* env.sys.getpid();
  }), Array.from({ length: 16 }, (_, i) => i), []);
  const t0 = process.hrtime.bigint();
  host.run({ done: () => host.jobDone(many) });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;

  return {
    profile: profileName,
    null_syscall_ns: nullPs / 1000,
    null_syscall_cycles: Math.round((nullPs * hz) / 1e12),
    shootdown_ns: k.stats.shootdowns ? k.stats.shootdownPs / k.stats.shootdowns / 1000 : 0,
    ipis_per_shootdown: k.stats.shootdowns ? k.stats.shootdownIpis / k.stats.shootdowns : 0,
    host_syscalls_per_s: Math.round((perNode * 16) / wall),
  };
}
