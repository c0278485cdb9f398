// Mach ports across nodes (simplified but real): a port's receive right
// lives in one task on one node (the port's home); send rights live in the
// right tables of tasks on any node and travel in messages. A message to a
// port on another node goes over the transport to the port's home as a post
// to the 'port' service; a lookup of a published port is a request to the
// 'lookup' service of its node.
//
// No More Senders (seed 002, section 2): for a port that asks for it, the
// home counts the send rights on its own node and which other nodes hold
// any. A node that comes to hold its first send right to such a port must
// tell the home before the right is usable (a request to the 'nms' service,
// which the message carrying the right waits for), and tells it again when
// its last one goes; when no sender is left anywhere, the home queues a
// No More Senders notification on the port. Those are the extra messages.

import type { Cpu } from '../cpu.ts';
import { ERRNO } from '../errno.ts';
import { hold, release } from '../holds.ts';
import { Incarnations } from '../incarnations.ts';
import type { Kernel } from '../kernel.ts';
import type { Process, Thread } from '../process.ts';
import { type KPath, step } from '../step.ts';
import { LOOKUP_WAIT_MAX_NS, LOOKUP_WAIT_MIN_NS, MAX_WAITING_LOOKUPS, WaitingLookups } from './lookups.ts';
import { PORTS_PER_NODE, PortIds } from './portids.ts';
import { ServerProbes } from './probes.ts';
import { Admission } from './admission.ts';
import { type Right, RightTable } from './rights.ts';
import type { IpcRequest } from './services.ts';

/** Words a user message carries. */
export const PORT_MAX_WORDS = 6;

/** What a received message is (the receiver reads it from its buffer; 'queue-full' only ever answers an RPC: admission.ts). */
export const PORT_MSG_KIND = { message: 0, 'no-more-senders': 1, 'port-dead': 2, 'queue-full': 3 } as const;
export type PortMsgKind = keyof typeof PORT_MSG_KIND;

/** The 'lookup' service's operations: [ask, key, uid, timeout ns, ask id] (a request) and [cancel, 0, 0, 0, ask id] (a post). */
export const LOOKUP_OP = { ask: 1, cancel: 2 } as const;

/** A reference to a port as it travels: its id and whether it counts senders. */
export interface PortRef {
  readonly port: number;
  readonly nms: boolean;
}

export interface PortMsg {
  readonly kind: PortMsgKind;
  readonly words: readonly number[];
  /** A send right the message carries. */
  readonly carried: PortRef | null;
  /** A send-once right to the port the answer goes to (an RPC's reply port). */
  readonly reply: number | null;
  /** The sending task's incarnation on its node (its kernel stamps it: a port's queue admits so many per sender, admission.ts); none for the kernel's own. */
  readonly sender?: number;
}

export interface Port {
  readonly id: number;
  readonly owner: Process;
  readonly nms: boolean;
  /** A kernel-made reply port of an RPC in progress (one answer, then it is destroyed). */
  readonly isReply: boolean;
  readonly queue: PortMsg[];
  /** Threads blocked in receive on it. */
  readonly waiters: Thread[];
  /** Messages that arrived behind one whose NMS registration is under way: they keep their order. */
  readonly backlog: { readonly msg: PortMsg; ready: boolean }[];
  /** NMS: send rights on this node (in tables and in queued messages) and the other nodes that hold any. */
  localSends: number;
  readonly remoteSenders: Set<number>;
  /** NMS: whether any send right was ever made (a port nobody was given has no "no more" senders). */
  hadSenders: boolean;
  /** A reply port whose RPC waits on another node: stops that node's liveness watch (probes.ts) when the port goes. */
  unwatch: (() => void) | null;
}

export function homeOf(port: number): number {
  return Math.floor(port / PORTS_PER_NODE);
}

