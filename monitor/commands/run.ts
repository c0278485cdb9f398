// `margay run`: boots a machine, starts a program on every compute node and
// runs it to the end; prints a summary or, with --json, the report.

import { parseTime } from '../../hw/time.ts';
import { System } from '../../kernel/system.ts';
import { MACHINE_HELP, MACHINE_OPTIONS, type Parsed, UsageError, flag, intOption, machineChoice, parse, str } from '../args.ts';
import type { Output } from '../output.ts';
import { appNames, resolveProgram } from '../programs.ts';
import { buildReport, summaryLines } from '../report.ts';

export const HELP = `usage: margay run <app | ./path/to/program.ts> [options] [-- args]

Boots the machine, starts the program as the init task on every compute node
(--load direct, as Kitten starts its init_task), runs until every rank has
exited, and reports per-rank exit status, output and published results.

  --ranks N          ranks on nodes 0..N-1 (default: every node of the machine)
  --no-shootdown     do not send TLB shootdown IPIs (stale TLB entries stay)
  --time-limit T     stop after T of simulated time (default 10s; e.g. 500ms, 2s)
  --trace FILE       write every kernel step to FILE as JSON lines
  --json             print the report as one JSON document (schema: docs/REPORT.md)

With neither --nodes nor --shape, the machine has 16 nodes.
apps: ${appNames().join(', ')}

${MACHINE_HELP}`;

export const RUN_OPTIONS = {
  ...MACHINE_OPTIONS,
  'no-shootdown': { type: 'boolean' },
  'time-limit': { type: 'string' },
  trace: { type: 'string' },
  json: { type: 'boolean' },
  load: { type: 'string' },
  ranks: { type: 'string' },
} as const;

export async function run(argv: string[], out: Output): Promise<number> {
  return runJob(parse(argv, RUN_OPTIONS, 1), out);
}

/** Runs a parsed `margay run` command line (shared with `margay start`). */
export async function runJob(p: Parsed, out: Output): Promise<number> {
  const name = p.positionals[0];
  if (name === undefined) throw new UsageError('name an app or a program file (try margay run hello)');
  const load = str(p, 'load') ?? 'direct';
  if (load !== 'direct') throw new UsageError(`--load ${load} is not available yet (only direct)`);
  if (str(p, 'shape') === undefined && str(p, 'nodes') === undefined) p.values.nodes = '16';
  const choice = machineChoice(p);
  let limit: number;
  try {
    limit = parseTime(str(p, 'time-limit') ?? '10s');
  } catch (e) {
    throw new UsageError(`--time-limit: ${(e as Error).message}`);
  }
  const program = await resolveProgram(name);
  const sys = new System({ ...choice, shootdown: !flag(p, 'no-shootdown') });
  const traceFile = str(p, 'trace');
  if (traceFile !== undefined) sys.trace.streamTo(traceFile);
  const nodes = intOption(p, 'ranks', 1, sys.machine.size) ?? (str(p, 'nodes') !== undefined ? Number(str(p, 'nodes')) : sys.machine.size);
  const start = process.hrtime.bigint();
  const job = sys.launchDirect(program, Array.from({ length: nodes }, (_, i) => i), p.rest);
  const stop = sys.run({ done: () => sys.jobDone(job), until: limit });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  sys.trace.close();
  const report = buildReport(sys, job, stop, load, wall);
  if (flag(p, 'json')) out.json(report);
  else for (const l of summaryLines(report)) out.say(l);
  return report.job.status === 'completed' ? 0 : 1;
}
