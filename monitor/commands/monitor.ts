// `margay monitor`: the plain-text monitor. Reads commands from a script
// (--script FILE, run unattended and echoed with their output) or from
// standard input, one per line, and prints what each shows. The blessed
// console is not built yet: on a terminal this monitor runs in plain text
// and says so.

import { createInterface } from 'node:readline';
import { MACHINE_OPTIONS, flag, parse, str } from '../args.ts';
import { runConsole } from '../console/console.ts';
import type { Output } from '../output.ts';
import { readBounded } from '../files.ts';
import { COMMANDS, MonitorSession } from '../session.ts';

export const HELP = `usage: margay monitor [--script FILE] [--plain] [machine options]

On a terminal: the console (docs/MONITOR.md), on the default machine or the
one the machine options describe. Otherwise, or with --plain or --script,
the plain-text monitor: commands come from FILE (--script, unattended; each
is echoed after '(margay) ') or from standard input, one per line; '#'
starts a comment. An error in a script stops it with exit code 1. Both boot
a machine, launch a job, step through kernel paths, set breakpoints and
inspect nodes, cores, registers, TLBs, APICs, processes and memory.

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage.padEnd(34)} ${c.help}`)
  .join('\n')}`;

/** Why the console cannot run here, or null when it can. */
function consoleUnavailable(): string | null {
  if (!process.stdin.isTTY || !process.stdout.isTTY) return 'standard input or output is not a terminal';
  const term = process.env.TERM ?? '';
  if (term === '' || term === 'dumb') return `the terminal type '${term || '(unset)'}' cannot draw it`;
  if ((process.stdout.columns ?? 0) < 80 || (process.stdout.rows ?? 0) < 24) return `the terminal is ${process.stdout.columns}x${process.stdout.rows}; the console needs 80x24`;
  return null;
}

export async function run(argv: string[], out: Output): Promise<number> {
  const p = parse(argv, { ...MACHINE_OPTIONS, script: { type: 'string' }, plain: { type: 'boolean' } }, 0);
  const bootArgs = argv.filter((a, i) => !['--script', '--plain'].includes(a) && argv[i - 1] !== '--script');
  const boot = `boot ${bootArgs.length > 0 ? bootArgs.join(' ') : '--shape 27x16x24'}`;
  if (str(p, 'script') === undefined && !flag(p, 'plain')) {
    const why = consoleUnavailable();
    if (why === null) return runConsole({ boot });
    out.note(`margay monitor: using the plain-text monitor (${why}; --plain chooses it)`);
  }
  const s = new MonitorSession();
  if (bootArgs.length > 0) for (const l of await s.exec(boot)) out.say(l);
  const script = str(p, 'script');
  if (script !== undefined) {
    const text = new TextDecoder().decode(readBounded(script, 4 * 1024 * 1024, `--script ${script}`));
    for (const line of text.split('\n')) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      out.say(`(margay) ${line.trim()}`);
      const lines = await s.exec(line);
      for (const l of lines) out.say(l);
      if (lines.some((l) => l.startsWith('error:'))) return 1;
      if (s.done) break;
    }
    return 0;
  }
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, terminal: false });
  const prompt = () => {
    if (tty) process.stdout.write('(margay) ');
  };
  prompt();
  for await (const line of rl) {
    for (const l of await s.exec(line)) out.say(l);
    if (s.done) break;
    prompt();
  }
  return 0;
}
