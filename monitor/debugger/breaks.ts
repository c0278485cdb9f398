// Breakpoints and watchpoints as the monitor sets them: every qualifier is
// checked against the machine (a node that exists, a syscall in the table, a
// vector by name or number, a register or record field in a condition), and
// breakpoints can be disabled, enabled, given an ignore count or a condition.

import { REGISTERS } from '../../hw/core.ts';
import { type Breakpoint, type BreakpointSpec, type Condition, conditionText, isTracePath, parseCondition, pathsMatching, RECORD_FIELDS, TRACE_PATHS, type Watchpoint, type WatchKind } from '../../system/breakpoints.ts';
import { SYSCALLS } from '../../kernel/syscalls/table.ts';
import { VECTOR, VECTORS } from '../../kernel/vectors.ts';
import { UsageError } from '../args.ts';
import type { MonitorCommand, MonitorSession } from '../session.ts';
import { currentProcess } from './inspect.ts';
import { count, didYouMean, hex, int } from './words.ts';

const QUALIFIERS = ['node', 'core', 'pid', 'program', 'syscall', 'vector', 'if'];

function condition(text: string): Condition {
  const c = parseCondition(text);
  if (c === null) throw new UsageError(`bad condition '${text}': use REG OP VALUE or FIELD OP VALUE (e.g. rax==0x1, detail~write), OP one of == != < <= > >= ~`);
  if (!(REGISTERS as readonly string[]).includes(c.left) && !(RECORD_FIELDS as readonly string[]).includes(c.left)) {
    throw new UsageError(`condition: '${c.left}' is neither a register (${REGISTERS.join(' ')}) nor a record field (${RECORD_FIELDS.join(' ')})`);
  }
  return c;
}

/** A pattern that can stop in no kernel path would never stop: refused, naming the path it misses. */
function checkPattern(pattern: string): void {
  if (pattern === '*' || pathsMatching(pattern).length > 0) return;
  const head = pattern.split('/')[0];
  if (!pattern.includes('/') && isTracePath(pattern)) throw new UsageError(`break: '${pattern}' names a path, not a step: use PATH/STEP (e.g. ${pattern}/*)`);
  if (/[*?]/.test(head)) throw new UsageError(`break: no kernel path matches '${head}'; the paths are listed in docs/MONITOR.md`);
  const near = didYouMean(head, Object.keys(TRACE_PATHS));
  throw new UsageError(`break: no kernel path '${head}'${near ? ` (did you mean '${near}'?)` : ''}; the paths are listed in docs/MONITOR.md`);
}

/** The spec of `break PATTERN [qualifiers]`, each qualifier checked. */
function breakSpec(s: MonitorSession, args: readonly string[]): BreakpointSpec {
  if (args.length === 0) throw new UsageError('break needs a pattern (e.g. break syscall/dispatch syscall write)');
  checkPattern(args[0]);
  const spec: { -readonly [K in keyof BreakpointSpec]: BreakpointSpec[K] } = { pattern: args[0] === '*' ? undefined : args[0] };
  for (let i = 1; i < args.length; i += 2) {
    const q = args[i];
    const v = args[i + 1];
    if (q === 'if') {
      spec.condition = condition(args.slice(i + 1).join(''));
      break;
    }
    if (v === undefined) throw new UsageError(`break: '${q}' needs a value`);
    switch (q) {
      case 'node':
        spec.node = s.checkNode(int(v, 'node'));
        break;
      case 'core':
        spec.core = int(v, 'core');
        if (spec.core >= s.system.profile.values['cpu.cores']) throw new UsageError(`core ${spec.core} is not in a node (cores 0..${s.system.profile.values['cpu.cores'] - 1})`);
        break;
      case 'pid':
        spec.pid = int(v, 'pid');
        break;
      case 'program':
        spec.program = v;
        break;
      case 'syscall': {
        if (!SYSCALLS.some((x) => x.name === v)) {
          const near = didYouMean(v, SYSCALLS.map((x) => x.name));
          throw new UsageError(`no syscall '${v}' in the table${near ? ` (did you mean '${near}'?)` : ''}; see docs/ABI.md`);
        }
        spec.syscall = v;
        break;
      }
      case 'vector': {
        if (v in VECTOR) spec.vector = v;
        else if (/^(0x[0-9a-f]+|\d+)$/i.test(v) && Number(v) <= 255) spec.vector = String(Number(v));
        else throw new UsageError(`vector must be a name (${VECTORS.map((x) => x.name).join(', ')}) or a number 0..255, got '${v}'`);
        break;
      }
      default:
        throw new UsageError(`break: unknown qualifier '${q}' (${QUALIFIERS.join(', ')})`);
    }
  }
  return spec;
}

