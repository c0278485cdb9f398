// The kernel DSM on one node: its regions (one per job that created one
// here), the sending of protocol messages through the NIC, the receive
// interrupt's entry for DSM messages (routed here by header kind), and the
// create rendezvous. A message is checked against the region it names and
// served by the protocol (protocol.ts) or the synchronisation (sync.ts) in
// the interrupt path: no process is scheduled to serve a request.

import type { NicCompletion, RxHeader } from '../../hw/nic.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import type { Process, Thread } from '../process.ts';
import { Pin } from '../pin.ts';
import { RxWaits } from '../rxwaits.ts';
import { type KPath, step } from '../step.ts';
import { pagesOnNodeDown, serveMessage, transmitFailed } from './protocol.ts';
import { syncOnNodeDown } from './sync.ts';
import { DsmWatch } from './watch.ts';
import { type DsmCounters, DsmRegion, PAGE, keyString } from './region.ts';
import { COOKIE_BASE } from '../nicwire.ts';
import { type DsmHeader, type DsmMsgType, type RegionKey, decodeDsm, encodeDsm, sameKey } from './wire.ts';

/** Create announcements kept by rank 0's node for jobs it has not counted out yet. */
export const JOIN_LIMIT = 65536;

/** What `joined` carries back to a rank in dsm_create (one table: calls.ts maps it to an errno). */
export const JOIN_OUTCOME = {
  complete: 0,
  /** The ranks asked for different sizes, or one could not create its part. */
  refused: 1,
  /** Rank 0's node keeps JOIN_LIMIT announcements already. */
  full: 2,
  /** Rank 0's process is not there (ended, or never was): the create cannot complete. */
  noRankZero: 3,
  /** A rank ended (returned, was killed) before it announced its part. */
  rankGone: 4,
  /** A rank's node still holds the job's previous region (its release has not arrived yet). */
  busy: 5,
} as const;

/** What a `join` carries instead of a size when the rank has no part to announce. */
export const JOIN_REFUSAL = {
  /** It could not create its part (bad size, no memory). */
  cannot: -1,
  /** Its process ended before it called dsm_create. */
  gone: -2,
  /** Its node still holds the job's previous region. */
  busy: -3,
} as const;

/** Who sends: a region, or a rank taking part in a create before (or without) one. */
export interface Endpoint {
  readonly key: RegionKey;
  readonly rank: number;
  readonly nids: readonly number[];
  readonly stats: Pick<DsmCounters, 'messages' | 'dataBytes'>;
}

interface Sent {
  readonly ep: Endpoint;
  readonly header: DsmHeader;
  readonly dstRank: number;
  /** On the region's frames while the NIC reads a page out of them. */
  readonly pin: Pin | null;
}

interface Join {
  readonly nid: number;
  readonly value: number;
}

export class DsmNode {
  readonly regions = new Map<string, DsmRegion>();
  private readonly sent = new Map<number, Sent>();
  private nextCookie = COOKIE_BASE.dsm;
  /** Pages arriving by DMA: what to do when the receive completes. */
  private readonly rxDone = new RxWaits();
  /** On the region's frames while a page's DMA may still write them (release then waits: kernel/pin.ts). */
  private readonly rxPins = new Map<number, Pin>();
  /** Rank 0's node: the create announcements per job, by rank. */
  private readonly joins = new Map<string, Map<number, Join>>();
  private joinCount = 0;
  /** Rank 0's node: the job's nodes, known once its own rank announced. */
  private readonly joinNids = new Map<string, readonly number[]>();
  /** Threads waiting in dsm_create for the outcome, by job. */
  readonly creating = new Map<string, Thread>();
  /** Ranks here (by job and rank: an exec keeps the rank) that rank 0's node expects in a create they have not entered. */
  private readonly expected = new Map<string, RegionKey>();
  /** Probes the nodes this node waits on (watch.ts). */
  private readonly watch = new DsmWatch(this);