export class PortSpace {
  readonly ports = new Map<number, Port>();
  private readonly tables = new Map<Process, RightTable>();
  /** NMS: send rights this node holds to ports homed elsewhere, by port. */
  private readonly heldRemote = new Map<number, number>();
  /** Published ports (the name server of this node), by publisher's uid and key: a uid sees only its own keys. */
  private readonly published = new Map<string, number>();
  /** Port ids: a dead port's slot comes back with the next generation (portids.ts). */
  private readonly ids: PortIds;
  readonly stats = { messages: 0, delivered: 0, dropped: 0, refused: 0, nmsUpdates: 0, nmsNotifications: 0, forgeries: 0 };
  /** Who may still queue on a port (admission.ts). */
  readonly admission = new Admission();
  /** The incarnation this node stamps on its tasks' messages: a sender's share is its own, never a later process's with its pid. */
  readonly senders = new Incarnations();
  /** Liveness probes of the nodes RPCs wait on. */
  readonly probes: ServerProbes;
  /** Lookups waiting at this node's name server for a name to be published (lookups.ts). */
  readonly waiting: WaitingLookups;
  /** This node's processes' lookups in progress, by ask id (a process that ends cancels its own). */
  private readonly asking = new Map<number, { readonly p: Process; readonly nid: number }>();
  private nextAsk = 1;

  constructor(private readonly k: Kernel) {
    this.ids = new PortIds(k.nid * PORTS_PER_NODE);
    k.ipc.serve('port', (req, cpu) => this.arrived(req.src, req.words, cpu, req.wantsReply ? (v) => req.reply([v]) : null));
    k.ipc.serve('nms', (req, cpu) => this.countUpdate(req.src, req.words, req.wantsReply ? () => req.reply([0]) : null, cpu));
    k.ipc.serve('lookup', (req, cpu) => this.serveLookup(req, cpu));
    this.waiting = new WaitingLookups(k);
    this.probes = new ServerProbes(k);
  }

  table(p: Process): RightTable {
    let t = this.tables.get(p);
    if (t === undefined) this.tables.set(p, (t = new RightTable()));
    return t;
  }

  private cost(name: 'msg' | 'right'): number {
    return name === 'msg' ? this.k.ipc.transport.p.msgCycles : this.k.profile.values['ipc.rightCycles'];
  }

  // ---- ports and rights --------------------------------------------------------------

  /** A new port whose receive right `owner` holds; null when out of ids. */
  allocate(owner: Process, nms: boolean, isReply = false): Port | null {
    const id = this.ids.alloc();
    if (id === null) return null;
    const port: Port = { id, owner, nms, isReply, queue: [], waiters: [], backlog: [], localSends: 0, remoteSenders: new Set(), hadSenders: false, unwatch: null };
    this.ports.set(id, port);
    return port;
  }

  /**
   * The port is dead: it leaves the table and its id's slot comes back with
   * the next generation, so no right to it reaches the port that gets the
   * slot. `spent`: an RPC's reply port whose answer (the reply or its
   * port-dead) came back spent the one send-once right to it, and no other
   * right to it can exist, so the very id may name a new port (RPCs use up
   * no ids at all).
   */
  remove(port: Port, spent = false): void {
    if (this.ports.get(port.id) !== port) return;
    this.ports.delete(port.id);
    port.unwatch?.();
    port.unwatch = null;
    this.ids.release(port.id, spent && port.isReply);
  }

  /** Port ids minted on this node so far (for tests and info): an RPC's spent reply id used again mints none. */
  get idsUsed(): number {
    return this.ids.minted;
  }

  /** A right this node was counted for never reached a table (the asker died or had no room): counted out again. */
  *unclaimed(ref: PortRef, cpu: Cpu): KPath {
    yield* this.lost(ref, cpu);
  }

  /** A send right to `ref` is now held on this node (inserted in a table or queued in a message). */
  private gained(ref: PortRef): void {
    if (!ref.nms) return;
    const home = homeOf(ref.port);
    if (home === this.k.nid) {
      const p = this.ports.get(ref.port);
      if (p !== undefined) {
        p.localSends++;
        p.hadSenders = true;
      }
      return;
    }
    this.heldRemote.set(ref.port, (this.heldRemote.get(ref.port) ?? 0) + 1);
  }

  /** Whether this node must register with the home before it may hold a send right to `ref`. */
  private mustRegister(ref: PortRef): boolean {
    return ref.nms && homeOf(ref.port) !== this.k.nid && (this.heldRemote.get(ref.port) ?? 0) === 0;
  }

