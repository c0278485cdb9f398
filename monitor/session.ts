// The monitor's command language: one implementation behind the plain-text
// monitor (margay monitor) and the console. A session holds a booted
// system, the current job and the current CPU; `exec` runs one command line
// and returns the lines to show (and `data`, the same as JSON). It looks at
// the machine only through the System's control and inspection API and
// changes it only through its controls. Commands that change the machine
// are logged with the event count they ran at, so that reverse execution
// can re-run the machine from boot to any earlier point (debugger/reverse.ts).
// The debugger's commands live in monitor/debugger/ by mechanism.

import { isPersonality } from '../kernel/ipc/personality.ts';
import { match } from 'ts-pattern';
import { crtcTreeName, onFailureOption, rtaskChoice } from './commands/run.ts';
import { writeOutput } from './files.ts';
import { formatPs as formatTime, parseTime } from '../hw/time.ts';
import { SyscallError } from '../kernel/errno.ts';
import { WATCH_VERB } from './debugger/breaks.ts';
import { formatShape } from '../hw/topology.ts';
import { type Job, type StopReason, System } from '../system/system.ts';
import type { TraceRecord } from '../kernel/trace.ts';
import { type Fanout, parseFanout } from '../userland/lib/jobblock.ts';
import { UsageError, machineChoice, parse } from './args.ts';
import { launch } from './launch.ts';
import { traceEvents } from './perfetto.ts';
import { resolveProgram } from './programs.ts';
import { MACHINE_OPTIONS } from './args.ts';
import { BREAK_COMMANDS } from './debugger/breaks.ts';
import { INSPECT_COMMANDS } from './debugger/inspect.ts';
import { REVERSE_COMMANDS, type Input, recordedLine } from './debugger/reverse.ts';
import { count, didYouMean, int, recordLine } from './debugger/words.ts';

export { recordLine };

export interface MonitorCommand {
  readonly usage: string;
  readonly help: string;
  /** A short example for docs/MONITOR.md. */
  readonly example: string;
  run(s: MonitorSession, args: string[]): string[] | Promise<string[]>;
}

/** Why the machine last stopped, as the monitor knows it: the System's reasons, a `stop`, or a goto's target. */
export type MonitorStop = StopReason | { readonly kind: 'user' } | { readonly kind: 'goto' };

/** Events a plain-monitor run fires between looks at `stop` (and the event loop). */
const SLICE_EVENTS = 10_000;
/** Most events one `step` fires (longer runs: continue, until, goto). */
export const MAX_STEP = 10_000_000;
export const MAX_NEXT = 100_000;

export class MonitorSession {
  sys: System | null = null;
  job: Job | null = null;
  /** The job's tree as the report names it: the loader's fan-out, or remote tasking's choices. */
  fanout: Fanout | string | null = null;
  /** Ranks a job gets by default: the compute nodes asked for at boot. */
  defaultRanks = 0;
  /** Why the machine last stopped; null when it has not run since the job was loaded. */
  lastStop: MonitorStop | null = { kind: 'idle' };
  done = false;
  /** The current CPU: info registers, x, page, set... act on it when given no core. */
  cur = { node: 0, core: 0 };
  /** The current process on the current node when chosen with `cpu N.C pid P` (else the one running there). */
  curPid: number | null = null;
  /** The boot command and the later inputs that changed the machine, with the event count they ran at. */
  bootLine: string | null = null;
  inputs: Input[] = [];
  /** The structured form of the last command's answer (--json), when it has one. */
  data: unknown = undefined;
  /** Set by `stop` (or Ctrl-C) while a long run is going; the run ends at its next slice. */
  stopRequested = false;
  running = false;
  /** While re-running for reverse execution: commands are not logged again. */
  replaying = false;

  get system(): System {
    if (this.sys === null) throw new UsageError("no machine: 'boot' first (e.g. boot --nodes 8)");
    return this.sys;
  }

  /** Events fired since boot: the machine's position for goto and reverse execution. */
  get events(): number {
    return this.system.engine.fired;
  }

