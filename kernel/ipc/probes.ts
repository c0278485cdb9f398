// Liveness probes of the nodes RPC servers run on. An RPC's request was
// delivered (acknowledged), so the transport has nothing left to
// retransmit if the server's node then dies or hangs; instead the caller's
// kernel probes that node (a request to its 'probe' service) every
// RPC_PROBE_PS while any RPC waits for an answer from it. A probe the mesh
// cannot deliver (node down), or one still unanswered when the next is due
// (hung), ends every RPC waiting on that node.
//
// One probe per target node at a time, shared by all the RPCs waiting on
// it: a probe left unanswered by a hung node is given up when the next is
// due, or, if no RPC waits any more, stays the one request outstanding for
// that node (the next watch of the node finds it and gives it up). So the
// requests a node holds for probes are at most one per other node, however
// many RPCs were given up (they were one per RPC).

import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { type KPath, step } from '../step.ts';
import type { Deadline } from '../timer.ts';

/**
 * How often a node an RPC waits on is probed (ps of simulated time). A probe
 * not answered by the next one, or that the mesh cannot deliver, means the
 * server's node is gone or hung.
 */
export const RPC_PROBE_PS = 1e12;

/** What an RPC runs when its server's node is found gone (once). */
export type Gone = (why: string, cpu: Cpu) => KPath;

interface Watched {
  readonly node: number;
  readonly watchers: Set<{ readonly gone: Gone }>;
  /** The probe sent and not yet answered (its request id for forget), or null. */
  probe: { id: number } | null;
  timer: Deadline | null;
}

export class ServerProbes {
  private readonly nodes = new Map<number, Watched>();

  constructor(private readonly k: Kernel) {
    // A kernel that runs answers a probe: an RPC's caller learns that the server's node is still there.
    k.ipc.serve('probe', function* (req) {
      yield step('ipc', 'probe', k.profile.values['ipc.rightCycles'], `from node ${req.src}`);
      yield* req.reply([]);
    });
  }

  /** Probes outstanding (sent, not answered nor given up): at most one per node. */
  get outstanding(): number {
    let n = 0;
    for (const w of this.nodes.values()) if (w.probe !== null) n++;
    return n;
  }

  /** Watches node `node` while an RPC waits for its answer from there; the returned function stops the watch (the answer came, or the RPC ended). */
  watch(node: number, gone: Gone): () => void {
    let w = this.nodes.get(node);
    if (w === undefined) this.nodes.set(node, (w = { node, watchers: new Set(), probe: null, timer: null }));
    const watcher = { gone };
    w.watchers.add(watcher);
    if (w.timer === null) this.arm(w);
    const entry = w;
    return () => {
      entry.watchers.delete(watcher);
      if (entry.watchers.size > 0) return;
      if (entry.timer !== null) this.k.timer(0).remove(entry.timer);
      entry.timer = null;
      this.settle(entry);
    };
  }

  private arm(w: Watched): void {
    w.timer = this.k.timer(0).add({ at: this.k.engine.now + RPC_PROBE_PS, kind: 'sleep', thread: null, expire: (tc) => this.fire(w, this.k.cpus[tc.index]) });
  }

  /** A node nobody waits on and nothing is outstanding for is forgotten. */
  private settle(w: Watched): void {
    if (w.watchers.size === 0 && w.probe === null && w.timer === null && this.nodes.get(w.node) === w) this.nodes.delete(w.node);
  }

  private *fire(w: Watched, cpu: Cpu): KPath {
    w.timer = null;
    if (w.watchers.size === 0) return this.settle(w);
    if (w.probe !== null) {
      const unanswered = w.probe;
      w.probe = null;
      yield* this.k.ipc.forget(unanswered.id, cpu);
      return yield* this.fail(w, `node ${w.node} answered no probe for ${RPC_PROBE_PS / 1e12} s`, cpu);
    }
    const ticket = { id: -1 };
    w.probe = ticket;
    this.arm(w);
    const self = this;
    yield* this.k.ipc.request(w.node, 'probe', [], null, function* (r, c) {
      if (w.probe !== ticket) return;
      w.probe = null;
      if (r.ok) return self.settle(w);
      yield* self.fail(w, r.reason, c);
    }, ticket);
  }

  /** The node is gone: every RPC waiting on it hears so, and its watch ends. */
  private *fail(w: Watched, why: string, cpu: Cpu): KPath {
    if (w.timer !== null) this.k.timer(0).remove(w.timer);
    w.timer = null;
    const watchers = [...w.watchers];
    w.watchers.clear();
    this.settle(w);
    for (const x of watchers) yield* x.gone(why, cpu);
  }
}