  constructor(readonly k: Kernel) {}

  /** The region `p` has attached. */
  regionOf(p: Process): DsmRegion | undefined {
    for (const r of this.regions.values()) if (r.process === p) return r;
    return undefined;
  }

  /** The region of `p`'s job on this node, attached or not. */
  jobRegion(p: Process): DsmRegion | undefined {
    return this.regions.get(keyString(jobKey(p, this.k.nid)));
  }

  // ---- sending ------------------------------------------------------------------

  /** Sends a protocol message to `dstRank` (to this node itself through the NIC's loopback). */
  send(ep: Endpoint, dstRank: number, type: DsmMsgType, page: number, arg: number, payloadPa: number | null = null): void {
    const header: DsmHeader = { type, key: ep.key, src: ep.rank, page, arg };
    const cookie = this.nextCookie++;
    const pin = payloadPa === null || !(ep instanceof DsmRegion) ? null : Pin.of(this.k.phys, [{ pa: payloadPa, len: PAGE, base: ep.pa }]);
    this.sent.set(cookie, { ep, header, dstRank, pin });
    this.watch.arm();
    ep.stats.messages++;
    if (payloadPa !== null) ep.stats.dataBytes += PAGE;
    this.k.node.nic.transmit({ dst: ep.nids[dstRank], header: encodeDsm(header), payloadAddr: payloadPa ?? 0, payloadLen: payloadPa === null ? 0 : PAGE, cookie });
  }

  /** A transmit completion for one of our messages; an undeliverable one may cost a page. */
  *txComplete(c: Extract<NicCompletion, { cookie: number }>, cpu: Cpu): KPath {
    const s = this.sent.get(c.cookie);
    if (s === undefined) return;
    this.sent.delete(c.cookie);
    s.pin?.release();
    if (c.kind === 'tx-done') return;
    const node = s.ep.nids[s.dstRank];
    yield step('dsm', 'undeliverable', this.k.profile.values['kernel.syscallWorkCycles'], `${s.header.type} ${s.header.page} to rank ${s.dstRank} (node ${node}): ${c.reason}`);
    if (s.header.type === 'join') {
      // Rank 0's node is down: nobody can count the create (-ESRCH, not the -EINVAL of a refused one).
      yield* this.createDone(s.ep.key, JOIN_OUTCOME.noRankZero, cpu);
      return;
    }
    if (s.header.type === 'expect' || s.header.type === 'probe') {
      yield* this.createPeerDown(s.ep.key, node, cpu);
      const r = this.regions.get(keyString(s.ep.key));
      if (s.header.type === 'probe' && r !== undefined) yield* this.nodeDown(r, node, cpu);
      return;
    }
    if (s.ep instanceof DsmRegion) yield* transmitFailed(this, s.ep, s.header, s.dstRank, cpu);
  }

  // ---- receiving ----------------------------------------------------------------

  /** Deposits a page into `r`'s frame at `pa`; `then` runs when the DMA completes, if the region is still here. */
  expectRx(r: DsmRegion, rxId: number, pa: number, len: number, then: (cpu: Cpu) => KPath): void {
    this.rxPins.set(rxId, Pin.of(this.k.phys, [{ pa, len, base: r.pa }]));
    this.rxDone.set(rxId, (cpu) => (this.regions.get(keyString(r.key)) === r ? then(cpu) : this.late()));
    this.k.node.nic.deposit(rxId, pa, len);
  }

  /** A page landed in frames the region gave up meanwhile (they were kept from reuse until now). */
  private *late(): KPath {
    yield step('dsm', 'drop', this.k.profile.values['kernel.portalsMatchCycles'], 'a page of a released region landed; its frames are freed now');
  }

  /** Whether the receive DMA `rxId` is one of ours (kernel/nicdispatch.ts asks). */
  ownsRx(rxId: number): boolean {
    return this.rxDone.has(rxId);
  }

