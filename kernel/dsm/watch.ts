// Probing what a node's kernel DSM waits for. A kernel learns that a node is
// down only when a message to it cannot be delivered; a node that goes down
// while nobody sends it anything (a requester before its confirm, a lock
// holder others queue behind, a rank the barrier waits for, the manager of a
// page, lock or barrier a thread waits on) would leave its waiters waiting
// for ever. So while anything waits, a timer on the node's core 0 fires every
// PROBE_PS and sends a probe (a header, no payload) to each node waited on;
// the receiver drops it. A probe that cannot be delivered says the node is
// down: its ranks are treated as departed (node.ts nodeDown).

import type { Cpu } from '../cpu.ts';
import type { Deadline } from '../timer.ts';
import { type KPath, step } from '../step.ts';
import type { DsmNode } from './node.ts';
import type { DsmRegion } from './region.ts';

/** How often a node probes the nodes it waits for (simulated: 10 ms, far above any fault or lock service time). */
export const PROBE_PS = 10e9;

export class DsmWatch {
  private armed: Deadline | null = null;

  constructor(private readonly n: DsmNode) {}

  /** Something may wait now: make sure the timer runs. */
  arm(): void {
    if (this.armed !== null) return;
    const k = this.n.k;
    this.armed = k.timer(0).add({ at: k.engine.now + PROBE_PS, kind: 'dsm-probe', thread: null, expire: () => this.tick(k.cpus[0]) });
  }

  /** Nothing can wait any more (the node has no region): the timer stops. */
  disarm(): void {
    if (this.armed === null) return;
    this.n.k.timer(0).remove(this.armed);
    this.armed = null;
  }

  private *tick(cpu: Cpu): KPath {
    this.armed = null;
    let probes = 0;
    for (const c of [...this.n.pendingCreates()]) {
      for (const node of c.nodes) {
        this.n.probeCreate(c.key, node);
        probes++;
      }
    }
    for (const r of [...this.n.regions.values()]) {
      for (const node of awaited(r, this.n.k.nid)) {
        this.n.probe(r, node);
        probes++;
      }
    }
    if (probes === 0) return;
    yield step('dsm', 'probe', this.n.k.profile.values['kernel.portalsSetupCycles'] * probes, `${probes} node(s) waited on for up to ${PROBE_PS / 1e9} ms`);
    this.arm();
    void cpu;
  }
}

/** The other nodes this node's part of `r` waits on right now (each once, in rank order). */
export function awaited(r: DsmRegion, self: number): number[] {
  const ranks = new Set<number>();
  for (const m of r.managed.values()) {
    if (m.busy === null) continue;
    ranks.add(m.busy.requester);
    if (m.busy.needData && m.owner >= 0) ranks.add(m.owner);
  }
  for (const l of r.locks.values()) if (l.holder >= 0 && l.queue.length > 0) ranks.add(l.holder);
  if (r.rank === r.home)
    for (const at of r.arrivals.values()) {
      if (at.size === 0) continue;
      for (let i = 0; i < r.size; i++) if (!at.has(i) && !r.gone.has(i)) ranks.add(i);
    }
  for (const page of r.waiters.keys()) ranks.add(r.managerOf(page));
  for (const id of r.lockWaiters.keys()) ranks.add(r.lockManagerOf(id));
  if (r.barrierWaiters.size > 0) ranks.add(r.home);
  const nodes = new Set<number>();
  for (const x of [...ranks].sort((a, b) => a - b)) if (x >= 0 && x < r.size && r.nids[x] !== self && !r.down.has(r.nids[x])) nodes.add(r.nids[x]);
  return [...nodes];
}
