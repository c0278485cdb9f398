// The monitor's command language: one implementation behind the plain-text
// monitor (margay monitor) and the console. A session holds a booted
// system and the current job; `exec` runs one command line and returns the
// lines to show. It looks at the machine only through the System's control
// and inspection API and changes it only through its controls.

import { writeFileSync } from 'node:fs';
import { formatPs as formatTime, parseTime } from '../hw/time.ts';
import { disassemble } from '../kernel/ext/disasm.ts';
import { SyscallError } from '../kernel/errno.ts';
import { formatShape } from '../hw/topology.ts';
import type { BreakpointSpec } from '../kernel/breakpoints.ts';
import { type Job, type StopReason, System } from '../kernel/system.ts';
import type { TraceRecord } from '../kernel/trace.ts';
import { type Fanout, parseFanout } from '../userland/lib/jobblock.ts';
import { UsageError, machineChoice, parse } from './args.ts';
import { launch } from './launch.ts';
import { traceEvents } from './perfetto.ts';
import { resolveProgram } from './programs.ts';
import { buildReport, summaryLines } from './report.ts';
import { MACHINE_OPTIONS } from './args.ts';

export interface MonitorCommand {
  readonly usage: string;
  readonly help: string;
  run(s: MonitorSession, args: string[]): string[] | Promise<string[]>;
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

function recordLine(r: TraceRecord): string {
  return `${formatTime(r.t).padStart(12)}  node ${r.node} core ${r.core}${r.pid ? ` pid ${r.pid}` : ''}  ${r.path}/${r.step}${r.detail ? `  ${r.detail}` : ''}`;
}

function int(text: string | undefined, what: string): number {
  if (text === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new UsageError(`${what} must be a number, got '${text ?? ''}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${what} must be a whole number below 2^53, got '${text}'`);
  return n;
}

/** "N.C" → node and core. */
function nodeCore(text: string | undefined): { node: number; core: number } {
  const m = /^(\d+)\.(\d+)$/.exec(text ?? '');
  if (m === null) throw new UsageError(`give a core as NODE.CORE (e.g. 0.1), got '${text ?? ''}'`);
  return { node: Number(m[1]), core: Number(m[2]) };
}

export class MonitorSession {
  sys: System | null = null;
  job: Job | null = null;
  fanout: Fanout | null = null;
  /** Ranks a job gets by default: the compute nodes asked for at boot. */
  defaultRanks = 0;
  lastStop: StopReason = { kind: 'idle' };
  done = false;

  get system(): System {
    if (this.sys === null) throw new UsageError("no machine: 'boot' first (e.g. boot --nodes 8)");
    return this.sys;
  }

  private checkNode(n: number): number {
    if (!(n >= 0 && n < this.system.machine.size)) throw new UsageError(`node ${n} is not in the machine (0..${this.system.machine.size - 1})`);
    return n;
  }

  /** Runs one command line; errors come back as a single line starting with "error:". */
  async exec(line: string): Promise<string[]> {
    const words = line.trim().split(/\s+/).filter((w) => w.length > 0);
    if (words.length === 0 || words[0].startsWith('#')) return [];
    const [name, ...args] = words;
    const cmd = COMMANDS[name] ?? COMMANDS[ALIASES[name] ?? ''];
    if (cmd === undefined) return [`error: unknown command '${name}' (try 'help')`];
    try {
      return await cmd.run(this, args);
    } catch (e) {
      if (e instanceof UsageError || e instanceof RangeError) return [`error: ${e.message}`];
      throw e;
    }
  }

  stopLines(stop: StopReason): string[] {
    const sys = this.system;
    const where = `at ${formatTime(sys.now)}`;
    switch (stop.kind) {
      case 'breakpoint':
        return [`stopped: breakpoint ${stop.breakpoint.id} ${where}`, `  ${recordLine(stop.record)}`];
      case 'done':
        return [`stopped: job finished ${where}`];
      case 'idle':
        return [`stopped: nothing left to do ${where}`];
      case 'time':
        return [`stopped: reached ${formatTime(stop.time)}`];
      case 'events':
        return [`stopped: after ${stop.events} events ${where}`];
    }
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
    this.lastStop = sys.run({ ...opts, done: job === null ? undefined : () => sys.jobDone(job) });
    return this.lastStop;
  }
}

export const ALIASES: Readonly<Record<string, string>> = { s: 'step', n: 'next', c: 'continue', cont: 'continue', q: 'quit', b: 'break', i: 'info', '?': 'help' };

export const COMMANDS: Readonly<Record<string, MonitorCommand>> = {
  help: {
    usage: 'help',
    help: 'list the commands',
    run: () => Object.entries(COMMANDS).map(([, c]) => `  ${c.usage.padEnd(34)} ${c.help}`),
  },
  boot: {
    usage: 'boot [machine options]',
    help: 'boot a machine (--nodes N compute nodes plus a service node, --shape S, --profile P, --cores C, --seed S, --set K=V)',
    run(s, args) {
      const p = parse(args, MACHINE_OPTIONS, 0);
      if (p.values.shape === undefined && p.values.nodes === undefined) p.values.nodes = '8';
      const choice = machineChoice(p, p.values.nodes !== undefined ? 1 : 0);
      s.sys = new System(choice);
      s.sys.trace.enabled = true;
      s.job = null;
      const m = s.sys.machine;
      s.defaultRanks = p.values.nodes !== undefined ? Number(p.values.nodes) : m.size - 1;
      return [`booted ${choice.profile.name} ${formatShape({ kind: m.topology.kind, dims: m.topology.dims })}: ${m.size} nodes (service node ${m.size - 1}), ${choice.profile.values['cpu.cores']} cores each`];
    },
  },
  load: {
    usage: 'load APP [--load L] [--fanout F] [-- args]',
    help: 'launch APP through yod (two-phase by default) without running the machine',
    async run(s, args) {
      const p = parse(args, { load: { type: 'string' }, fanout: { type: 'string' }, ranks: { type: 'string' } }, 1);
      const name = p.positionals[0];
      if (name === undefined) throw new UsageError('load needs an app (e.g. load hello)');
      const sys = s.system;
      const load = (p.values.load as string | undefined) ?? 'two-phase';
      if (load !== 'two-phase' && load !== 'one-phase') throw new UsageError(`--load must be two-phase or one-phase, got '${load}'`);
      const fanout = parseFanout((p.values.fanout as string | undefined) ?? 'binomial');
      if (fanout === null) throw new UsageError(`bad --fanout '${p.values.fanout as string}'`);
      const ranks = p.values.ranks !== undefined ? int(p.values.ranks as string, '--ranks') : s.defaultRanks;
      if (ranks < 1 || ranks > sys.machine.size - 1) throw new UsageError(`--ranks must be 1..${sys.machine.size - 1}`);
      const program = await resolveProgram(name);
      let job: Job;
      try {
        job = launch(sys, { load, fanout, programs: [program], map: [{ firstNid: 0, count: ranks, image: 0 }], argv: p.rest, timeoutUs: 1_000_000, jobId: sys.jobs.length + 1 });
      } catch (e) {
        // yod's process could not be created (the service node's memory is held by earlier jobs' yods).
        if (e instanceof SyscallError) throw new UsageError(`cannot start yod on the service node (node ${sys.machine.size - 1}): ${e.message}`);
        throw e;
      }
      s.fanout = fanout;
      s.job = job;
      return [`job ${s.job.jobId}: yod on node ${s.job.serviceNid} launches ${name} on ${ranks} rank(s), ${load} over ${p.values.fanout ?? 'binomial'}`];
    },
  },
  run: {
    usage: 'run APP [--load L] [--fanout F] [-- args]',
    help: 'load APP, then continue until it ends or a breakpoint hits',
    async run(s, args) {
      const out = await COMMANDS.load.run(s, args);
      return [...out, ...s.stopLines(s.runUntil({}))];
    },
  },
  step: {
    usage: 'step [N]',
    help: 'fire N events (default 1) and show the last kernel step',
    run(s, args) {
      const n = args[0] === undefined ? 1 : int(args[0], 'N');
      const sys = s.system;
      const before = sys.trace.count;
      let fired = 0;
      while (fired < n && sys.step()) fired++;
      const last = sys.trace.count > before ? sys.trace.last(1)[0] : undefined;
      return [`${fired} event(s), now ${formatTime(sys.now)}`, ...(last ? [`  ${recordLine(last)}`] : [])];
    },
  },
  next: {
    usage: 'next [N]',
    help: 'run to the next N kernel steps (trace records) and show them',
    run(s, args) {
      const n = args[0] === undefined ? 1 : int(args[0], 'N');
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = s.system.next();
        if (r === null) return [...out, 'nothing left to do'];
        out.push(recordLine(r));
      }
      return out;
    },
  },
  continue: {
    usage: 'continue',
    help: 'run until a breakpoint hits, the job ends or nothing is left',
    run: (s) => s.stopLines(s.runUntil({})),
  },
  until: {
    usage: 'until TIME',
    help: 'run until simulated TIME (e.g. 50us, 2ms)',
    run(s, args) {
      let t: number;
      try {
        t = parseTime(args[0] ?? '');
      } catch (e) {
        throw new UsageError(`until: ${(e as Error).message}`);
      }
      return s.stopLines(s.runUntil({ until: t }));
    },
  },
  break: {
    usage: 'break PATTERN [node N] [core C] [pid P] [syscall NAME] [vector V]',
    help: 'stop after a kernel step matching PATTERN (glob on path/step, e.g. jobload/*)',
    run(s, args) {
      if (args.length === 0) throw new UsageError('break needs a pattern (e.g. break syscall/dispatch syscall write)');
      const spec: { -readonly [K in keyof BreakpointSpec]: BreakpointSpec[K] } = { pattern: args[0] === '*' ? undefined : args[0] };
      for (let i = 1; i < args.length; i += 2) {
        const v = args[i + 1];
        if (args[i] === 'syscall') spec.syscall = v;
        else if (args[i] === 'vector') spec.vector = v;
        else if (args[i] === 'node' || args[i] === 'core' || args[i] === 'pid') spec[args[i] as 'node' | 'core' | 'pid'] = int(v, args[i]);
        else throw new UsageError(`break: unknown qualifier '${args[i]}' (node, core, pid, syscall, vector)`);
      }
      const b = s.system.addBreakpoint(spec);
      return [`breakpoint ${b.id}: ${args.join(' ')}`];
    },
  },
  delete: {
    usage: 'delete [ID]',
    help: 'delete breakpoint ID (or all)',
    run(s, args) {
      const bps = s.system.breakpoints;
      if (args[0] === undefined) {
        const n = bps.all.length;
        bps.clear();
        return [`deleted ${n} breakpoint(s)`];
      }
      return bps.delete(int(args[0], 'ID')) ? [`deleted breakpoint ${args[0]}`] : [`error: no breakpoint ${args[0]}`];
    },
  },
  info: {
    usage: 'info nodes|node N|cpu N.C|regs N.C|tlb N.C|apic N.C|ps [N]|mem N|job|break',
    help: 'inspect the machine',
    run(s, args) {
      const sys = s.system;
      const what = args[0];
      switch (what) {
        case 'nodes':
          if (sys.bootedKernels().length === 0) return [`no kernel has booted yet on the ${sys.machine.size} nodes (they boot when a job is loaded)`];
          return sys.nodesView().map((n) => `node ${String(n.node).padStart(5)} (${n.coords.join(',')})${n.down ? ' DOWN' : ''}  cores ${n.cores.join(' ')}  pids ${n.processes.join(',') || '-'}  syscalls ${n.syscalls}`);
        case 'node': {
          const nid = s['checkNode'](int(args[1], 'node'));
          const k = sys.kernel(nid);
          const nic = k.node.nic.stats;
          return [
            `node ${nid} (${sys.machine.topology.coords(nid).join(',')}): ${k.cpus.length} cores, ${k.liveProcesses().length} live process(es)`,
            ...k.cpus.map((c) => `  core ${c.index}: ${c.inInterrupt ? 'interrupt' : c.core.mode}${c.current ? `, running pid ${c.current.process.pid} tid ${c.current.tid}` : ''}, ${c.runQueue.length} queued`),
            `  nic: tx ${nic.txMessages} msgs ${nic.txBytes} B, rx ${nic.rxMessages} msgs ${nic.rxBytes} B, undeliverable ${nic.undeliverable}`,
            `  jobctl: sent ${k.jobs.stats.sent}, received ${k.jobs.stats.received}, loads ${k.jobs.stats.loads}, nacks ${k.jobs.stats.nacks}`,
            `  memory: ${(k.phys.usedBytes / 2 ** 20).toFixed(1)} MiB allocated of ${(k.node.memory.size / 2 ** 20).toFixed(0)} MiB, ${k.node.memory.touchedFrames} frames touched`,
          ];
        }
        case 'cpu': {
          const { node, core } = nodeCore(args[1]);
          const v = sys.cpuView(s['checkNode'](node), core);
          return Object.entries(v).map(([k, x]) => `  ${k.padEnd(16)} ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`);
        }
        case 'regs': {
          const { node, core } = nodeCore(args[1]);
          const regs = Object.entries(sys.registers(s['checkNode'](node), core));
          const out: string[] = [];
          for (let i = 0; i < regs.length; i += 4) out.push('  ' + regs.slice(i, i + 4).map(([r, v]) => `${r.padStart(6)}=${v.toString(16).padStart(16, '0')}`).join(' '));
          return out;
        }
        case 'tlb': {
          const { node, core } = nodeCore(args[1]);
          const t = sys.tlbView(s['checkNode'](node), core);
          return [
            `  ${t.entries.length}/${t.capacity} entries, hits ${t.hits}, misses ${t.misses}, hit rate ${(t.hitRate * 100).toFixed(1)}%, flushes ${t.flushes}, invalidations ${t.invalidations}`,
            ...t.entries.slice(0, 64).map((e) => `  ${JSON.stringify(e)}`),
          ];
        }
        case 'apic': {
          const { node, core } = nodeCore(args[1]);
          const a = sys.apicView(s['checkNode'](node), core);
          return [`  irr [${a.irr.join(',')}]  isr [${a.isr.join(',')}]  tpr ${a.tpr}  nmi ${a.nmiPending}`, `  timer ${JSON.stringify(a.timer)}`, `  ipis sent ${a.ipisSent} received ${a.ipisReceived}`];
        }
        case 'ps': {
          const nid = args[1] === undefined ? undefined : s['checkNode'](int(args[1], 'node'));
          const ps = sys.processes(nid);
          if (ps.length === 0) return ['no processes'];
          return ps.slice(0, 200).map((p) => `node ${p.node} pid ${p.pid} ${p.name} rank ${p.rank} ${p.alive ? 'alive' : `exited ${p.exitStatus}${p.exitReason ? ` (${p.exitReason})` : ''}`}  threads ${p.threads.map((t) => `${t.tid}@${t.core}:${t.state}`).join(' ')}`);
        }
        case 'mem': {
          const nid = s['checkNode'](int(args[1], 'node'));
          const ps = sys.processes(nid).filter((p) => p.alive);
          return ps.flatMap((p) => [`pid ${p.pid} ${p.name}:`, ...p.regions.map((r) => `  ${JSON.stringify(r)}`)]);
        }
        case 'job': {
          if (s.job === null) return ['no job'];
          return summaryLines(buildReport(sys, s.job, s.lastStop, s.fanout, 0)).slice(0, -1);
        }
        case 'break':
          return sys.breakpoints.all.length === 0 ? ['no breakpoints'] : sys.breakpoints.all.map((b) => `  ${b.id}: ${JSON.stringify({ ...b, re: undefined })}`);
        default:
          throw new UsageError(`info what? (${COMMANDS.info.usage.slice(5)})`);
      }
    },
  },
  x: {
    usage: 'x NODE[/PID] ADDR [LEN]',
    help: 'dump memory: physical on NODE, or virtual in process PID',
    run(s, args) {
      const m = /^(\d+)(?:\/(\d+))?$/.exec(args[0] ?? '');
      if (m === null) throw new UsageError('x needs NODE or NODE/PID, then an address');
      const node = s['checkNode'](Number(m[1]));
      const addr = int(args[1], 'ADDR');
      const len = Math.min(args[2] === undefined ? 64 : int(args[2], 'LEN'), 4096);
      let bytes: Uint8Array;
      try {
        bytes = m[2] === undefined ? s.system.physical(node, addr, len) : s.system.virtual(node, Number(m[2]), addr, len);
      } catch (e) {
        return [`error: ${(e as Error).message}`];
      }
      const out: string[] = [];
      for (let i = 0; i < bytes.length; i += 16) {
        const row = bytes.subarray(i, i + 16);
        const ascii = [...row].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
        out.push(`${hex(addr + i).padStart(14)}  ${[...row].map((b) => b.toString(16).padStart(2, '0')).join(' ').padEnd(48)} ${ascii}`);
      }
      return out;
    },
  },
  trace: {
    usage: 'trace on|off|last [N]',
    help: 'keep trace records (on), only count them (off), or show the last N',
    run(s, args) {
      const t = s.system.trace;
      if (args[0] === 'on' || args[0] === 'off') {
        t.enabled = args[0] === 'on';
        return [`trace ${args[0]}`];
      }
      if (args[0] === 'last') return t.last(args[1] === undefined ? 10 : int(args[1], 'N')).map(recordLine);
      throw new UsageError('trace on, trace off or trace last [N]');
    },
  },
  status: {
    usage: 'status',
    help: 'send app status from the service node to every rank: a dump of every CPU context',
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
    run(s, args) {
      if (args[0] !== 'trace' || args[1] === undefined) throw new UsageError('export trace FILE');
      const sys = s.system;
      const doc = traceEvents(sys.trace.last(), sys.messages, sys.profile.values['cpu.cores']);
      try {
        writeFileSync(args[1], JSON.stringify(doc));
      } catch (e) {
        throw new UsageError(`cannot write ${args[1]}: ${(e as Error).message}`);
      }
      return [`wrote ${args[1]}: ${doc.traceEvents.length} events (${sys.trace.kept} kernel steps, ${sys.messages.length} messages)`];
    },
  },
  over: {
    usage: 'over',
    help: 'step over the syscall the stopped core is in: run to its syscall/exit',
    run(s) {
      const at = s.lastRecord();
      const sys = s.system;
      const bp = sys.addBreakpoint({ pattern: 'syscall/exit', node: at.node, core: at.core });
      try {
        return s.stopLines(s.runUntil({}));
      } finally {
        sys.breakpoints.delete(bp.id);
      }
    },
  },
  finish: {
    usage: 'finish',
    help: 'run to the end of the kernel path the stopped core is in (the next step of another path there)',
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
    run(s, args) {
      const sys = s.system;
      const exts = sys.bootedKernels().flatMap((k) => [...k.portals.extensions.values()].map((e) => ({ node: k.nid, e })));
      if (args[0] === 'list') return exts.length === 0 ? ['no extensions attached'] : exts.map(({ node, e }) => `node ${node} ext ${e.id} (pid ${e.owner.process.pid}, ${e.engine}): ${e.prog.prog.length} insns, runs ${e.stats.runs}, insns run ${e.stats.insns}${e.stepping ? ', stepping' : ''}`);
      if (args[0] === 'step' && (args[1] === 'on' || args[1] === 'off')) {
        sys.extStepping = args[1] === 'on';
        for (const { e } of exts) e.stepping = sys.extStepping;
        return [`extension stepping ${args[1]}: each instruction is a kernel step (break ext/insn to stop on one)`];
      }
      if (args[0] === 'show') {
        const node = int(args[1], 'NODE');
        const id = int(args[2], 'ID');
        const found = exts.find((x) => x.node === node && x.e.id === id);
        if (found === undefined) throw new UsageError(`no extension ${id} on node ${node}`);
        const vm = found.e.lastVm;
        const pc = vm?.pc ?? -1;
        const lines = disassemble(found.e.prog.prog).map((l, i) => `${i === pc ? '=>' : '  '} ${l}`);
        const regs = vm === null ? ['  (no stepped run yet: ext step on)'] : [Array.from({ length: 11 }, (_, i) => `r${i}=0x${vm.get(i).toString(16)}`).join(' ')];
        return [...regs, ...lines];
      }
      throw new UsageError(COMMANDS.ext.usage);
    },
  },
  quit: {
    usage: 'quit',
    help: 'leave the monitor',
    run(s) {
      s.done = true;
      return [];
    },
  },
};
