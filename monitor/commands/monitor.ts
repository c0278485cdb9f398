// `margay monitor`: the plain-text monitor. Reads commands from a script
// (--script FILE, run unattended and echoed with their output) or from
// standard input, one per line, and prints what each shows. The blessed
// console is not built yet: on a terminal this monitor runs in plain text
// and says so.

import { createInterface } from 'node:readline';
import { MACHINE_OPTIONS, flag, parse, str } from '../args.ts';
import { runConsole } from '../console/console.ts';
import type { Output } from '../output.ts';
import { MAX_SCRIPT_BYTES, readBounded } from '../files.ts';
import { COMMANDS, MonitorSession } from '../session.ts';

export const HELP = `usage: margay monitor [--script FILE] [--plain] [--json] [machine options]

On a terminal: the console (docs/MONITOR.md), on the default machine or the
one the machine options describe. Otherwise, or with --plain or --script,
the plain-text monitor: commands come from FILE (--script, unattended; each
is echoed after '(margay) ') or from standard input, one per line; '#'
starts a comment. From a pipe each command is echoed after '(margay) '
too; typing 'stop' (or Ctrl-C) ends a running continue/until/run. --json
answers each command with one JSON object a line: command, ok, error,
output (the lines), data (the structured answer, when there is one),
time_ps and events. An error in a script stops it with exit code 1. Both boot
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
  const own = ['--script', '--plain', '--json'];
  const p = parse(argv, { ...MACHINE_OPTIONS, script: { type: 'string' }, plain: { type: 'boolean' }, json: { type: 'boolean' } }, 0);
  const bootArgs = argv.filter((a, i) => !own.includes(a) && argv[i - 1] !== '--script');
  const boot = `boot ${bootArgs.length > 0 ? bootArgs.join(' ') : '--shape 27x16x24'}`;
  const json = flag(p, 'json');
  if (str(p, 'script') === undefined && !flag(p, 'plain') && !json) {
    const why = consoleUnavailable();
    if (why === null) return runConsole({ boot });
    out.note(`margay monitor: using the plain-text monitor (${why}; --plain chooses it)`);
  }
  const s = new MonitorSession();
  // One command: echoed after the prompt with its output, or one JSON object a line (--json).
  const one = async (line: string, echo: boolean): Promise<string[]> => {
    if (json) {
      const o = await s.execJson(line);
      // JSON Lines: one compact object a line on stdout, so a tool can read answers as they come.
      process.stdout.write(JSON.stringify(o) + '\n');
      return o.ok ? [] : ['error:'];
    }
    if (echo) out.say(`(margay) ${line.trim()}`);
    const lines = await s.exec(line);
    for (const l of lines) out.say(l);
    return lines;
  };
  if (bootArgs.length > 0) await one(boot, true);
  const script = str(p, 'script');
  if (script !== undefined) {
    const text = new TextDecoder().decode(readBounded(script, MAX_SCRIPT_BYTES, `--script ${script}`));
    for (const line of text.split('\n')) {
      if (line.trim() === '' || line.trim().startsWith('#')) continue;
      const lines = await one(line, true);
      if (lines.some((l) => l.startsWith('error:'))) return 1;
      if (s.done) break;
    }
    return 0;
  }
  // Standard input: on a terminal a prompt; from a pipe each command is echoed
  // after the prompt so output can be matched to it. `stop` (or Ctrl-C) read
  // while a run is going ends the run; other lines wait their turn.
  const tty = process.stdin.isTTY === true;
  const rl = createInterface({ input: process.stdin, terminal: false });
  const queue: string[] = [];
  let wake: (() => void) | null = null;
  let closed = false;
  rl.on('line', (line) => {
    if (s.running && line.trim() === 'stop') {
      s.stopRequested = true;
      if (!json && !tty) out.say('(margay) stop');
      return;
    }
    queue.push(line);
    wake?.();
  });
  rl.on('close', () => {
    closed = true;
    wake?.();
  });
  const onSigint = () => {
    if (s.running) s.stopRequested = true;
    else s.done = true;
  };
  process.on('SIGINT', onSigint);
  const prompt = () => {
    if (tty && !json) process.stdout.write('(margay) ');
  };
  try {
    prompt();
    for (;;) {
      if (queue.length === 0) {
        if (closed || s.done) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
        continue;
      }
      const line = queue.shift()!;
      if (line.trim() === '' || line.trim().startsWith('#')) {
        prompt();
        continue;
      }
      await one(line, !tty);
      if (s.done) break;
      prompt();
    }
  } finally {
    process.off('SIGINT', onSigint);
    rl.close();
  }
  return 0;
}