  /** A page's receive DMA ended (a failed one leaves the request pending, as a lost message would). */
  *rxComplete(rxId: number, ok: boolean, cpu: Cpu): KPath {
    yield* this.rxDone.complete(rxId, ok, cpu);
    this.rxPins.get(rxId)?.release();
    this.rxPins.delete(rxId);
  }

  /** The receive interrupt found a DSM header. */
  *receive(rx: RxHeader, cpu: Cpu): KPath {
    const nic = this.k.node.nic;
    const h = decodeDsm(rx.header);
    const cost = this.k.profile.values['kernel.portalsMatchCycles'];
    if (h === null) {
      nic.discard(rx.rxId);
      yield step('dsm', 'drop', cost, `malformed DSM message from node ${rx.src}`);
      return;
    }
    if (h.type === 'join' || h.type === 'joined' || h.type === 'expect') {
      nic.discard(rx.rxId);
      yield step('dsm', 'serve', cost, `${h.type} of rank ${h.type === 'expect' ? h.arg : h.src} (${h.type === 'expect' ? `pid ${h.page}` : h.arg}) from node ${rx.src}`);
      if (h.type === 'join') {
        const refused = this.joinRefusal(h.key, h.src, rx.src);
        if (refused === null) yield* this.countJoin(h.key, h.src, { nid: rx.src, value: h.arg }, cpu);
        else this.answerJoin(h.key, h.src, rx.src, refused);
      } else if (h.key.nid0 !== rx.src) return;
      else if (h.type === 'joined') yield* this.createDone(h.key, h.arg, cpu, rx.src);
      else this.expect(h.key, h.arg, h.page);
      return;
    }
    const r = this.regions.get(keyString(h.key));
    // The NIC says which node sent it: it must be the node of the rank the header claims.
    if (r === undefined || h.src < 0 || h.src >= r.size || r.nids[h.src] !== rx.src) {
      nic.discard(rx.rxId);
      yield step('dsm', 'drop', cost, `${h.type} from node ${rx.src}: ${r === undefined ? 'no such region here' : `it claims rank ${h.src}`}`);
      return;
    }
    this.watch.arm();
    yield* serveMessage(this, r, h, rx, cpu);
  }

  // ---- nodes that go down -------------------------------------------------------------

  /** Sends a probe to `node` (watch.ts); it is not counted in the region's message figures. */
  probe(r: DsmRegion, node: number): void {
    const rank = r.rankOfNid(node);
    if (rank >= 0) this.send({ key: r.key, rank: r.rank, nids: r.nids, stats: { messages: 0, dataBytes: 0 } }, rank, 'probe', 0, 0);
  }

  /**
   * A probe found `node` down: its ranks are departed. What they were to
   * confirm, hold or enter ends (protocol.ts, sync.ts), and whoever here waits
   * on them ends too, so nobody waits for ever.
   */
  *nodeDown(r: DsmRegion, node: number, cpu: Cpu): KPath {
    if (r.down.has(node) || node === this.k.nid) return;
    r.down.add(node);
    yield step('dsm', 'fail', this.k.profile.values['kernel.syscallWorkCycles'], `node ${node} (rank(s) ${r.nids.flatMap((x, i) => (x === node ? [i] : [])).join(',')}) does not answer: it is down`);
    yield* pagesOnNodeDown(this, r, node, cpu);
    yield* syncOnNodeDown(this, r, node, cpu);
  }

  // ---- the create rendezvous (rank 0's node counts) ---------------------------------

  /**
   * Whether rank 0's node may keep an announcement from `rank` at node `from`:
   * only for a live rank 0 here whose job has that rank on that node, and
   * while fewer than JOIN_LIMIT are kept (so nobody fills the table with
   * announcements for jobs that will never count them out).
   */
  private joinRefusal(key: RegionKey, rank: number, from: number): number | null {
    const zero = this.k.processes.get(key.pid0);
    if (key.nid0 !== this.k.nid || zero === undefined || !zero.alive || zero.info.uid !== key.uid || zero.info.rank !== 0) return JOIN_OUTCOME.noRankZero;
    if (!Number.isSafeInteger(rank) || rank <= 0 || rank >= zero.info.jobSize || zero.info.jobMap?.at(rank)?.nid !== from) return JOIN_OUTCOME.noRankZero;
    if (!this.joins.has(keyString(key)) && this.joinCount >= JOIN_LIMIT) return JOIN_OUTCOME.full;
    return null;
  }

