// Reverse execution by deterministic re-run. The machine is deterministic:
// the same boot line and the same inputs at the same event counts give the
// same machine. So going back is going forward again: boot a fresh machine,
// replay the logged inputs (load, set, cpu, ext step, trace on/off, status,
// kill) at the event counts they first ran at, and stop at the wanted event
// count or time. The user's breakpoints carry over; while re-running they
// are suspended. reverse-continue re-runs once to find the earlier hits,
// then again to the last of them. record writes the log as a script that
// replays it; replay runs such a script.

import { formatPs as formatTime, parseTime } from '../../hw/time.ts';
import type { System } from '../../system/system.ts';
import type { TraceRecord } from '../../kernel/trace.ts';
import { UsageError } from '../args.ts';
import { MAX_SCRIPT_BYTES, readBounded, writeOutput } from '../files.ts';
import type { MonitorCommand, MonitorSession } from '../session.ts';
import { count, recordLine } from './words.ts';

/** A command that changed the machine, with the event count and time it ran at. */
export interface Input {
  readonly events: number;
  readonly time: number;
  readonly line: string;
}

/** How a command is logged for replay, or null when it changes nothing a re-run must repeat. */
export function recordedLine(name: string, args: readonly string[]): string | null {
  switch (name) {
    case 'load':
    case 'run':
      return ['load', ...args].join(' ');
    case 'set':
    case 'status':
    case 'kill':
      return [name, ...args].join(' ');
    case 'cpu':
      // set acts on the current CPU: the choice is replayed before it.
      return args.length > 0 ? ['cpu', ...args].join(' ') : null;
    case 'ext':
      return args[0] === 'step' ? ['ext', ...args].join(' ') : null;
    case 'trace':
      return args[0] === 'on' || args[0] === 'off' ? ['trace', ...args].join(' ') : null;
    default:
      return null;
  }
}

/** Runs forward to `events` fired (or until nothing is left); breakpoint hits are passed to `onHit`. */
function forward(sys: System, target: { events?: number; time?: number }, onHit?: (r: TraceRecord) => void): void {
  for (;;) {
    const left = target.events === undefined ? Infinity : target.events - sys.engine.fired;
    if (left <= 0) return;
    const stop = sys.run({ maxEvents: left, until: target.time });
    if (stop.kind === 'breakpoint') onHit?.(stop.record);
    else return;
  }
}

export interface Rerun {
  /** Events re-run from boot, and the host time it took: elapsed and CPU (the CPU time is steadier on a shared host). */
  readonly events: number;
  readonly ms: number;
  readonly cpuMs: number;
  /** Earlier breakpoint hits seen (scan runs only): event count after the hit, and its record. */
  readonly hits: { events: number; record: TraceRecord }[];
}

/**
 * Boots a fresh machine from the session's boot line, replays its inputs up
 * to the target and, unless `scan`, makes it the session's machine.
 */
async function rerun(s: MonitorSession, target: { events?: number; time?: number }, scan = false): Promise<Rerun> {
  if (s.bootLine === null) throw new UsageError('nothing to re-run: boot first');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const old = s.system;
  const fresh = new (s.constructor as new () => MonitorSession)();
  fresh.replaying = true;
  const booted = await fresh.exec(s.bootLine);
  if (booted.some((l) => l.startsWith('error:'))) throw new UsageError(`re-run: '${s.bootLine}' failed: ${booted.join(' ')}`);
  const sys = fresh.system;
  const hits: { events: number; record: TraceRecord }[] = [];
  if (scan) sys.breakpoints.cloneFrom(old.breakpoints);
  else sys.breakpoints.suspended = true;
  const onHit = (r: TraceRecord) => hits.push({ events: sys.engine.fired, record: r });
  const kept = [];
  for (const input of s.inputs) {
    if ((target.events !== undefined && input.events > target.events) || (target.time !== undefined && input.time > target.time)) break;
    forward(sys, { events: input.events }, onHit);
    const out = await fresh.exec(input.line);
    if (out.some((l) => l.startsWith('error:'))) throw new UsageError(`re-run: '${input.line}' at event ${input.events} failed: ${out.join(' ')}`);
    kept.push(input);
  }
  forward(sys, target, onHit);
  const c = process.cpuUsage(c0);
  const result = { events: sys.engine.fired, ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, hits };
  if (scan) return result;
  sys.breakpoints.suspended = false;
  sys.breakpoints.adopt(old.breakpoints);
  for (const w of sys.breakpoints.watchpoints) w.last = sys.inspect.physical(w.node, w.pa, w.len);
  const cur = s.cur;
  const curPid = s.curPid;
  s.sys = sys;
  s.job = fresh.job;
  s.fanout = fresh.fanout;
  s.defaultRanks = fresh.defaultRanks;
  s.inputs = kept;
  s.cur = cur;
  s.curPid = curPid;
  s.lastStop = { kind: 'goto' };
  return result;
}

function howLines(s: MonitorSession, r: Rerun): string[] {
  return [`now at ${formatTime(s.system.now)} (event ${s.events})`, `  re-ran ${r.events} events from boot in ${(r.ms / 1000).toFixed(2)} s host time (${(r.cpuMs / 1000).toFixed(2)} s CPU)`];
}

