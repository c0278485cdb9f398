// Monitor fuzzer: random and mutated command lines into monitor sessions
// (real commands with hostile arguments, garbage, huge numbers, unicode),
// and random argv for the margay subcommands run in-process. A session may
// answer anything, but only as lines: an exception out of `exec`, or a line
// saying "internal error", is a failure. A CLI command may fail only with a
// UsageError (one line, exit code 2).
//
// Bounds that keep the fuzzer fast (documented, not hidden): commands that
// run the machine are skipped when the booted machine has more than 64
// nodes, the machine options offer small shapes and invalid large ones, and
// every file a command writes goes into a temporary directory.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../hw/rng.ts';
import { UsageError } from '../../monitor/args.ts';
import * as image from '../../monitor/commands/image.ts';
import * as machine from '../../monitor/commands/machine.ts';
import * as run from '../../monitor/commands/run.ts';
import * as sweep from '../../monitor/commands/sweep.ts';
import { bufferOutput } from '../../monitor/output.ts';
import { ALIASES, COMMANDS, MonitorSession } from '../../monitor/session.ts';

export interface MonitorFuzzCounts {
  lines: number;
  /** Lines answered with an `error:` line (refused cleanly). */
  errors: number;
  /** Lines not run because the machine was too large for a bounded fuzz. */
  skipped: number;
  sessions: number;
  cliCases: number;
  cliUsageErrors: number;
  hostExceptions: number;
  internalErrors: number;
  failures: string[];
}

const NUMBERS = ['0', '1', '2', '3', '-1', '7', '64', '0x10', '0xffffffffffffffff', '9007199254740991', '9007199254740992', '99999999999999999999', '1e3', '1.5', 'NaN', 'Infinity', '-0', '٣', '１', '0x', '00', '4294967296'];
const WORDS = ['hello', 'pingpong', 'nope', 'héllo', '💥', '-', '--', '%s', '${x}', '\u0000', 'x'.repeat(3000), 'jobload/*', '*', 'syscall/*', 'node', 'core', 'pid', 'syscall', 'vector', 'write', 'on', 'off', 'last', 'list', 'show', 'step', 'trace', 'nodes', 'job', 'break', 'regs', 'ps', 'mem', 'cpu', 'tlb', 'apic', '0.0', '1.1', '99.99', '0/100', '1/1', '1ms', '10us', '1e9s', '5s', '0ps', 'two-phase', 'one-phase', 'binomial', 'tree:0', 'tree:3', 'flat', 'flat-concurrent'];
const SHAPES = ['2', '3', 'mesh:2x2', 'torus:3x1', 'mesh:0', '1000000x1000000', 'ring:3', '2x', 'mesh:99999999999999999999'];
const SETS = ['cpu.cores=2', 'cpu.cores=0', 'cpu.cores=99999999999999999999', 'nic.dmaBandwidth=1G', 'nope=1', '=', 'cpu.cores', 'net.linkBandwidth=-1'];
const PROFILES = ['redstorm', 'paragon', 'modern', 'nope', ''];
const MACHINE_VALUES: Record<string, string[]> = { nodes: ['1', '2', '3', '0', '-1', '4194305', '99999999999999999999', '1.5', '8x'], shape: SHAPES, cores: ['1', '2', '0', '257', '1e2', '99999999999999999999'], seed: NUMBERS, set: SETS, profile: PROFILES };

/** The unicode and control characters garbage and mutations draw from. */
const CHARS = 'abcz019 -_./:*=#\t\u00e9\u4e2d\ud83d\udca5\u0000\u200b\u202e\\"\'';

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.nextInt(xs.length)];

function optionsOf(help: string): string[] {
  return [...new Set([...help.matchAll(/--([a-z][\w-]*)/g)].map((m) => m[1]))];
}