  /** A send right to `ref` held on this node went away; the last one tells the home. */
  private *lost(ref: PortRef, cpu: Cpu): KPath {
    if (!ref.nms) return;
    const home = homeOf(ref.port);
    if (home === this.k.nid) {
      const p = this.ports.get(ref.port);
      if (p === undefined) return;
      p.localSends--;
      yield* this.checkNoSenders(p, cpu);
      return;
    }
    const n = (this.heldRemote.get(ref.port) ?? 0) - 1;
    if (n > 0) {
      this.heldRemote.set(ref.port, n);
      return;
    }
    this.heldRemote.delete(ref.port);
    this.stats.nmsUpdates++;
    yield step('ipc', 'nms', this.cost('right'), `node ${this.k.nid} holds no more send rights to port ${ref.port}: tell node ${home}`);
    yield* this.k.ipc.post(home, 'nms', [-1, ref.port], null);
  }

  /** The home learns that node `src` holds send rights to a port (+1) or no longer does (-1). */
  private *countUpdate(src: number, words: readonly number[], reply: (() => KPath) | null, cpu: Cpu): KPath {
    const [delta, id] = words;
    const p = this.ports.get(id);
    yield step('ipc', 'nms', this.cost('right'), `port ${id}: node ${src} ${delta > 0 ? 'holds' : 'no longer holds'} send rights`);
    if (p !== undefined && p.nms) {
      if (delta > 0) {
        p.remoteSenders.add(src);
        p.hadSenders = true;
      } else if (delta < 0) {
        p.remoteSenders.delete(src);
        yield* this.checkNoSenders(p, cpu);
      }
    }
    if (reply !== null) yield* reply();
  }

  private *checkNoSenders(p: Port, cpu: Cpu): KPath {
    if (!p.nms || !p.hadSenders || p.localSends > 0 || p.remoteSenders.size > 0 || !this.ports.has(p.id)) return;
    p.hadSenders = false;
    this.stats.nmsNotifications++;
    yield step('ipc', 'nms', this.cost('msg'), `port ${p.id}: no more senders`);
    yield* this.enqueue(p, { kind: 'no-more-senders', words: [], carried: null, reply: null }, cpu);
  }

  /** Inserts a send right to `ref` into `p`'s table (the node already counts it); null when full. */
  insertSend(p: Process, ref: PortRef): number | null {
    return this.table(p).insert({ kind: 'send', port: ref.port, nms: ref.nms });
  }

  /** Makes a send right to a port this node homes (counted for NMS). */
  makeSend(p: Process, port: Port): number | null {
    const name = this.table(p).insert({ kind: 'send', port: port.id, nms: port.nms });
    if (name !== null) this.gained({ port: port.id, nms: port.nms });
    return name;
  }

  /** Removes a right from `p`'s table: a receive right destroys its port; a send right is counted out. */
  *deallocate(p: Process, name: number, cpu: Cpu): KPath<Right | undefined> {
    const r = this.table(p).remove(name);
    if (r === undefined) return undefined;
    yield step('ipc', 'right', this.cost('right'), `pid ${p.pid} deallocates ${r.kind} right ${name} (port ${r.port})`);
    if (r.kind === 'receive') yield* this.destroy(r.port, cpu);
    else if (r.kind === 'send') yield* this.lost({ port: r.port, nms: r.nms }, cpu);
    else yield* this.send(r.port, { kind: 'port-dead', words: [], carried: null, reply: null }, cpu);
    return r;
  }

  /** Destroys a port homed here: queued messages go (their reply ports are told), waiters are woken with -ECONNREFUSED. */
  *destroy(id: number, cpu: Cpu): KPath {
    const port = this.ports.get(id);
    if (port === undefined) return;
    this.remove(port);
    for (const [key, v] of this.published) if (v === id) this.published.delete(key);
    for (const m of port.queue.splice(0)) yield* this.discard(m, cpu);
    for (const e of port.backlog.splice(0)) yield* this.discard(e.msg, cpu);
    for (const t of port.waiters.splice(0)) yield* this.k.wake(t, -ERRNO.ECONNREFUSED, cpu);
    yield step('ipc', 'port-dead', this.cost('right'), `port ${id}`);
  }

