// Trace records: one per kernel step, kept in a bounded ring and optionally
// streamed to a file as JSON lines. Whether tracing is on never changes what
// the simulation does: steps happen and cost the same either way; only the
// keeping of records differs.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { TraceRecord } from '../kernel/trace.ts';

export class Trace {
  enabled = false;
  /** Steps seen, kept or not. */
  count = 0;
  private ring: (TraceRecord | undefined)[];
  private head = 0;
  private size = 0;
  private fd: number | null = null;
  private pending: string[] = [];
  /** Running FNV-1a hash over every kept record, for determinism checks. */
  hash = 2166136261;

  constructor(readonly capacity = 65_536) {
    this.ring = new Array(capacity);
  }

  /** Starts writing every record to `file` as JSON lines. */
  streamTo(file: string): void {
    this.close();
    this.fd = openSync(file, 'w');
    this.enabled = true;
  }

  record(r: TraceRecord): void {
    this.count++;
    if (!this.enabled) return;
    this.ring[(this.head + this.size) % this.capacity] = r;
    if (this.size < this.capacity) this.size++;
    else this.head = (this.head + 1) % this.capacity;
    this.hash = fnv(this.hash, `${r.t}|${r.node}|${r.core}|${r.pid}|${r.path}|${r.step}|${r.detail}`);
    if (this.fd !== null) {
      this.pending.push(JSON.stringify(r));
      if (this.pending.length >= 4096) this.flush();
    }
  }

  /** The last `n` records kept, oldest first. */
  last(n = this.size): TraceRecord[] {
    const out: TraceRecord[] = [];
    const k = Math.min(n, this.size);
    for (let i = this.size - k; i < this.size; i++) out.push(this.ring[(this.head + i) % this.capacity]!);
    return out;
  }

  get kept(): number {
    return this.size;
  }

  flush(): void {
    if (this.fd !== null && this.pending.length > 0) {
      writeSync(this.fd, this.pending.join('\n') + '\n');
      this.pending = [];
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function fnv(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return Math.imul(h ^ 10, 16777619) >>> 0;
}