  /** Tells the rank at node `nid` the outcome of its create (rank 0's node, as the sender of `joined`). */
  private answerJoin(key: RegionKey, rank: number, nid: number, outcome: number): void {
    const nids: number[] = [];
    nids[rank] = nid;
    this.send({ key, rank: 0, nids, stats: { messages: 0, dataBytes: 0 } }, rank, 'joined', 0, outcome);
  }

  /**
   * Rank 0's node expects rank `rank` (process `pid` here) in a create it has
   * not entered: if that process is already gone, say so now; otherwise
   * remember it, and its end (forget) says so then. Either way the create
   * ends for every rank instead of waiting for a rank that will never come.
   */
  private expect(key: RegionKey, rank: number, pid: number): void {
    const p = this.k.processes.get(pid);
    const mine = p !== undefined && p.info.rank === rank && keyString(jobKey(p, this.k.nid)) === keyString(key);
    if (mine && p.alive) {
      if (!this.creating.has(keyString(key))) this.expected.set(rankKey(key, rank), key);
      return;
    }
    if (Number.isSafeInteger(rank) && rank > 0) this.joinFor(key, rank, JOIN_REFUSAL.gone);
  }

  /** Sends rank `rank`'s announcement (a size or a JOIN_REFUSAL) to rank 0's node. */
  joinFor(key: RegionKey, rank: number, value: number): void {
    const nids: number[] = [];
    nids[0] = key.nid0;
    this.send({ key, rank, nids, stats: { messages: 0, dataBytes: 0 } }, 0, 'join', 0, value);
  }

  /** `p` entered dsm_create: rank 0's node need not hear of its end. */
  entered(p: Process): void {
    this.expected.delete(rankKey(jobKey(p, this.k.nid), p.info.rank));
  }

  /** The creates this node waits on, and the nodes they wait on (watch.ts probes them). */
  *pendingCreates(): Generator<{ key: RegionKey; nodes: number[] }> {
    for (const ks of this.creating.keys()) {
      const [uid, nid0, pid0] = ks.split(':').map(Number);
      const key = { uid, nid0, pid0 };
      const all = this.joinNids.get(ks);
      const tally = this.joins.get(ks);
      // Rank 0's node waits on the ranks not heard of; another rank's node waits on rank 0's.
      const nodes = all === undefined ? [nid0] : all.filter((nid, rank) => !tally?.has(rank) && nid !== this.k.nid);
      yield { key, nodes: nodes.filter((nid) => nid !== this.k.nid) };
    }
  }

  /** Sends a probe for a create not yet complete (no region to name it by). */
  probeCreate(key: RegionKey, node: number): void {
    const nids: number[] = [];
    nids[0] = node;
    this.send({ key, rank: 0, nids, stats: { messages: 0, dataBytes: 0 } }, 0, 'probe', 0, 0);
  }

  /**
   * `node` is down while a create waits on it: rank 0's there (this rank's
   * dsm_create ends with -ESRCH), or, on rank 0's node, ranks there not
   * heard of yet (counted as gone: every rank's dsm_create ends -ESRCH).
   */
  *createPeerDown(key: RegionKey, node: number, cpu: Cpu): KPath {
    const ks = keyString(key);
    if (!this.creating.has(ks)) return;
    const all = this.joinNids.get(ks);
    if (all === undefined) {
      if (key.nid0 === node) yield* this.createDone(key, JOIN_OUTCOME.noRankZero, cpu);
      return;
    }
    const tally = this.joins.get(ks);
    for (let rank = 1; rank < all.length; rank++) {
      if (all[rank] !== node || tally?.has(rank)) continue;
      yield step('dsm', 'fail', this.k.profile.values['kernel.syscallWorkCycles'], `create: rank ${rank}'s node ${node} is down`);
      yield* this.countJoin(key, rank, { nid: node, value: JOIN_REFUSAL.gone }, cpu);
    }
  }

