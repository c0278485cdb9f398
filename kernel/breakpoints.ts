// Breakpoints on trace records: a glob on "path/step" and optional node,
// core, pid and syscall name. A run stops after the step that matches.

import type { TraceRecord } from './trace.ts';
import { VECTOR, type VectorName } from './vectors.ts';

export interface BreakpointSpec {
  /** Glob over "path/step", e.g. "syscall/*", "irq/eoi", "tlb/*". */
  readonly pattern?: string;
  readonly node?: number;
  readonly core?: number;
  readonly pid?: number;
  /** Stops at the dispatch of this syscall. */
  readonly syscall?: string;
  /** Stops at the entry of this interrupt vector (name such as nic-rx, or number). */
  readonly vector?: string;
}

export interface Breakpoint extends BreakpointSpec {
  readonly id: number;
  hits: number;
}

export function globToRegExp(glob: string): RegExp {
  const re = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`);
}

export class Breakpoints {
  private list: (Breakpoint & { re: RegExp | null })[] = [];
  private nextId = 1;

  get all(): readonly Breakpoint[] {
    return this.list;
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  add(spec: BreakpointSpec): Breakpoint {
    const b = { ...spec, id: this.nextId++, hits: 0, re: spec.pattern ? globToRegExp(spec.pattern) : null };
    this.list.push(b);
    return b;
  }

  delete(id: number): boolean {
    const n = this.list.length;
    this.list = this.list.filter((b) => b.id !== id);
    return this.list.length !== n;
  }

  clear(): void {
    this.list = [];
  }

  /** The first breakpoint this record satisfies (its hit count is bumped), or null. */
  match(r: TraceRecord): Breakpoint | null {
    for (const b of this.list) {
      if (b.node !== undefined && b.node !== r.node) continue;
      if (b.core !== undefined && b.core !== r.core) continue;
      if (b.pid !== undefined && b.pid !== r.pid) continue;
      if (b.syscall !== undefined && !(r.path === 'syscall' && r.step === 'dispatch' && r.detail === b.syscall)) continue;
      if (b.vector !== undefined && !(r.path === 'irq' && r.step === 'entry' && (r.detail === b.vector || String(VECTOR[r.detail as VectorName]) === b.vector))) continue;
      if (b.re !== null && !b.re.test(`${r.path}/${r.step}`)) continue;
      b.hits++;
      return b;
    }
    return null;
  }
}
