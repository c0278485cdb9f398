// Breakpoints on trace records: a glob on "path/step" and optional node,
// core, pid, program name, syscall name, interrupt vector and a condition on
// a register of the core that took the step or a field of the record. A
// breakpoint can be disabled or told to ignore its next N hits. Watchpoints
// stop after the kernel step during which a watched span of physical memory
// changed (write, as gdb's watch), was read (read, rwatch) or was read or
// written (access, awatch): the last two are told of each access by the
// node's memory while they exist. Internal stops (`over`) live apart from the user's list and take
// none of the user's numbers. A run stops after the step that matches.

import { TRACE_PATHS, type TracePath } from '../kernel/tracepaths.ts';
import type { TraceRecord } from '../kernel/trace.ts';
import { VECTOR, type VectorName } from '../kernel/vectors.ts';

/** The trace path list, re-exported so the monitor reads it through the simulator's API. */
export { isTracePath, TRACE_PATHS } from '../kernel/tracepaths.ts';

/** `REG OP VALUE` or `FIELD OP VALUE`; `~` tests that a text field contains the value. */
export interface Condition {
  readonly left: string;
  readonly op: '==' | '!=' | '<' | '<=' | '>' | '>=' | '~';
  readonly right: string;
}

export interface BreakpointSpec {
  /** Glob over "path/step", e.g. "syscall/*", "irq/eoi", "tlb/*". */
  readonly pattern?: string;
  readonly node?: number;
  readonly core?: number;
  readonly pid?: number;
  /** The name of the process that took the step (init, hello, yod, ...). */
  readonly program?: string;
  /** Stops at the dispatch of this syscall. */
  readonly syscall?: string;
  /** Stops at the entry of this interrupt vector (name such as nic-rx, or number). */
  readonly vector?: string;
  readonly condition?: Condition;
}

export interface Breakpoint extends BreakpointSpec {
  readonly id: number;
  hits: number;
  enabled: boolean;
  /** Matches still to pass over before the breakpoint stops a run. */
  ignore: number;
}

/** write: the span's value changed; read: it was read; access: read or written. */
export type WatchKind = 'write' | 'read' | 'access';

export interface Watchpoint {
  readonly id: number;
  readonly kind: WatchKind;
  /** A read or access watchpoint's span was touched during the current step. */
  touched: boolean;
  readonly node: number;
  /** Physical span watched. */
  readonly pa: number;
  readonly len: number;
  /** How the user named it (e.g. "virtual 0x400000 in pid 100" or "physical 0x1000"). */
  readonly what: string;
  hits: number;
  enabled: boolean;
  ignore: number;
  last: Uint8Array;
}

/** What a breakpoint's condition and program test need from the machine. */
export interface MatchContext {
  register(node: number, core: number, name: string): bigint | undefined;
  program(node: number, pid: number): string | undefined;
  readPhysical(node: number, pa: number, len: number): Uint8Array;
  /** Starts (fn) or stops (null) telling `fn` of every access to a node's memory. */
  observe(node: number, fn: ((pa: number, len: number, write: boolean) => void) | null): void;
}

const CONDITION_OPS = ['==', '!=', '<=', '>=', '<', '>', '~'] as const;
export const RECORD_FIELDS = ['node', 'core', 'pid', 'path', 'step', 'detail', 't'] as const;

function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}

/**
 * The kernel paths a "path/step" glob can stop in, from the one list of
 * paths. A record reads "path/step" with a single '/' (neither part holds
 * one), so a glob's first '/' is that one and its head matches the path; a
 * glob without '/' can match only through a wildcard, after a literal prefix
 * of "path/". Empty when the glob can match no record.
 */
export function pathsMatching(glob: string): TracePath[] {
  const paths = Object.keys(TRACE_PATHS) as TracePath[];
  const slash = glob.indexOf('/');
  if (slash >= 0) {
    const head = globToRegExp(glob.slice(0, slash));
    return paths.filter((p) => head.test(p));
  }
  const wild = glob.search(/[*?]/);
  if (wild < 0) return [];
  const prefix = glob.slice(0, wild);
  return paths.filter((p) => `${p}/`.startsWith(prefix));
}