  checkNode(n: number): number {
    if (!(n >= 0 && n < this.system.machine.size)) throw new UsageError(`node ${n} is not in the machine (0..${this.system.machine.size - 1})`);
    return n;
  }

  checkCore(node: number, core: number): { node: number; core: number } {
    this.checkNode(node);
    const cores = this.system.profile.values['cpu.cores'];
    if (!(core >= 0 && core < cores)) throw new UsageError(`node ${node} has cores 0..${cores - 1}, not ${core}`);
    return { node, core };
  }

  /** Runs one command line; errors come back as a single line starting with "error:". */
  async exec(line: string): Promise<string[]> {
    this.data = undefined;
    const words = line.trim().split(/\s+/).filter((w) => w.length > 0);
    if (words.length === 0 || words[0].startsWith('#')) return [];
    let [name, ...args] = words;
    // x/4xg and xp/s: the format is glued to the command name.
    const glued = /^(xp?)(\/\S*)$/.exec(name);
    if (glued !== null) [name, args] = [glued[1], [glued[2], ...args]];
    const full = COMMANDS[name] !== undefined ? name : ALIASES[name];
    const cmd = full === undefined ? undefined : COMMANDS[full];
    if (cmd === undefined) {
      const near = didYouMean(name, [...Object.keys(COMMANDS), ...Object.keys(ALIASES)]);
      return [`error: unknown command '${name}'${near ? ` (did you mean '${near}'?)` : ''} (try 'help')`];
    }
    const before = this.sys === null ? 0 : this.events;
    const at = this.sys === null ? 0 : this.sys.now;
    try {
      const out = await cmd.run(this, args);
      if (!this.replaying && this.sys !== null) {
        const logged = recordedLine(full!, args);
        if (full === 'boot') {
          this.bootLine = words.join(' ');
          this.inputs = [];
        } else if (logged !== null) this.inputs.push({ events: before, time: at, line: logged });
      }
      if (full === 'load') this.lastStop = null;
      return out;
    } catch (e) {
      if (e instanceof UsageError || e instanceof RangeError) return [`error: ${e.message}`];
      throw e;
    }
  }

  /** One command as one JSON object (margay monitor --json). */
  async execJson(line: string): Promise<Record<string, unknown>> {
    const out = await this.exec(line);
    const error = out.find((l) => l.startsWith('error: '));
    const where = this.sys === null ? {} : { time_ps: this.sys.now, events: this.events };
    return { command: line.trim(), ok: error === undefined, ...(error ? { error: error.slice(7) } : {}), output: out, ...(this.data !== undefined ? { data: this.data } : {}), ...where };
  }

  stopLines(stop: MonitorStop): string[] {
    const sys = this.system;
    const where = `at ${formatTime(sys.now)} (event ${this.events})`;
    return match(stop)
      .with({ kind: 'breakpoint' }, ({ breakpoint: b, record }) => {
        // As in gdb, the CPU that hit the breakpoint becomes the current one (x, page, set act there).
        this.cur = { node: record.node, core: record.core };
        this.curPid = null;
        if (b.id === 0) return [`stopped: stepped over to ${record.path}/${record.step} ${where}`, `  ${recordLine(record)}`];
        const kind = 'pa' in b ? `watchpoint ${b.id} (${b.what}) ${WATCH_VERB[b.kind]}` : `breakpoint ${b.id}`;
        return [`stopped: ${kind} ${where}`, `  ${recordLine(record)}`];
      })
      .with({ kind: 'done' }, () => [`stopped: job finished ${where}`])
      .with({ kind: 'idle' }, () => [`stopped: nothing left to do ${where}`])
      .with({ kind: 'end-of-time' }, (s) => [`stopped: reached the end of simulated time (${formatTime(s.time)}); nothing else can happen before it`])
      .with({ kind: 'time' }, (s) => [`stopped: reached ${formatTime(s.time)} (event ${this.events})`])
      .with({ kind: 'events' }, (s) => [`stopped: after ${s.events} events ${where}`])
      .with({ kind: 'user' }, () => [`stopped: by stop ${where}`])
      .with({ kind: 'goto' }, () => [`now ${where}`])
      .exhaustive();
  }