class Files {
  readonly dir = mkdtempSync(join(tmpdir(), 'margay-monfuzz-'));
  readonly fifo = join(this.dir, 'fifo');
  readonly script = join(this.dir, 'script.txt');
  constructor() {
    execFileSync('mkfifo', [this.fifo]);
    writeFileSync(join(this.dir, 'config.json'), '{"cpu": {"cores": 2}}');
    writeFileSync(join(this.dir, 'bad.json'), '{"cpu": ');
    writeFileSync(join(this.dir, 'bad.elf'), new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]));
    writeFileSync(join(this.dir, 'prog.ts'), 'export default 42;\n');
  }
  /** Files a command may read: regular, missing, a directory, a device, a FIFO. */
  inputs(): string[] {
    return [join(this.dir, 'config.json'), join(this.dir, 'bad.json'), join(this.dir, 'bad.elf'), join(this.dir, 'prog.ts'), join(this.dir, 'missing'), this.dir, '/dev/zero', this.fifo];
  }
  /** Places a command may write: a fresh file, a directory, a missing directory. */
  outputs(): string[] {
    return [join(this.dir, 'out'), this.dir, join(this.dir, 'missing', 'out')];
  }
  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const FILE_INPUT = new Set(['config', 'check', 'script']);
const FILE_OUTPUT = new Set(['output', 'svg', 'trace']);

function value(rng: Rng, opt: string, files: Files): string {
  if (FILE_INPUT.has(opt)) return pick(rng, files.inputs());
  if (FILE_OUTPUT.has(opt)) return pick(rng, files.outputs());
  const own = MACHINE_VALUES[opt];
  if (own !== undefined && rng.nextInt(4) !== 0) return pick(rng, own);
  return rng.nextInt(2) === 0 ? pick(rng, NUMBERS) : pick(rng, WORDS);
}

function garbage(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += pick(rng, [...CHARS]);
  return s;
}

function mutateLine(rng: Rng, line: string): string {
  const cs = [...line];
  const n = 1 + rng.nextInt(3);
  for (let i = 0; i < n; i++) {
    const at = rng.nextInt(cs.length + 1);
    const op = rng.nextInt(3);
    if (op === 0) cs.splice(at, 0, pick(rng, [...CHARS]));
    else if (op === 1) cs.splice(at, 1);
    else cs.splice(at, 1, pick(rng, NUMBERS));
  }
  return cs.join('');
}

const COMMAND_NAMES = [...Object.keys(COMMANDS), ...Object.keys(ALIASES)];

function commandLine(rng: Rng, files: Files): string {
  const name = pick(rng, COMMAND_NAMES);
  const cmd = COMMANDS[name] ?? COMMANDS[ALIASES[name]];
  const words: string[] = [name];
  const opts = name === 'boot' ? [...Object.keys(MACHINE_VALUES), 'config'] : optionsOf(cmd.usage);
  const n = rng.nextInt(5);
  for (let i = 0; i < n; i++) {
    const r = rng.nextInt(4);
    if (r === 0 && opts.length > 0) {
      const o = pick(rng, opts);
      words.push(`--${o}`, value(rng, o, files));
    } else if (r === 1) words.push(pick(rng, NUMBERS));
    else if (r === 2) words.push(pick(rng, WORDS));
    else words.push(pick(rng, files.inputs()));
  }
  return words.join(' ');
}

/** The machine-running commands, not run on a machine too large for a bounded fuzz. */
const RUNS = new Set(['run', 'load', 'continue', 'c', 'cont', 'until', 'step', 's', 'next', 'n', 'over', 'finish', 'status', 'kill', 'goto', 'reverse-step', 'rs', 'reverse-continue', 'rc', 'replay']);

/** Keeps every file the monitor writes inside the fuzzer's directory. */
function confineWrites(line: string, rng: Rng, files: Files): string {
  const words = line.trim().split(/\s+/);
  if (words[0] === 'record' && words.length > 1) return [words[0], pick(rng, files.outputs())].join(' ');
  if (words[0] !== 'export') return line;
  return [words[0], words[1] ?? 'trace', pick(rng, files.outputs())].join(' ');
}

async function fuzzLines(rng: Rng, lines: number, files: Files, c: MonitorFuzzCounts, fail: (what: string) => void): Promise<void> {
  let s = new MonitorSession();
  let last = 'boot --nodes 2';
  for (let i = 0; i < lines; i++) {
    if (s.done || i % 40 === 0) {
      s = new MonitorSession();
      c.sessions++;
      if (rng.nextInt(3) !== 0) {
        const o = pick(rng, [...Object.keys(MACHINE_VALUES).filter((k) => k !== 'nodes' && k !== 'shape'), 'config']);
        const boot = `boot --nodes ${1 + rng.nextInt(3)}${rng.nextInt(2) === 0 ? ` --${o} ${value(rng, o, files)}` : ''}`;
        c.lines++;
        await fuzzLine(s, boot, c, fail);
      }
    }
    const kind = rng.nextInt(10);
    let line = kind < 6 ? commandLine(rng, files) : kind < 9 ? mutateLine(rng, last) : garbage(rng, 1 + rng.nextInt(40));
    line = confineWrites(line, rng, files);
    const first = line.trim().split(/\s+/)[0];
    if (RUNS.has(first) && s.sys !== null && s.sys.machine.size > 64) {
      c.skipped++;
      continue;
    }
    c.lines++;
    if (await fuzzLine(s, line, c, fail)) last = line;
  }
}