/** Parses "rax==0x1", "detail~write", "pid != 100" (already joined); null when malformed. */
export function parseCondition(text: string): Condition | null {
  for (const op of CONDITION_OPS) {
    const i = text.indexOf(op);
    if (i <= 0) continue;
    const left = text.slice(0, i).trim();
    const right = text.slice(i + op.length).trim();
    if (left === '' || right === '' || !/^[a-z][a-z0-9]*$/.test(left)) return null;
    return { left, op, right };
  }
  return null;
}

export function conditionText(c: Condition): string {
  return `${c.left}${c.op}${c.right}`;
}

function compare(a: bigint | string, op: Condition['op'], b: bigint | string): boolean {
  if (op === '~') return String(a).includes(String(b));
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

function asNumber(text: string): bigint | null {
  return /^(0x[0-9a-f]+|-?\d+)$/i.test(text) ? BigInt(text) : null;
}

function testCondition(c: Condition, r: TraceRecord, ctx: MatchContext): boolean {
  const field = (RECORD_FIELDS as readonly string[]).includes(c.left) ? (r as unknown as Record<string, number | string>)[c.left] : undefined;
  const left = field !== undefined ? field : ctx.register(r.node, r.core, c.left);
  if (left === undefined) return false;
  const rightNum = asNumber(c.right);
  if (c.op !== '~' && rightNum !== null && (typeof left === 'bigint' || typeof left === 'number')) return compare(BigInt(left), c.op, rightNum);
  return compare(String(left), c.op, c.right);
}

type Stored = Breakpoint & { re: RegExp | null };

function make(spec: BreakpointSpec, id: number): Stored {
  return { ...spec, id, hits: 0, enabled: true, ignore: 0, re: spec.pattern ? globToRegExp(spec.pattern) : null };
}

export class Breakpoints {
  private list: Stored[] = [];
  private internal: Stored[] = [];
  private watches: Watchpoint[] = [];
  private nextId = 1;
  /** While set (re-runs for reverse execution), nothing matches and no hit is counted. */
  suspended = false;
  ctx: MatchContext | null = null;

  get all(): readonly Breakpoint[] {
    return this.list;
  }

  get watchpoints(): readonly Watchpoint[] {
    return this.watches;
  }

  get empty(): boolean {
    return this.list.length === 0 && this.internal.length === 0 && this.watches.length === 0;
  }

  add(spec: BreakpointSpec): Breakpoint {
    const b = make(spec, this.nextId++);
    this.list.push(b);
    return b;
  }

  /** A stop for the monitor's own use (id 0): not listed, takes no user number. */
  addInternal(spec: BreakpointSpec): Breakpoint {
    const b = make(spec, 0);
    this.internal.push(b);
    return b;
  }

  removeInternal(b: Breakpoint): void {
    this.internal = this.internal.filter((x) => x !== b);
  }

  watch(w: Omit<Watchpoint, 'id' | 'hits' | 'enabled' | 'ignore' | 'touched'>): Watchpoint {
    const x: Watchpoint = { ...w, id: this.nextId++, hits: 0, enabled: true, ignore: 0, touched: false };
    this.watches.push(x);
    this.observeNodes();
    return x;
  }

  /** Nodes whose memory tells us of accesses: those with a read or access watchpoint. */
  private observed = new Set<number>();

  /** Asks for access reports from exactly the nodes with read or access watchpoints. */
  private observeNodes(): void {
    if (this.ctx === null) return;
    const want = new Set(this.watches.filter((w) => w.kind !== 'write').map((w) => w.node));
    for (const n of this.observed) if (!want.has(n)) this.ctx.observe(n, null);
    for (const n of want) if (!this.observed.has(n)) this.ctx.observe(n, (pa, len, write) => this.accessed(n, pa, len, write));
    this.observed = want;
  }

  /** An access the machine made to a node's memory (not the debugger's own looks). */
  private accessed(node: number, pa: number, len: number, write: boolean): void {
    if (this.suspended) return;
    for (const w of this.watches) {
      if (w.node !== node || w.kind === 'write' || (w.kind === 'read' && write)) continue;
      if (pa < w.pa + w.len && w.pa < pa + len) w.touched = true;
    }
  }

  find(id: number): Breakpoint | Watchpoint | undefined {
    return this.list.find((b) => b.id === id) ?? this.watches.find((w) => w.id === id);
  }

  delete(id: number): boolean {
    const n = this.list.length + this.watches.length;
    this.list = this.list.filter((b) => b.id !== id);
    this.watches = this.watches.filter((w) => w.id !== id);
    this.observeNodes();
    return this.list.length + this.watches.length !== n;
  }

  clear(): void {
    this.list = [];
    this.watches = [];
    this.observeNodes();
  }

  /** Takes over another set's breakpoints, numbers and counts (a re-run's fresh machine keeps the user's). */
  adopt(from: Breakpoints): void {
    this.list = from.list;
    this.watches = from.watches;
    this.nextId = from.nextId;
    for (const w of this.watches) w.touched = false;
    this.observeNodes();
  }

  /**
   * Copies of another set's breakpoints and watchpoints with no hits and no
   * ignore counts (a re-run from boot that looks for earlier hits): a change
   * watchpoint starts from what its span holds on the fresh machine.
   */
  cloneFrom(from: Breakpoints): void {
    this.list = from.list.map((b) => ({ ...b, hits: 0, ignore: 0 }));
    this.watches = from.watches.map((w) => ({ ...w, hits: 0, ignore: 0, touched: false, last: this.ctx === null ? w.last : this.ctx.readPhysical(w.node, w.pa, w.len) }));
    this.nextId = from.nextId;
    this.observeNodes();
  }

  private pass(b: { enabled: boolean; ignore: number; hits: number }): boolean {
    if (!b.enabled) return false;
    b.hits++;
    if (b.ignore > 0) {
      b.ignore--;
      return false;
    }
    return true;
  }

  /** The first breakpoint or watchpoint this record satisfies (its hit count is bumped), or null. */
  match(r: TraceRecord): Breakpoint | Watchpoint | null {
    if (this.suspended) return null;
    for (const b of this.internal) if (this.matches(b, r)) return b;
    for (const b of this.list) if (b.enabled && this.matches(b, r) && this.pass(b)) return b;
    for (const w of this.watches) {
      if (w.node !== r.node || this.ctx === null) continue;
      if (w.kind !== 'write') {
        if (!w.touched) continue;
        w.touched = false;
        if (this.pass(w)) return w;
        continue;
      }
      const now = this.ctx.readPhysical(w.node, w.pa, w.len);
      if (now.every((x, i) => x === w.last[i])) continue;
      w.last = now;
      if (this.pass(w)) return w;
    }
    return null;
  }

  private matches(b: Stored, r: TraceRecord): boolean {
    if (b.node !== undefined && b.node !== r.node) return false;
    if (b.core !== undefined && b.core !== r.core) return false;
    if (b.pid !== undefined && b.pid !== r.pid) return false;
    if (b.syscall !== undefined && !(r.path === 'syscall' && r.step === 'dispatch' && r.detail === b.syscall)) return false;
    if (b.vector !== undefined && !(r.path === 'irq' && r.step === 'entry' && (r.detail === b.vector || String(VECTOR[r.detail as VectorName]) === b.vector))) return false;
    if (b.re !== null && !b.re.test(`${r.path}/${r.step}`)) return false;
    if (b.program !== undefined && (this.ctx === null || this.ctx.program(r.node, r.pid) !== b.program)) return false;
    if (b.condition !== undefined && (this.ctx === null || !testCondition(b.condition, r, this.ctx))) return false;
    return true;
  }
}