/** What a watchpoint of each kind saw, as a stop says it. */
export const WATCH_VERB: Readonly<Record<WatchKind, string>> = { write: 'changed', read: 'was read', access: 'was accessed' };

export function describeBreak(b: Breakpoint | Watchpoint): string {
  const state = `${b.enabled ? '' : ' (disabled)'}${b.ignore > 0 ? ` (ignore next ${b.ignore})` : ''}, ${b.hits} hit(s)`;
  if ('pa' in b) return `  ${String(b.id).padStart(3)}  watch ${b.kind === 'write' ? '' : `${b.kind} `}${b.what}: node ${b.node} physical ${hex(b.pa)}..${hex(b.pa + b.len)}${state}`;
  const parts = [b.pattern ?? '*'];
  if (b.node !== undefined) parts.push(`node ${b.node}`);
  if (b.core !== undefined) parts.push(`core ${b.core}`);
  if (b.pid !== undefined) parts.push(`pid ${b.pid}`);
  if (b.program !== undefined) parts.push(`program ${b.program}`);
  if (b.syscall !== undefined) parts.push(`syscall ${b.syscall}`);
  if (b.vector !== undefined) parts.push(`vector ${b.vector in VECTOR ? b.vector : `${b.vector} (${hex(Number(b.vector))})`}`);
  if (b.condition !== undefined) parts.push(`if ${conditionText(b.condition)}`);
  return `  ${String(b.id).padStart(3)}  break ${parts.join(' ')}${state}`;
}

function find(s: MonitorSession, text: string | undefined): Breakpoint | Watchpoint {
  const id = int(text, 'ID');
  const b = s.system.breakpoints.find(id);
  if (b === undefined) throw new UsageError(`no breakpoint or watchpoint ${id} (info break lists them)`);
  return b;
}

function plain(b: Breakpoint | Watchpoint): Record<string, unknown> {
  const { last: _last, re: _re, ...rest } = b as Watchpoint & { re?: unknown };
  return rest;
}

