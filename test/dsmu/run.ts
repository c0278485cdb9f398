// Runs a program as a job on `ranks` nodes in-process and returns the report
// (the DSM tests' one way to run a job).

import type { UserProgram } from '../../kernel/abi.ts';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';

/** `maxEvents`: a bound for a run that may never end (a livelock fails its test here, not at the run's time limit). */
export function runDsmJob(prog: UserProgram, ranks: number, argv: string[] = [], seed = 1, profile = 'redstorm', maxEvents?: number) {
  const sys = new System({ profile: getProfile(profile), shape: { kind: 'mesh', dims: [ranks + 1] }, seed });
  sys.trace.enabled = false;
  const fanout = { kind: 'flat' } as const;
  const job = launch(sys, { load: 'two-phase', fanout, programs: [prog], map: [{ firstNid: 0, count: ranks, image: 0 }], argv, timeoutUs: 10_000_000 });
  const stop = sys.run({ done: () => sys.jobDone(job), until: 100e12, maxEvents });
  return buildReport(sys, job, stop, fanout, 0);
}

/** The stderr of every rank, for failure messages. */
export const stderrOf = (r: ReturnType<typeof runDsmJob>) => r.ranks.map((k) => k.stderr).join('');