  /**
   * A message that will never be received: its rights go, and an RPC waiting
   * on its reply port hears the port died. `counted`: its carried right was
   * counted in on this node (it was queued or backlogged on a live port), so
   * it is counted out; a message that never reached a live port was not.
   */
  private *discard(m: PortMsg, cpu: Cpu, counted = true): KPath {
    this.stats.dropped++;
    if (m.carried !== null && counted) yield* this.lost(m.carried, cpu);
    if (m.reply !== null) yield* this.send(m.reply, { kind: 'port-dead', words: [], carried: null, reply: null }, cpu);
  }

  /** The process ended: every right it held goes (its ports die). Runs outside any path, so it costs no simulated time. */
  forget(p: Process): void {
    const t = this.tables.get(p);
    this.tables.delete(p);
    const cpu = this.k.cpus[0];
    const owned = [...this.ports.values()].filter((port) => port.owner === p).map((port) => port.id);
    const asks = [...this.asking].filter(([, a]) => a.p === p);
    const work = function* (self: PortSpace): KPath {
      // Its lookups still waiting at a name server are given up there (their interests would wait out their timeouts).
      for (const [ask, a] of asks) {
        self.asking.delete(ask);
        if (a.nid === self.k.nid) yield* self.waiting.cancel(self.k.nid, ask, cpu);
        else yield* self.k.ipc.post(a.nid, 'lookup', [LOOKUP_OP.cancel, 0, 0, 0, ask], null);
      }
      for (const id of owned) yield* self.destroy(id, cpu);
      for (const [, r] of t?.entries() ?? []) {
        if (r.kind === 'send') yield* self.lost({ port: r.port, nms: r.nms }, cpu);
        // An answer that will never come: the RPC waiting for it hears so.
        else if (r.kind === 'send-once') yield* self.send(r.port, { kind: 'port-dead', words: [], carried: null, reply: null }, cpu);
      }
    };
    for (const d of work(this)) if (d.kind !== 'step') throw new Error('ipc: port clean-up at exit cannot wait');
  }

  // ---- messages ----------------------------------------------------------------------

  /** Sends `m` to port `id` (here, or at its home over the transport; `ticket` gets the transport message's id, which cancel takes). */
  *send(id: number, m: PortMsg, cpu: Cpu, ticket?: { id: number }): KPath {
    this.stats.messages++;
    yield step('ipc', 'port-send', this.cost('msg') + (m.carried !== null ? this.cost('right') : 0), `${m.kind} to port ${id} (${m.words.length} words)`);
    const home = homeOf(id);
    if (home === this.k.nid) {
      yield* this.arrived(this.k.nid, encode(id, m), cpu);
      return;
    }
    const self = this;
    const unreachable = function* (reason: string, c: Cpu): KPath {
      // The home is unreachable: the message is lost, and an RPC waiting for its answer hears so.
      yield step('ipc', 'undeliverable', 0, `to port ${id}: ${reason}`);
      if (m.reply !== null) yield* self.requestUnreachable(m.reply, c);
    };
    const carried = m.carried;
    if (carried === null || !carried.nms) {
      yield* this.k.ipc.post(home, 'port', encode(id, m), null, (_errno, reason, c) => unreachable(reason, c), ticket);
      return;
    }
    // NMS: the right in transit stays counted here until the other node holds it (and has told
    // the port's home): the home never sees a moment with no sender while one is on its way.
    this.gained(carried);
    yield* this.k.ipc.request(home, 'port', encode(id, m), null, function* (r, c) {
      if (!r.ok) yield* unreachable(r.reason, c);
      yield* self.lost(carried, c);
    });
  }

