// Process incarnations: a per-node serial a subsystem gives each process it
// deals with, never reused. Pids are reused (every rank of a yod-loaded job
// is pid 100, monitor/launch.ts), so a pid cannot tell an ended process from
// the next one on its node; an incarnation can. Each subsystem keeps its own
// numbering (U-Net's channel peers, IPC's per-sender shares): a serial is
// given lazily, at a process's first use there.

import type { Process } from './process.ts';

export class Incarnations {
  private readonly serials = new WeakMap<Process, number>();
  private next = 1;

  /** The process's incarnation (given at the first call for it). */
  of(p: Process): number {
    let s = this.serials.get(p);
    if (s === undefined) {
      s = this.next++;
      this.serials.set(p, s);
    }
    return s;
  }
}