/** Goes to event count `events`: forward by running, backward by re-running from boot. */
async function gotoEvents(s: MonitorSession, events: number): Promise<string[]> {
  const sys = s.system;
  if (events >= s.events) {
    sys.breakpoints.suspended = true;
    try {
      forward(sys, { events });
    } finally {
      sys.breakpoints.suspended = false;
    }
    s.lastStop = { kind: 'goto' };
    return [`now at ${formatTime(sys.now)} (event ${s.events})${s.events < events ? ': nothing left to do before that event' : ''}`];
  }
  return howLines(s, await rerun(s, { events }));
}

export const REVERSE_COMMANDS: Readonly<Record<string, MonitorCommand>> = {
  goto: {
    usage: 'goto EVENT|TIME',
    help: 'go to event count EVENT (a bare number) or simulated TIME (50us): forward by running, backward by re-running from boot with the recorded inputs',
    example: 'goto 1200',
    async run(s, args) {
      const a = args[0] ?? '';
      if (/^\d+$/.test(a)) return gotoEvents(s, count(a, 'EVENT', 0, Number.MAX_SAFE_INTEGER));
      let t: number;
      try {
        t = parseTime(a);
      } catch {
        throw new UsageError(`goto EVENT (a number of events since boot) or TIME (e.g. 50us), got '${a}'`);
      }
      const sys = s.system;
      if (t >= sys.now) {
        sys.breakpoints.suspended = true;
        try {
          sys.run({ until: t });
        } finally {
          sys.breakpoints.suspended = false;
        }
        s.lastStop = { kind: 'goto' };
        return [`now at ${formatTime(sys.now)} (event ${s.events})`];
      }
      return howLines(s, await rerun(s, { time: t }));
    },
  },
  'reverse-step': {
    usage: 'reverse-step [N]',
    help: 'go back N events (default 1) by re-running from boot to event count now - N',
    example: 'reverse-step',
    async run(s, args) {
      const n = args[0] === undefined ? 1 : count(args[0], 'N', 1, Number.MAX_SAFE_INTEGER);
      const target = Math.max(0, s.events - n);
      const out = await gotoEvents(s, target);
      const last = s.system.trace.last(1)[0];
      return [...out, ...(last ? [`  last step: ${last.path}/${last.step} on node ${last.node} core ${last.core}${last.detail ? `  ${last.detail}` : ''}`] : [])];
    },
  },
  'reverse-continue': {
    usage: 'reverse-continue',
    help: 'go back to the previous breakpoint or watchpoint hit (enabled ones, conditions kept, ignore counts not applied): one re-run finds the hits, a second stops at the last one before now',
    example: 'reverse-continue',
    async run(s) {
      const now = s.events;
      if (s.system.breakpoints.all.length === 0 && s.system.breakpoints.watchpoints.length === 0) throw new UsageError('no breakpoints or watchpoints to go back to (break or watch ... first)');
      const scan = await rerun(s, { events: now }, true);
      const earlier = scan.hits.filter((h) => h.events < now);
      if (earlier.length === 0) return [`no breakpoint or watchpoint hit before event ${now}; still at ${formatTime(s.system.now)}`];
      const to = earlier[earlier.length - 1];
      const r = await rerun(s, { events: to.events });
      return [`back at the hit before: ${formatTime(s.system.now)} (event ${s.events})`, `  ${recordLine(to.record)}`, `  re-ran twice from boot (${scan.events} + ${r.events} events) in ${((scan.ms + r.ms) / 1000).toFixed(2)} s host time (${((scan.cpuMs + r.cpuMs) / 1000).toFixed(2)} s CPU)`];
    },
  },
  record: {
    usage: 'record [FILE]',
    help: 'show the recorded inputs (boot and what changed the machine, at their event counts), or write them to FILE as a script that replays to now',
    example: 'record /tmp/session.txt',
    run(s, args) {
      if (s.bootLine === null) throw new UsageError('nothing recorded: boot first');
      const lines = [s.bootLine, ...s.inputs.flatMap((i) => [`goto ${i.events}`, i.line]), `goto ${s.events}`];
      s.data = { boot: s.bootLine, inputs: s.inputs, events: s.events };
      if (args[0] === undefined) return [`boot: ${s.bootLine}`, ...s.inputs.map((i) => `  event ${String(i.events).padStart(9)} (${formatTime(i.time)}): ${i.line}`), `now: event ${s.events}`];
      writeOutput(args[0], 'record', `# margay monitor recording: replay with 'replay ${args[0]}' or 'margay monitor --script ${args[0]}'\n${lines.join('\n')}\n`);
      return [`wrote ${args[0]}: ${lines.length} lines (boot, ${s.inputs.length} input(s), to event ${s.events})`];
    },
  },
  replay: {
    usage: 'replay FILE',
    help: 'run the commands of FILE (a recording or any script), stopping at the first error',
    example: 'replay /tmp/session.txt',
    async run(s, args) {
      if (args[0] === undefined) throw new UsageError('replay FILE');
      // Bounded as --script is: /dev/zero or a FIFO is refused, not read for ever.
      const text = new TextDecoder().decode(readBounded(args[0], MAX_SCRIPT_BYTES));
      const out: string[] = [];
      for (const line of text.split('\n')) {
        if (line.trim() === '' || line.trim().startsWith('#')) continue;
        if (/^replay\b/.test(line.trim())) throw new UsageError('a replayed file cannot replay another');
        const lines = await s.exec(line);
        out.push(`(replay) ${line.trim()}`, ...lines);
        if (lines.some((l) => l.startsWith('error:'))) break;
      }
      return out;
    },
  },
};