  /**
   * Sends a one-way message and waits for its port's verdict: `done` runs
   * with 0 (queued, or handed to a receiver), -EAGAIN (the queue or the
   * sender's share of it is full: admission.ts), -ECONNREFUSED (the port is
   * dead) or the transport's -EHOSTUNREACH. To another node this is a
   * request to its 'port' service rather than a post: nothing is lost without
   * the sender hearing of it. `ticket` names the request (to forget it).
   */
  *sendChecked(id: number, m: PortMsg, cpu: Cpu, done: (v: number, cpu: Cpu) => KPath, ticket?: { id: number }): KPath {
    this.stats.messages++;
    yield step('ipc', 'port-send', this.cost('msg') + (m.carried !== null ? this.cost('right') : 0), `${m.kind} to port ${id} (${m.words.length} words, answered)`);
    const home = homeOf(id);
    if (home === this.k.nid) return yield* this.arrived(this.k.nid, encode(id, m), cpu, (v) => done(v, cpu));
    const carried = m.carried !== null && m.carried.nms ? m.carried : null;
    // NMS: the right in transit stays counted here until the home has answered (see send).
    if (carried !== null) this.gained(carried);
    const self = this;
    yield* this.k.ipc.request(
      home,
      'port',
      encode(id, m),
      null,
      function* (r, c) {
        if (!r.ok) yield step('ipc', 'undeliverable', 0, `to port ${id}: ${r.reason}`);
        if (carried !== null) yield* self.lost(carried, c);
        yield* done(r.ok ? (r.words[0] ?? 0) : r.errno, c);
      },
      ticket,
    );
  }

  /**
   * An RPC's request could not reach its port's node (the transport says the
   * node is down or unreachable): the caller waiting on reply port `id` gets
   * -EHOSTUNREACH, as when the node dies after taking the request, not the
   * port-dead (-ECONNREFUSED) that says the port itself is gone.
   */
  private *requestUnreachable(id: number, cpu: Cpu): KPath {
    const port = this.ports.get(id);
    // The caller is gone (its reply port with it): nothing waits for the answer.
    if (port === undefined || !port.isReply) return;
    // The request (an RPC's: it carries no other right) was never taken by the home: it failed its checks here, or the
    // network dropped it, or the home refused it (kkt.ts `failed` runs only for a message not acknowledged). So its
    // send-once right, the one right to this port, exists nowhere: the very id is free again, and the port's liveness
    // watch stops with it (sys_ipc_rpc's own remove then does nothing). `delete` here kept the slot for ever.
    this.remove(port, true);
    for (const t of port.waiters.splice(0)) yield* this.k.wake(t, -ERRNO.EHOSTUNREACH, cpu);
  }

  /** A message for a port homed here arrived (from this node or another); `held` answers a sender that waits for the verdict (0 or -errno). */
  private *arrived(src: number, words: readonly number[], cpu: Cpu, held: ((v: number) => KPath) | null = null): KPath {
    const m = decode(words);
    if (m === null) {
      this.stats.dropped++;
      yield step('ipc', 'drop', 0, `malformed port message from node ${src}`);
      return;
    }
    const port = this.ports.get(m.id);
    if (port === undefined) {
      yield step('ipc', 'drop', 0, `${m.msg.kind} for port ${m.id}, which is not here (dead or never made)`);
      // Its carried right was never counted in on this node (gained runs only for a live port): not counted out either.
      yield* this.discard(m.msg, cpu, false);
      if (held !== null) yield* held(-ERRNO.ECONNREFUSED);
      return;
    }
    // A full queue, or a sender past its share, refuses the message before its rights are counted in.
    const verdict = m.msg.kind === 'message' ? this.admission.admit(port, port.queue.length + port.backlog.length, m.msg, `${src}:${m.msg.sender ?? -1}`) : 'ok';
    if (verdict !== 'ok') {
      this.stats.refused++;
      yield step('ipc', 'refuse', 0, `message for port ${port.id} from node ${src} task ${m.msg.sender ?? -1}: ${verdict}`);
      if (m.msg.reply !== null) yield* this.send(m.msg.reply, { kind: 'queue-full', words: [], carried: null, reply: null }, cpu);
      if (held !== null) yield* held(-ERRNO.EAGAIN);
      return;
    }
    const carried = m.msg.carried;
    const entry = { msg: m.msg, ready: true };
    port.backlog.push(entry);
    if (carried !== null && this.mustRegister(carried)) {
      // NMS: this node is to hold its first send right to that port; its home must know first.
      entry.ready = false;
      this.stats.nmsUpdates++;
      yield step('ipc', 'nms', this.cost('right'), `node ${this.k.nid} registers as a sender of port ${carried.port} with node ${homeOf(carried.port)}`);
      this.gained(carried);
      const self = this;
      yield* this.k.ipc.request(homeOf(carried.port), 'nms', [1, carried.port], null, function* (_r, c) {
        entry.ready = true;
        yield* self.flush(port, c);
        if (held !== null) yield* held(0);
      });
      return;
    }
    if (carried !== null) this.gained(carried);
    yield* this.flush(port, cpu);
    if (held !== null) yield* held(0);
  }