  /** The trace record the machine stopped at (the last one kept). */
  lastRecord(): TraceRecord {
    const r = this.system.trace.last(1)[0];
    if (r === undefined) throw new UsageError('no kernel step yet: step or continue first');
    return r;
  }

  runUntil(opts: { until?: number; maxEvents?: number }): StopReason {
    const sys = this.system;
    const job = this.job;
    // Once the job has finished, a further run carries on with what the machine still has to do (the
    // kernels' tear-down of the job, e.g. remote tasks' VM objects) until nothing is left.
    const running = job !== null && !sys.jobDone(job);
    this.lastStop = sys.run({ ...opts, done: running ? () => sys.jobDone(job) : undefined });
    return this.lastStop;
  }

  /** A long run in slices, so that `stop` (read meanwhile) can end it. */
  async runLong(opts: { until?: number } = {}): Promise<MonitorStop> {
    this.stopRequested = false;
    this.running = true;
    try {
      for (;;) {
        const stop = this.runUntil({ ...opts, maxEvents: SLICE_EVENTS });
        if (stop.kind !== 'events') return stop;
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (this.stopRequested) return (this.lastStop = { kind: 'user' });
      }
    } finally {
      this.running = false;
      this.stopRequested = false;
    }
  }
}

export const ALIASES: Readonly<Record<string, string>> = { s: 'step', n: 'next', c: 'continue', cont: 'continue', q: 'quit', b: 'break', i: 'info', '?': 'help', rs: 'reverse-step', rc: 'reverse-continue', gva2gpa: 'page' };

/** The remote-tasking flags of load and run with --load crtc (docs/REMOTE-TASKING.md). */
const CRTC_USAGE = '[--creation C] [--algorithm A] [--paging P] [--nms on|off] [--vm-areas N] [--creators N]';