  /** Announcements rank 0's node keeps for creates not yet counted out (a test reads it). */
  get pendingJoins(): number {
    return this.joinCount;
  }

  /** Rank `rank` announced its part of the create; rank 0's own announcement brings the job's nodes. */
  *countJoin(key: RegionKey, rank: number, j: Join, cpu: Cpu, nids?: readonly number[]): KPath<number> {
    const ks = keyString(key);
    // "My node still holds the previous region" is news for a create only once every rank has detached
    // (before that, every node holds it and every create fails where it is made): a stray create's
    // announcement, kept, would fail the job's next create. (A region here that is being created is the
    // next one: the announcement is news for it.)
    const previous = this.regions.get(ks);
    if (j.value === JOIN_REFUSAL.busy && previous !== undefined && !this.creating.has(ks) && previous.gone.size < previous.size) return JOIN_OUTCOME.complete;
    let tally = this.joins.get(ks);
    if (tally === undefined) {
      if (this.joinCount >= JOIN_LIMIT) return JOIN_OUTCOME.full;
      this.joins.set(ks, (tally = new Map()));
    }
    if (!tally.has(rank)) this.joinCount++;
    tally.set(rank, j);
    if (nids !== undefined) {
      this.joinNids.set(ks, nids);
      // Ranks not heard of yet: their nodes tell us if they end first (expect).
      const ep: Endpoint = { key, rank: 0, nids, stats: { messages: 0, dataBytes: 0 } };
      const map = this.k.processes.get(key.pid0)?.info.jobMap;
      for (let i = 1; i < nids.length; i++) if (!tally.has(i)) this.send(ep, i, 'expect', map?.at(i)?.pid ?? -1, i);
    }
    const all = this.joinNids.get(ks);
    if (all === undefined) return JOIN_OUTCOME.complete;
    for (let i = 0; i < all.length; i++) if (tally.get(i)?.nid !== all[i]) return JOIN_OUTCOME.complete;
    const values = [...tally.values()].map((x) => x.value);
    const outcome = values.includes(JOIN_REFUSAL.gone)
      ? JOIN_OUTCOME.rankGone
      : values.includes(JOIN_REFUSAL.busy)
        ? JOIN_OUTCOME.busy
        : values.every((v) => v === values[0] && v >= 0)
          ? JOIN_OUTCOME.complete
          : JOIN_OUTCOME.refused;
    this.dropJoins(ks);
    const ep: Endpoint = { key, rank: 0, nids: all, stats: { messages: 0, dataBytes: 0 } };
    for (let i = 0; i < all.length; i++) this.send(ep, i, 'joined', 0, outcome);
    yield step('dsm', 'serve', this.k.profile.values['kernel.portalsSetupCycles'] * all.length, `create of ${all.length} rank(s): ${outcome === 0 ? 'complete' : 'refused'}`);
    void cpu;
    return JOIN_OUTCOME.complete;
  }

  private dropJoins(ks: string): Map<number, Join> | undefined {
    const tally = this.joins.get(ks);
    this.joins.delete(ks);
    this.joinNids.delete(ks);
    if (tally !== undefined) this.joinCount -= tally.size;
    return tally;
  }

  /** The outcome of a create reached this rank (0: complete; otherwise refused). */
  *createDone(key: RegionKey, outcome: number, cpu: Cpu, from = -1): KPath {
    const ks = keyString(key);
    const t = this.creating.get(ks);
    if (t === undefined) return;
    const r = this.regions.get(ks);
    if (from >= 0 && r !== undefined && r.nids[0] !== from) return;
    this.creating.delete(ks);
    yield* this.k.wake(t, outcome, cpu);
  }