/** Runs one line; whether it was accepted (no error line, nothing thrown). */
async function fuzzLine(s: MonitorSession, line: string, c: MonitorFuzzCounts, fail: (what: string) => void): Promise<boolean> {
  try {
    const out = await s.exec(line);
    const bad = out.find((l) => /internal error/i.test(l));
    if (bad !== undefined) {
      c.internalErrors++;
      fail(`line ${JSON.stringify(line)}: ${bad}`);
    }
    if (out.some((l) => l.startsWith('error:'))) {
      c.errors++;
      return false;
    }
    return true;
  } catch (e) {
    c.hostExceptions++;
    fail(`line ${JSON.stringify(line)} threw ${(e as Error).constructor.name}: ${(e as Error).message.split('\n')[0]}`);
    return false;
  }
}

interface CliCommand {
  readonly HELP: string;
  run(argv: string[], out: ReturnType<typeof bufferOutput>): number | Promise<number>;
}

const CLI: Readonly<Record<string, CliCommand>> = { machine, image, run, sweep };

function cliArgv(rng: Rng, name: string, files: Files): string[] {
  const opts = optionsOf(CLI[name].HELP).filter((o) => o !== 'help');
  // Bounded runs, given first (options after a bare `--` are the program's): a run or sweep that parses gets a machine of a few nodes.
  const argv: string[] = [];
  if (name === 'run') argv.push('--nodes', String(1 + rng.nextInt(3)));
  if (name === 'sweep') argv.push('--counts', pick(rng, ['1', '1-2', '0', '2-1', '1-99999999999999999999', 'x']), '--fanouts', pick(rng, ['flat', 'binomial', 'tree:0', '']));
  if (rng.nextInt(2) === 0) argv.push(rng.nextInt(2) === 0 ? pick(rng, ['hello', 'pingpong', 'nope', '/dev/zero', join(files.dir, 'prog.ts')]) : pick(rng, WORDS));
  const n = rng.nextInt(5);
  for (let i = 0; i < n; i++) {
    const o = pick(rng, opts);
    argv.push(`--${o}`);
    if (rng.nextInt(8) !== 0) argv.push(value(rng, o, files));
  }
  return argv;
}

async function fuzzCli(rng: Rng, cases: number, files: Files, c: MonitorFuzzCounts, fail: (what: string) => void): Promise<void> {
  for (let i = 0; i < cases; i++) {
    const name = pick(rng, Object.keys(CLI));
    const argv = cliArgv(rng, name, files);
    c.cliCases++;
    try {
      await CLI[name].run(argv, bufferOutput());
    } catch (e) {
      if (e instanceof UsageError && !e.message.includes('\n')) c.cliUsageErrors++;
      else {
        c.hostExceptions++;
        fail(`margay ${name} ${argv.map((a) => JSON.stringify(a)).join(' ')} threw ${(e as Error).constructor.name}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }
}

/** `iterations` monitor lines, and one CLI argv for every ten lines. */
export async function fuzzMonitor(seed: number, iterations: number): Promise<MonitorFuzzCounts> {
  const rng = new Rng(seed);
  const c: MonitorFuzzCounts = { lines: 0, errors: 0, skipped: 0, sessions: 0, cliCases: 0, cliUsageErrors: 0, hostExceptions: 0, internalErrors: 0, failures: [] };
  const fail = (what: string) => {
    if (c.failures.length < 10) c.failures.push(what);
  };
  const files = new Files();
  try {
    await fuzzLines(rng, iterations, files, c, fail);
    await fuzzCli(rng, Math.ceil(iterations / 10), files, c, fail);
  } finally {
    files.remove();
  }
  return c;
}