const CORE_COMMANDS: Readonly<Record<string, MonitorCommand>> = {
  help: {
    usage: 'help',
    help: 'list the commands',
    example: 'help',
    run: () => Object.entries(COMMANDS).map(([, c]) => `  ${c.usage.padEnd(34)} ${c.help}`),
  },
  boot: {
    usage: 'boot [machine options]',
    help: 'boot a machine (--nodes N compute nodes plus a service node, --shape S, --profile P, --cores C, --seed S, --set K=V, --transport norma|dipc); the kernels of the compute nodes and the service node boot with it',
    example: 'boot --nodes 8 --cores 2',
    run(s, args) {
      const p = parse(args, { ...MACHINE_OPTIONS, transport: { type: 'string' } }, 0);
      if (p.values.shape === undefined && p.values.nodes === undefined) p.values.nodes = '8';
      const choice = machineChoice(p, p.values.nodes !== undefined ? 1 : 0);
      const transport = (p.values.transport as string | undefined) ?? 'dipc';
      if (!isPersonality(transport)) throw new UsageError(`--transport must be norma or dipc, got '${transport}'`);
      const sys = new System({ ...choice, transport });
      sys.trace.enabled = true;
      const m = sys.machine;
      const ranks = p.values.nodes !== undefined ? Number(p.values.nodes) : m.size - 1;
      // The compute partition and the service node boot with the machine (as at load), so info nodes shows them.
      for (let n = 0; n < ranks; n++) sys.boot(n);
      sys.boot(m.size - 1);
      s.sys = sys;
      s.job = null;
      s.fanout = null;
      s.lastStop = { kind: 'idle' };
      s.cur = { node: 0, core: 0 };
      s.curPid = null;
      s.defaultRanks = ranks;
      return [`booted ${choice.profile.name} ${formatShape({ kind: m.topology.kind, dims: m.topology.dims })}: ${m.size} nodes (service node ${m.size - 1}), ${choice.profile.values['cpu.cores']} cores each`];
    },
  },
  load: {
    usage: `load APP [--load two-phase|one-phase|crtc|direct] [--fanout F] ${CRTC_USAGE} [--on-failure end|continue] [-- args]`,
    help: 'launch APP through yod (two-phase by default) without running the machine',
    example: 'load hello --fanout tree:2',
    async run(s, args) {
      const p = parse(args, { load: { type: 'string' }, fanout: { type: 'string' }, ranks: { type: 'string' }, algorithm: { type: 'string' }, creation: { type: 'string' }, paging: { type: 'string' }, nms: { type: 'string' }, 'vm-areas': { type: 'string' }, creators: { type: 'string' }, 'on-failure': { type: 'string' } }, 1);
      const name = p.positionals[0];
      if (name === undefined) throw new UsageError('load needs an app (e.g. load hello)');
      const sys = s.system;
      const load = (p.values.load as string | undefined) ?? 'two-phase';
      if (load !== 'two-phase' && load !== 'one-phase' && load !== 'crtc' && load !== 'direct') throw new UsageError(`--load must be two-phase, one-phase, crtc or direct, got '${load}'`);
      if ((load === 'direct' || load === 'crtc') && p.values.fanout !== undefined) throw new UsageError('--fanout is the loader\'s tree (--load two-phase or one-phase); remote tasking takes --creation');
      const rtask = rtaskChoice(p, load);
      const onFailure = onFailureOption(p.values['on-failure'] as string | undefined);
      const fanout = parseFanout((p.values.fanout as string | undefined) ?? 'binomial');
      if (fanout === null) throw new UsageError(`bad --fanout '${p.values.fanout as string}'`);
      const ranks = p.values.ranks !== undefined ? int(p.values.ranks as string, '--ranks') : s.defaultRanks;
      if (ranks < 1 || ranks > sys.machine.size - 1) throw new UsageError(`--ranks must be 1..${sys.machine.size - 1}`);
      const program = await resolveProgram(name);
      if (load === 'direct') {
        // No loader: the program starts on nodes 0..ranks-1 at once (margay run --load direct).
        s.fanout = null;
        s.job = sys.launchDirect(program, Array.from({ length: ranks }, (_, i) => i), p.rest, 1000, { onFailure });
        return [`job ${s.job.jobId}: ${name} directly on ${ranks} rank(s) (no loader)`];
      }
      let job: Job;
      try {
        job = launch(sys, { load, fanout, programs: [program], map: [{ firstNid: 0, count: ranks, image: 0 }], argv: p.rest, timeoutUs: 1_000_000, jobId: sys.jobs.length + 1, rtask, onFailure });
      } catch (e) {
        // yod's process could not be created (the service node's memory is held by earlier jobs' yods).
        if (e instanceof SyscallError) throw new UsageError(`cannot start yod on the service node (node ${sys.machine.size - 1}): ${e.message}`);
        throw e;
      }
      // crtc has no loader fan-out: the job is named by its remote-tasking choices, as margay run names it.
      s.fanout = load === 'crtc' ? crtcTreeName(rtask, sys.transport) : fanout;
      s.job = job;
      return [`job ${s.job.jobId}: yod on node ${s.job.serviceNid} launches ${name} on ${ranks} rank(s), ${load} over ${typeof s.fanout === 'string' ? s.fanout : (p.values.fanout ?? 'binomial')}`];
    },
  },
  run: {
    usage: `run APP [--load two-phase|one-phase|crtc|direct] [--fanout F] ${CRTC_USAGE} [--on-failure end|continue] [-- args]`,
    help: 'load APP, then continue until it ends or a breakpoint hits',
    example: 'run hello --fanout tree:2',
    async run(s, args) {
      const out = await COMMANDS.load.run(s, args);
      return [...out, ...s.stopLines(await s.runLong())];
    },
  },
  step: {
    usage: 'step [N]',
    help: `fire N events (default 1, at most ${MAX_STEP.toLocaleString('en-US')}) and show the last kernel step`,
    example: 'step 100',
    run(s, args) {
      const n = args[0] === undefined ? 1 : count(args[0], 'step N', 1, MAX_STEP);
      const sys = s.system;
      const before = sys.trace.count;
      let fired = 0;
      while (fired < n && sys.step()) fired++;
      const last = sys.trace.count > before ? sys.trace.last(1)[0] : undefined;
      s.data = { fired, time_ps: sys.now, record: last ?? null };
      return [`${fired} event(s), now ${formatTime(sys.now)} (event ${s.events})`, ...(last ? [`  ${recordLine(last)}`] : [])];
    },
  },
  next: {
    usage: 'next [N]',
    help: `run to the next N kernel steps (trace records, default 1, at most ${MAX_NEXT.toLocaleString('en-US')}) and show them`,
    example: 'next 5',
    run(s, args) {
      const n = args[0] === undefined ? 1 : count(args[0], 'next N', 1, MAX_NEXT);
      const out: string[] = [];
      const records: TraceRecord[] = [];
      for (let i = 0; i < n; i++) {
        const r = s.system.next();
        if (r === null) {
          out.push('nothing left to do');
          break;
        }
        records.push(r);
        out.push(recordLine(r));
      }
      s.data = { records };
      return out;
    },
  },
  continue: {
    usage: 'continue',
    help: 'run until a breakpoint or watchpoint hits, the job ends, nothing is left or `stop`',
    example: 'continue',
    run: async (s) => s.stopLines(await s.runLong()),
  },
  until: {
    usage: 'until TIME',
    help: 'run until simulated TIME (e.g. 50us, 2ms); a time already past is refused (goto goes back)',
    example: 'until 50us',
    async run(s, args) {
      let t: number;
      try {
        t = parseTime(args[0] ?? '');
      } catch (e) {
        throw new UsageError(`until: ${(e as Error).message}`);
      }
      const now = s.system.now;
      if (t < now) throw new UsageError(`until: ${formatTime(t)} is in the past (now ${formatTime(now)}); goto ${args[0]} re-runs the machine to it`);
      return s.stopLines(await s.runLong({ until: t }));
    },
  },
  stop: {
    usage: 'stop',
    help: 'stop a running continue/until/run (in the plain monitor typed while it runs, or Ctrl-C; Esc in the console)',
    example: 'stop',
    run(s) {
      if (s.running) {
        s.stopRequested = true;
        return ['stopping'];
      }
      return [`not running: the machine is stopped at ${formatTime(s.system.now)} (event ${s.events})`];
    },
  },
  trace: {
    usage: 'trace on|off|last [N]',
    help: 'keep trace records (on), only count them (off), or show the last N',
    example: 'trace last 20',
    run(s, args) {
      const t = s.system.trace;
      if (args[0] === 'on' || args[0] === 'off') {
        t.enabled = args[0] === 'on';
        return [`trace ${args[0]}`];
      }
      if (args[0] === 'last') {
        const records = t.last(args[1] === undefined ? 10 : count(args[1], 'N', 1, 1_000_000));
        s.data = { records };
        return records.map(recordLine);
      }
      throw new UsageError('trace on, trace off or trace last [N]');
    },
  },
  status: {
    usage: 'status',
    help: 'send app status from the service node to every rank: a dump of every CPU context',
    example: 'status',
    run(s) {
      if (s.job === null) throw new UsageError('no job (load or run one first)');
      const r = s.system.control(s.job, 'status');
      const lines = r.replies.flatMap((m) => new TextDecoder().decode(m.payload).split('\n').filter((l) => l.length > 0));
      return [`${r.answered} of ${r.asked} node(s) answered`, ...lines.slice(0, 200)];
    },
  },
  kill: {
    usage: 'kill',
    help: 'send app kill from the service node to every rank (1-to-n)',
    example: 'kill',
    run(s) {
      if (s.job === null) throw new UsageError('no job (load or run one first)');
      const r = s.system.control(s.job, 'kill');
      const killed = r.replies.filter((m) => m.header.code > 0).length;
      return [`${r.answered} of ${r.asked} node(s) answered; ${killed} process(es) killed`];
    },
  },
  export: {
    usage: 'export trace FILE',
    help: 'write the kept trace as Chrome/Perfetto trace-event JSON (open in ui.perfetto.dev)',
    example: 'export trace /tmp/hello.json',
    run(s, args) {
      if (args[0] !== 'trace' || args[1] === undefined) throw new UsageError('export trace FILE');
      const sys = s.system;
      const doc = traceEvents(sys.trace.last(), sys.messages, sys.profile.values['cpu.cores']);
      writeOutput(args[1], 'export', JSON.stringify(doc));
      return [`wrote ${args[1]}: ${doc.traceEvents.length} events (${sys.trace.kept} kernel steps, ${sys.messages.length} messages)`];
    },
  },
  over: {
    usage: 'over',
    help: 'step over the syscall the stopped core is in: run to its syscall/exit (a breakpoint of yours on the way stops it first)',
    example: 'over',
    async run(s) {
      const at = s.lastRecord();
      const sys = s.system;
      // An internal stop: it takes none of the user's breakpoint numbers.
      const bp = sys.breakpoints.addInternal({ pattern: 'syscall/exit', node: at.node, core: at.core });
      try {
        return s.stopLines(await s.runLong());
      } finally {
        sys.breakpoints.removeInternal(bp);
      }
    },
  },
  finish: {
    usage: 'finish',
    help: 'run to the end of the kernel path the stopped core is in (the next step of another path there)',
    example: 'finish',
    run(s) {
      const at = s.lastRecord();
      const sys = s.system;
      sys.recordWatchers++;
      try {
        for (;;) {
          const r = sys.next();
          if (r === null) return ['nothing left to do'];
          if (r.node === at.node && r.core === at.core && r.path !== at.path) return [`finished ${at.path} on node ${at.node} core ${at.core}; now:`, `  ${recordLine(r)}`];
        }
      } finally {
        sys.recordWatchers--;
      }
    },
  },
  ext: {
    usage: 'ext list|step on|step off|show NODE ID',
    help: 'extension handlers: list them, step them instruction by instruction, show one with its disassembly and registers',
    example: 'ext step on',
    run(s, args) {
      const sys = s.system;
      const exts = sys.inspect.extensions();
      if (args[0] === 'list') return exts.length === 0 ? ['no extensions attached'] : exts.map((e) => `node ${e.node} ext ${e.id} (pid ${e.pid}, ${e.engine}): ${e.insns} insns, runs ${e.runs}, insns run ${e.insnsRun}${e.stepping ? ', stepping' : ''}`);
      if (args[0] === 'step' && (args[1] === 'on' || args[1] === 'off')) {
        sys.setExtStepping(args[1] === 'on');
        return [sys.extStepping ? 'extension stepping on: each instruction is a kernel step (break ext/insn to stop on one)' : 'extension stepping off: handlers run whole again'];
      }
      if (args[0] === 'show') {
        const node = int(args[1], 'NODE');
        const id = int(args[2], 'ID');
        const found = exts.some((x) => x.node === node && x.id === id) ? sys.inspect.extension(node, id) : undefined;
        if (found === undefined) throw new UsageError(`no extension ${id} on node ${node}`);
        const pc = found.pc;
        const lines = found.lines.map((l, i) => `${i === pc ? '=>' : '  '} ${l}`);
        const regs = found.regs === null ? ['  (no stepped run yet: ext step on)'] : [found.regs.map((v, i) => `r${i}=0x${v.toString(16)}`).join(' ')];
        return [...regs, ...lines];
      }
      throw new UsageError(COMMANDS.ext.usage);
    },
  },
  quit: {
    usage: 'quit',
    help: 'leave the monitor',
    example: 'quit',
    run(s) {
      s.done = true;
      return [];
    },
  },
};

export const COMMANDS: Readonly<Record<string, MonitorCommand>> = { ...CORE_COMMANDS, ...BREAK_COMMANDS, ...INSPECT_COMMANDS, ...REVERSE_COMMANDS };