export const BREAK_COMMANDS: Readonly<Record<string, MonitorCommand>> = {
  break: {
    usage: 'break PATTERN [node N] [core C] [pid P] [program NAME] [syscall NAME] [vector V] [if COND]',
    help: 'stop after a kernel step matching PATTERN (glob on path/step, * for any) and every qualifier; COND is REG OP VALUE on the stepping core or FIELD OP VALUE on the record (== != < <= > >= ~)',
    example: 'break syscall/dispatch program hello syscall write if rdx>4',
    run(s, args) {
      const b = s.system.addBreakpoint(breakSpec(s, args));
      s.data = plain(b);
      return [`breakpoint ${b.id}: ${describeBreak(b).replace(/^\s+\d+\s+break /, '').replace(/, 0 hit\(s\)$/, '')}`];
    },
  },
  watch: {
    usage: 'watch [read|access] [phys] ADDR [LEN]',
    help: "stop after the kernel step during which LEN bytes (default 8) change (or, with read, are read; with access, are read or written, by a core, the kernel or a DMA engine): virtual in the current process (through its page tables, fixed when set) or physical on the current node",
    example: 'watch read 0x600000 8',
    run(s, args) {
      const kind: WatchKind = args[0] === 'read' || args[0] === 'access' ? args[0] : 'write';
      const afterKind = kind === 'write' ? args : args.slice(1);
      const phys = afterKind[0] === 'phys';
      const rest = phys ? afterKind.slice(1) : afterKind;
      const addr = int(rest[0], 'ADDR');
      const len = rest[1] === undefined ? 8 : count(rest[1], 'LEN', 1, 4096);
      const sys = s.system;
      const node = s.cur.node;
      let pa: number;
      let what: string;
      if (phys) {
        sys.inspect.physical(node, addr, len);
        pa = addr;
        what = `physical ${hex(addr)}`;
      } else {
        const p = currentProcess(s);
        const w = sys.inspect.translate(node, p.pid, addr);
        const endW = sys.inspect.translate(node, p.pid, addr + len - 1);
        if (!w.ok) throw new UsageError(`${hex(addr)} is not mapped in pid ${p.pid} (${p.name}) on node ${node}`);
        if (!endW.ok || endW.pageBase !== w.pageBase) throw new UsageError('a virtual watchpoint must lie within one page');
        pa = w.pageBase + (addr % w.pageSize);
        what = `virtual ${hex(addr)} in pid ${p.pid} ${p.name}`;
      }
      const x = sys.breakpoints.watch({ kind, node, pa, len, what, last: sys.inspect.physical(node, pa, len) });
      s.data = plain(x);
      return [`watchpoint ${x.id}: ${kind === 'write' ? '' : `${kind} `}${what} (node ${node} physical ${hex(pa)}, ${len} B)`];
    },
  },
  delete: {
    usage: 'delete [ID]',
    help: 'delete breakpoint or watchpoint ID (or all)',
    example: 'delete 1',
    run(s, args) {
      const bps = s.system.breakpoints;
      if (args[0] === undefined) {
        const n = bps.all.length + bps.watchpoints.length;
        bps.clear();
        return [`deleted ${n} breakpoint(s) and watchpoint(s)`];
      }
      if (!bps.delete(int(args[0], 'ID'))) throw new UsageError(`no breakpoint ${args[0]}`);
      return [`deleted ${args[0]}`];
    },
  },
  disable: {
    usage: 'disable ID',
    help: 'keep breakpoint or watchpoint ID but let it not stop',
    example: 'disable 1',
    run(s, args) {
      const b = find(s, args[0]);
      b.enabled = false;
      return [`disabled ${b.id}`];
    },
  },
  enable: {
    usage: 'enable ID',
    help: 'let a disabled breakpoint or watchpoint stop again',
    example: 'enable 1',
    run(s, args) {
      const b = find(s, args[0]);
      b.enabled = true;
      return [`enabled ${b.id}`];
    },
  },
  ignore: {
    usage: 'ignore ID N',
    help: 'pass over the next N hits of breakpoint or watchpoint ID',
    example: 'ignore 1 3',
    run(s, args) {
      const b = find(s, args[0]);
      b.ignore = count(args[1], 'N', 0, Number.MAX_SAFE_INTEGER);
      return [`breakpoint ${b.id} ignores its next ${b.ignore} hit(s)`];
    },
  },
  condition: {
    usage: 'condition ID [COND]',
    help: 'give breakpoint ID a condition (REG OP VALUE or FIELD OP VALUE), or take it away',
    example: 'condition 1 rax==0x1',
    run(s, args) {
      const b = find(s, args[0]);
      if ('pa' in b) throw new UsageError('a watchpoint takes no condition');
      (b as { condition?: Condition }).condition = args.length > 1 ? condition(args.slice(1).join('')) : undefined;
      return [b.condition ? `breakpoint ${b.id} stops only if ${conditionText(b.condition)}` : `breakpoint ${b.id} is unconditional`];
    },
  },
};