  /** The kernel ended `p`: its rank is detached (no shootdown: the address space goes with it). */
  forget(p: Process): void {
    // A rank rank 0's node waits for and that never entered the create: the create ends refused for everyone.
    // (A process that execs ends too; its successor is the same rank and is still expected.)
    const rk = rankKey(jobKey(p, this.k.nid), p.info.rank);
    const awaited = this.expected.get(rk);
    const execing = [...this.k.jobs.records.values()].some((r) => r.process === p && r.execing);
    if (awaited !== undefined && !execing) {
      this.expected.delete(rk);
      this.joinFor(awaited, p.info.rank, JOIN_REFUSAL.gone);
    }
    // A create that never completed: its frames are freed now (no other rank can ever reach them).
    const unfinished = new Set<string>();
    for (const [ks, t] of this.creating) {
      if (t.process !== p) continue;
      this.creating.delete(ks);
      unfinished.add(ks);
    }
    // Rank 0 ended: the announcements it would have counted are dropped, and their ranks told (none waits for ever).
    // Not when it execs: its loader image becoming the program (same pid, same rank) is when the others, started
    // earlier by a flat fan-out, may already have announced; the program's own dsm_create counts them out.
    if (p.info.rank === 0 && !execing) {
      const key = jobKey(p, this.k.nid);
      const tally = this.dropJoins(keyString(key));
      if (tally !== undefined) for (const [rank, j] of tally) if (rank !== 0) this.answerJoin(key, rank, j.nid, JOIN_OUTCOME.noRankZero);
    }
    for (const r of [...this.regions.values()]) {
      dropWaitersOf(r, p);
      if (unfinished.has(keyString(r.key)) && r.creator === p) this.release(r);
      else if (r.process === p || (r.process === null && r.creator === p)) this.detach(r, true);
    }
  }

  /**
   * The rank leaves the region for good; rank 0 counts, and frees every node's
   * frames after the last. `ended`: its process ended, so a lock it still holds
   * is broken (unlock with arg 1) rather than handed on.
   */
  detach(r: DsmRegion, ended: boolean): void {
    r.process = null;
    for (const id of r.held) this.send(r, r.lockManagerOf(id), 'unlock', id, ended ? 1 : 0);
    r.held.clear();
    if (r.detached) return;
    r.detached = true;
    this.send(r, r.home, 'detached', 0, r.rank);
  }

  /** Frees this node's frames of a region (a DMA still in flight into or out of them holds them until it ends). */
  release(r: DsmRegion): void {
    this.regions.delete(keyString(r.key));
    this.k.node.memory.zero(r.pa, r.bytes);
    this.k.phys.release(r.pa);
    if (this.regions.size === 0) this.watch.disarm();
  }
}

function rankKey(key: RegionKey, rank: number): string {
  return `${keyString(key)}#${rank}`;
}

/** Takes `p`'s threads off the region's wait lists: a grant or a wake-up must never go to a thread that is gone. */
function dropWaitersOf(r: DsmRegion, p: Process): void {
  for (const lists of [r.waiters, r.lockWaiters, r.barrierWaiters] as Map<number, Thread[]>[]) {
    for (const [key, ts] of lists) {
      const live = ts.filter((t) => t.process !== p);
      if (live.length === 0) lists.delete(key);
      else if (live.length !== ts.length) lists.set(key, live);
    }
  }
}

/** The region key of `p`'s job: its uid and rank 0's node and pid (the same on every rank). */
export function jobKey(p: Process, nid: number): RegionKey {
  const zero = p.info.jobMap?.at(0);
  if (zero === undefined || p.info.jobSize <= 1) return { uid: p.info.uid, nid0: nid, pid0: p.pid };
  return { uid: p.info.uid, nid0: zero.nid, pid0: zero.pid };
}

export { sameKey };
