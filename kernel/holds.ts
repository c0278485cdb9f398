// What a kernel path holds across a block. A thread blocked in the kernel
// may be killed there (its process ends): its path is dropped (exit.ts,
// buryThread) and never resumes, so nothing after the block runs. A path
// that took something it must pass on or give back (a message off a port
// queue with an RPC caller's reply right, a watch on another node) registers
// here how to give it back, and says when it no longer holds it; the death
// of the thread runs what it still holds.

import type { Cpu } from './cpu.ts';
import type { Thread } from './process.ts';
import type { KPath } from './step.ts';

/** Gives back one thing a dead thread held (runs at its death: costs no simulated time, may not wait). */
export type Undo = (cpu: Cpu) => KPath;

const held = new WeakMap<Thread, Map<object, Undo>>();

/** `t` now holds `what` (a message, a watch): `undo` gives it back if `t` dies before `release(t, what)`. */
export function hold(t: Thread, what: object, undo: Undo): void {
  let m = held.get(t);
  if (m === undefined) held.set(t, (m = new Map()));
  m.set(what, undo);
}

/** `t` passed `what` on or gave it back itself: nothing to undo at its death. */
export function release(t: Thread, what: object): void {
  held.get(t)?.delete(what);
}

/** Gives back what the dead threads `ts` still held, in the order they took it. */
export function giveBack(ts: readonly Thread[], cpu: Cpu): void {
  for (const t of ts) {
    const m = held.get(t);
    if (m === undefined) continue;
    held.delete(t);
    for (const undo of m.values()) {
      for (const d of undo(cpu)) if (d.kind !== 'step') throw new Error(`tid ${t.tid}: giving back what a dead thread held cannot wait (${d.kind})`);
    }
  }
}
