// `margay start` (what `npm start` runs): boots the default machine and runs
// the default job on it, then points at what to try next.

import { MACHINE_HELP, parse } from '../args.ts';
import type { Output } from '../output.ts';
import { RUN_OPTIONS, runJob } from './run.ts';

export const HELP = `usage: margay start [run options]

Boots the default machine (Red Storm: 10,368 nodes in a 27x16x24 mesh, the
last one the service node) and runs the default job: yod launches hello on
the first 64 compute nodes over a binomial tree (two-phase load). Takes
every option of 'margay run' (see margay run --help).

${MACHINE_HELP}`;

export async function run(argv: string[], out: Output): Promise<number> {
  const p = parse(argv, RUN_OPTIONS, 1);
  if (p.positionals.length === 0) p.positionals.push('hello');
  if (p.values.shape === undefined && p.values.nodes === undefined) p.values.shape = '27x16x24';
  if (p.values.ranks === undefined) p.values.ranks = '64';
  const code = await runJob(p, out);
  out.say('');
  out.say('Next: margay monitor (the console: watch and step this machine; try load hello, break jobload/*, F5, F7),');
  out.say('      margay run hello --nodes 1024 --fanout flat, margay sweep --counts 1-64 --svg curve.svg, margay run --help');
  return code;
}
