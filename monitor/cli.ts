// The `margay` command: dispatches to one module per command. Every command
// has --help; a bad flag is one line on stderr and exit code 2; a failure of
// the simulated machine is reported, never a host stack trace.

import { UsageError } from './args.ts';
import * as conformance from './commands/conformance.ts';
import * as docs from './commands/docs.ts';
import * as image from './commands/image.ts';
import * as machine from './commands/machine.ts';
import * as monitor from './commands/monitor.ts';
import * as run from './commands/run.ts';
import * as start from './commands/start.ts';
import * as sweep from './commands/sweep.ts';
import { consoleOutput } from './output.ts';

interface Command {
  readonly HELP: string;
  run(argv: string[], out: ReturnType<typeof consoleOutput>): number | Promise<number>;
}

const COMMANDS: Readonly<Record<string, { summary: string; module: Command }>> = {
  start: { summary: 'boot the default machine and run the default job (what `npm start` runs)', module: start },
  run: { summary: 'boot a machine and run a program on its compute nodes', module: run },
  image: { summary: 'write a program\'s ELF64 executable image, or check an image file', module: image },
  monitor: { summary: 'the plain-text monitor: boot, run, step, break and inspect (a script or stdin)', module: monitor },
  sweep: { summary: 'load the same job over a range of node counts and fan-outs; JSON and SVG curve', module: sweep },
  machine: { summary: 'describe a machine: shape, topology, resources, profile parameters', module: machine },
  conformance: { summary: 'run a conformance suite (ebpf or portals4) and report pass/fail per script', module: conformance },
  docs: { summary: 'regenerate the generated files in docs/ (profiles, ABI)', module: docs },
};

export const HELP = `usage: margay <command> [options]

Margay: a lightweight-kernel emulator (a simulated mesh/torus machine).

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

Run 'margay <command> --help' for a command's options.`;

/** `margay run ... | head`: a reader that stops reading ends the output quietly, not with a host stack trace. */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  quietOnClosedPipe();
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP + '\n');
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`margay: unknown command '${name}' (try 'margay --help')\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.module.HELP + '\n');
    return 0;
  }
  const out = consoleOutput(rest.includes('--json'));
  try {
    return await cmd.module.run(rest, out);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`margay ${name}: ${e.message}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`margay ${name}: internal error: ${err.message}\n`);
    if (process.env.MARGAY_DEBUG) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
