// `margay monitor`: the plain-text monitor. Reads commands from a script
// (--script FILE, run unattended and echoed with their output) or from
// standard input, one per line, and prints what each shows. The blessed
// console is not built yet: on a terminal this monitor runs in plain text
// and says so.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { UsageError, flag, parse, str } from '../args.ts';
import type { Output } from '../output.ts';
import { COMMANDS, MonitorSession } from '../session.ts';

export const HELP = `usage: margay monitor [--script FILE] [--plain]

The plain-text monitor: boot a machine, launch a job, step through kernel
paths, set breakpoints and inspect nodes, cores, registers, TLBs, APICs,
processes and memory. Commands come from FILE (--script, unattended; each is
echoed after '(margay) ') or from standard input, one per line; '#' starts
a comment. An error in a script stops it with exit code 1.

commands:
${Object.values(COMMANDS)
  .map((c) => `  ${c.usage.padEnd(34)} ${c.help}`)
  .join('\n')}`;

export async function run(argv: string[], out: Output): Promise<number> {
  const p = parse(argv, { script: { type: 'string' }, plain: { type: 'boolean' } }, 0);
  const s = new MonitorSession();
  const script = str(p, 'script');
  if (script !== undefined) {
    let text: string;
    try {
      text = readFileSync(script, 'utf8');
    } catch (e) {
      throw new UsageError(`cannot read --script ${script}: ${(e as Error).message}`);
    }
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
  if (tty && !flag(p, 'plain')) out.note('margay monitor: the blessed console is not available yet; using the plain-text monitor');
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