  /** Queues the port's arrived messages that are ready, in arrival order. */
  private *flush(port: Port, cpu: Cpu): KPath {
    while (port.backlog.length > 0 && port.backlog[0].ready) yield* this.enqueue(port, port.backlog.shift()!.msg, cpu);
  }

  /** Queues a message on a port, or hands it to a thread waiting in receive. */
  private *enqueue(port: Port, m: PortMsg, cpu: Cpu): KPath {
    if (!this.ports.has(port.id)) {
      yield* this.discard(m, cpu);
      return;
    }
    let t = port.waiters.shift();
    while (t !== undefined && t.state === 'dead') t = port.waiters.shift();
    if (t !== undefined) {
      yield step('ipc', 'port-deliver', 0, `${m.kind} on port ${port.id} to tid ${t.tid}`);
      this.admission.left(port, m);
      yield* this.handTo(t, port, m, cpu);
      return;
    }
    // Admitted on arrival (admission.ts): a message that reaches here is queued.
    port.queue.push(m);
  }

  /** A message a receiver took but could not copy out: back to the head of the queue, or to the next waiting receiver. */
  *putBack(port: Port, m: PortMsg, cpu: Cpu): KPath {
    this.stats.delivered--;
    if (!this.ports.has(port.id)) return yield* this.discard(m, cpu);
    let t = port.waiters.shift();
    while (t !== undefined && t.state === 'dead') t = port.waiters.shift();
    if (t !== undefined) return yield* this.handTo(t, port, m, cpu);
    this.admission.back(port, m);
    port.queue.unshift(m);
  }

  /**
   * Hands `m` to a thread waiting in receive. Until its path has put the
   * message's rights in its table (received), the thread holds the message:
   * if it dies first (killed while it waits to run, or while its buffer
   * pages in), the message goes back to the port (holds.ts), so its reply
   * right still ends in a port-dead and its carried right is counted out.
   */
  private *handTo(t: Thread, port: Port, m: PortMsg, cpu: Cpu): KPath {
    this.stats.delivered++;
    hold(t, m, (c) => this.putBack(port, m, c));
    yield* this.k.wake(t, m, cpu);
  }

  /** Takes the next message of a port for thread `t`, or null (the caller then waits in port.waiters); `t` holds it until received. */
  take(port: Port, t: Thread): PortMsg | null {
    const m = port.queue.shift() ?? null;
    if (m === null) return null;
    this.admission.left(port, m);
    this.stats.delivered++;
    hold(t, m, (c) => this.putBack(port, m, c));
    return m;
  }

  /** Thread `t` is done with a message it took: its rights are in its table, or it gave it back (putBack). */
  received(t: Thread, m: PortMsg): void {
    release(t, m);
  }

  // ---- the name server ---------------------------------------------------------------

  /** Publishes `port` under `key` for processes of `uid` (false: a live port of that uid has the key). */
  publish(uid: number, key: number, port: Port): boolean {
    const cur = this.published.get(nameKey(uid, key));
    if (cur !== undefined && this.ports.has(cur)) return false;
    this.published.set(nameKey(uid, key), port.id);
    return true;
  }

  /** A new lookup of process `p` at node `nid`'s name server: its ask id, until endAsk. */
  beginAsk(p: Process, nid: number): number {
    const ask = this.nextAsk++;
    this.asking.set(ask, { p, nid });
    return ask;
  }

  endAsk(ask: number): void {
    this.asking.delete(ask);
  }

  /** Lookups this node's processes of `uid` have in progress at node `nid`. */
  asks(nid: number, uid: number): number {
    let n = 0;
    for (const a of this.asking.values()) if (a.nid === nid && a.p.info.uid === uid) n++;
    return n;
  }

