// Shared set-up for kernel tests: a small machine and a way to run a main().

import { getProfile, withOverrides } from '../../hw/profile.ts';
import type { UserProgram } from '../../kernel/abi.ts';
import { System } from '../../system/system.ts';
import { type Main, program } from '../../userland/lib/runtime.ts';

export function boot(opts: { nodes?: number; cores?: number; shootdown?: boolean; seed?: number; trace?: boolean } = {}): System {
  let profile = getProfile('redstorm');
  if (opts.cores !== undefined) profile = withOverrides(profile, { 'cpu.cores': opts.cores }, 'test');
  const sys = new System({ profile, shape: { kind: 'mesh', dims: [opts.nodes ?? 1] }, seed: opts.seed ?? 1, shootdown: opts.shootdown ?? true });
  sys.trace.enabled = opts.trace ?? true;
  return sys;
}

/** Runs `main` as rank 0 on node 0 (and further ranks on further nodes) to completion. */
export function runMain(main: Main, opts: Parameters<typeof boot>[0] & { ranks?: number; argv?: string[] } = {}) {
  const sys = boot({ nodes: opts.ranks ?? 1, ...opts });
  const prog = program('test', main);
  return runProgram(sys, prog, opts.ranks ?? 1, opts.argv ?? []);
}

export function runProgram(sys: System, prog: UserProgram, ranks = 1, argv: string[] = []) {
  const job = sys.launchDirect(prog, Array.from({ length: ranks }, (_, i) => i), argv);
  const stop = sys.run({ done: () => sys.jobDone(job), until: 10e12 });
  const p = job.ranks[0].process!;
  return { sys, job, stop, p, stdout: p.stdout.join(''), results: Object.fromEntries(p.results) };
}

/** The trace as "path/step" strings, optionally only those matching a prefix. */
export function steps(sys: System, prefix = ''): string[] {
  return sys.trace
    .last()
    .map((r) => `${r.path}/${r.step}`)
    .filter((s) => s.startsWith(prefix));
}