  /**
   * The 'lookup' service: the port the asker's uid published under the key
   * (NMS: the home counts the asking node as a sender at once); if there is
   * none yet and the ask has a timeout, it waits here (lookups.ts) until the
   * name is published, the timeout expires or the asker cancels.
   */
  private *serveLookup(req: IpcRequest, _cpu: Cpu): KPath {
    const [op, key, uid, timeoutNs, ask] = req.words;
    if (op === LOOKUP_OP.cancel) {
      yield step('ipc', 'lookup', this.cost('right'), `node ${req.src} gives up its lookup ${ask}`);
      return yield* this.waiting.cancel(req.src, ask, _cpu);
    }
    if (op !== LOOKUP_OP.ask || req.words.length !== 5) return yield* req.refuse(-ERRNO.EINVAL, `malformed lookup from node ${req.src}`);
    const port = this.lookupLocal(uid, key);
    yield step('ipc', 'lookup', this.cost('right'), `key ${key} for node ${req.src}: ${port === undefined ? 'waits' : `port ${port.id}`}`);
    if (port !== undefined) return yield* this.answerLookup(req, port);
    const self = this;
    const wait = Math.min(Math.max(timeoutNs, LOOKUP_WAIT_MIN_NS), LOOKUP_WAIT_MAX_NS);
    const added = this.waiting.add(req.src, uid, key, ask, wait, function* (o) {
      const p = 'port' in o ? self.ports.get(o.port) : undefined;
      if (p !== undefined) return yield* self.answerLookup(req, p);
      yield* req.refuse('errno' in o ? o.errno : -ERRNO.ENOENT, 'errno' in o ? o.why : `the port published under ${key} died`);
    });
    if (!added) return yield* req.refuse(-ERRNO.EAGAIN, `${MAX_WAITING_LOOKUPS} lookups of node ${req.src} uid ${uid} already wait here`);
  }

  private *answerLookup(req: IpcRequest, port: Port): KPath {
    if (req.src === this.k.nid) {
      this.gained({ port: port.id, nms: port.nms });
    } else if (port.nms) {
      port.remoteSenders.add(req.src);
      port.hadSenders = true;
    }
    yield* req.reply([port.id, port.nms ? 1 : 0]);
  }

  /** The port `uid` published here under `key`, if any. */
  lookupLocal(uid: number, key: number): Port | undefined {
    const id = this.published.get(nameKey(uid, key));
    return id === undefined ? undefined : this.ports.get(id);
  }

  /** Counts a right a remote lookup's answer brought to this node (its home counted the node already). */
  lookedUp(ref: PortRef): void {
    if (ref.nms && homeOf(ref.port) !== this.k.nid) this.heldRemote.set(ref.port, (this.heldRemote.get(ref.port) ?? 0) + 1);
  }

  /** Rights and ports for `info ipc` and tests. */
  describe(): { ports: number; queued: number; heldRemote: number; tables: number } {
    let queued = 0;
    for (const p of this.ports.values()) queued += p.queue.length;
    return { ports: this.ports.size, queued, heldRemote: this.heldRemote.size, tables: this.tables.size };
  }
}

/** A port message as the words of a 'port' post: [port, kind, carried, carried nms, reply, sender pid, words...]. */
function encode(id: number, m: PortMsg): number[] {
  return [id, PORT_MSG_KIND[m.kind], m.carried?.port ?? -1, m.carried?.nms ? 1 : 0, m.reply ?? -1, m.sender ?? -1, ...m.words];
}

const KIND_OF = new Map<number, PortMsgKind>(Object.entries(PORT_MSG_KIND).map(([k, v]) => [v, k as PortMsgKind]));

function decode(w: readonly number[]): { id: number; msg: PortMsg } | null {
  if (w.length < 6 || w.length > 6 + PORT_MAX_WORDS) return null;
  const [id, kindNo, carried, nms, reply, sender, ...words] = w;
  const kind = KIND_OF.get(kindNo);
  if (kind === undefined || id < 0 || carried < -1 || reply < -1) return null;
  return { id, msg: { kind, words, carried: carried < 0 ? null : { port: carried, nms: nms === 1 }, reply: reply < 0 ? null : reply, ...(sender >= 0 ? { sender } : {}) } };
}

/** The name server's key: a key is scoped by the uid that published it, so another uid can neither take nor answer it. */
function nameKey(uid: number, key: number): string {
  return `${uid}:${key}`;
}
