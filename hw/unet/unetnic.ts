// U-Net on the NIC (von Eicken et al., SOSP 1995): user-level endpoints.
// An endpoint is a communication segment (physically contiguous host memory
// of its owner) holding send, receive and free descriptor queues and
// message buffers (layout.ts). The kernel programs endpoints, channels and
// tags through the small interface below and is off the data path after
// that: a user store to the segment's SEND_TAIL word (the doorbell) starts
// the NIC, which fetches each descriptor, DMAs the buffer straight from the
// segment, stamps the channel's tag and injects the message. On the far
// side the NIC demultiplexes by tag into that endpoint only, takes a buffer
// from its free queue (or, direct access, the offset the sender named),
// DMAs the data in and writes the descriptor back into the receive queue.
//
// Doorbell, not polling: the SBA-200's host writes descriptors into NIC
// memory with programmed I/O, so the NIC learns of a send from a store; in a
// discrete-event machine a polling NIC would also keep the event queue busy
// forever and cost host time while idle.
//
// Protection is the NIC's: a descriptor is checked against its own
// segment; the tag comes from the NIC's channel table, never from the user;
// an incoming tag that is unknown, or arrives from a node other than the
// channel's peer, is dropped and counted. Bad descriptors get an error
// status, full queues are counted in the endpoint's DROPS word. Nothing a
// user writes into a descriptor can make the host throw.
//
// One transmit and one receive engine serve all endpoints in order, so the
// messages of a channel arrive in the order they were sent. Tag 0 is the
// kernels' own: control messages to and from the kernel, handed to the host
// with an interrupt (the only U-Net traffic that interrupts, besides upcalls).

import type { Engine, EventSink } from '../engine.ts';
import type { PhysicalMemory } from '../memory.ts';
import type { NetMessage, Network } from '../network.ts';
import { transferPs } from '../time.ts';
import { UNET_DESC, UNET_FLAG, UNET_FREE, UNET_HDR, UNET_LIMITS, UNET_STATUS, unetQueues } from './layout.ts';

export interface UnetParams {
  readonly dmaBandwidth: number;
  readonly injectionBandwidth: number;
  /** A store to the doorbell reaching the NIC's firmware. */
  readonly doorbellPs: number;
  /** One descriptor (or free-queue entry) read across the I/O bus. */
  readonly descDmaPs: number;
  /** Receive processing before delivery: reassembly and the tag lookup. */
  readonly rxDemuxPs: number;
  /** Writing a finished descriptor and its queue index back into host memory. */
  readonly writebackPs: number;
  /** Bytes the NIC adds to each message on the wire. */
  readonly headerBytes: number;
}

/** What a U-Net message carries on the wire besides its payload. */
export interface UnetWireInfo {
  readonly tag: number;
  readonly flags: number;
  readonly roffset: number;
}

/** The network message with its U-Net fields (NicMessage's shape, so the machine can route it). */
export interface UnetMessage extends NetMessage {
  readonly header: Uint8Array;
  payload: Uint8Array;
  readonly txId: number;
  readonly cookie: number;
  readonly unet: UnetWireInfo;
}

/** The kernels' tag. */
export const UNET_KERNEL_TAG = 0;

export interface UnetEndpointConfig {
  /** The kernel's id for the endpoint (unique on this NIC). */
  readonly id: number;
  readonly segPa: number;
  readonly segLen: number;
  readonly entries: number;
  /** Raise the upcall interrupt when the receive queue becomes non-empty. */
  readonly upcall: boolean;
  /** Shown by the monitor (the owner's pid). */
  readonly owner: number;
}

export interface UnetChannel {
  readonly peerNode: number;
  /** Stamped on every message sent on this channel (the peer kernel's receive tag). */
  readonly txTag: number;
  /** Tag the peer stamps on messages for us (our kernel assigned it). */
  readonly rxTag: number;
}

export interface UnetEndpointStats {
  sent: number;
  sentBytes: number;
  received: number;
  receivedBytes: number;
  badDescriptors: number;
  noBuffer: number;
  recvFull: number;
}

export class UnetEndpoint {
  readonly channels: (UnetChannel | null)[] = new Array(UNET_LIMITS.MAX_CHANNELS).fill(null);
  /** The NIC's own copy of the send head (the owner cannot move it). */
  sendHead = 0;
  live = true;
  upcall: boolean;
  readonly stats: UnetEndpointStats = { sent: 0, sentBytes: 0, received: 0, receivedBytes: 0, badDescriptors: 0, noBuffer: 0, recvFull: 0 };
  readonly queues: ReturnType<typeof unetQueues>;

  constructor(readonly cfg: UnetEndpointConfig) {
    this.upcall = cfg.upcall;
    this.queues = unetQueues(cfg.entries);
  }

  get id(): number {
    return this.cfg.id;
  }
}

/** A control message between kernels, or the news that one could not be delivered. */
export interface UnetControl {
  readonly src: number;
  readonly bytes: Uint8Array;
  readonly undeliverable: boolean;
}

/** Called for every NIC step, for the trace: the step began at `startPs` and took `durPs`. */
export type UnetStepObserver = (endpoint: number, step: string, detail: string, durPs: number, startPs: number) => void;

const DOORBELL = 0;
const TX_FETCH = 1;
const TX_DMA = 2;
const TX_DONE = 3;
const RX_DEMUX = 4;
const RX_FREE = 5;
const RX_DMA_DONE = 6;
const RX_WRITEBACK = 7;
const STEP_NAMES = ['doorbell', 'send descriptor fetch', 'send buffer DMA', 'send write-back', 'receive demux', 'free buffer fetch', 'receive buffer DMA', 'receive write-back'];

type TxWork = { readonly kind: 'endpoint'; readonly ep: UnetEndpoint } | { readonly kind: 'control'; readonly dst: number; readonly bytes: Uint8Array };

interface TxCurrent {
  readonly work: TxWork;
  /** Slot being sent (endpoint work). */
  slot: number;
  chan: number;
  len: number;
}

interface RxItem {
  readonly msg: UnetMessage;
  readonly tailTime: number;
  ep: UnetEndpoint | null;
  chan: number;
  /** Where the data lands: offset in the segment. */
  offset: number;
  len: number;
  status: number;
}

const EMPTY = new Uint8Array(0);

export class UnetNic implements EventSink {
  private readonly endpoints = new Map<number, UnetEndpoint>();
  /** Receive tag -> endpoint and channel. */
  private readonly rxTags = new Map<number, { readonly ep: UnetEndpoint; readonly chan: number }>();
  private readonly txWork: TxWork[] = [];
  private tx: TxCurrent | null = null;
  private readonly rxQueue: RxItem[] = [];
  private rxBusy = false;
  private nextTxId = 1;
  private readonly inbox: UnetControl[] = [];
  private readonly upcalls: number[] = [];
  irq: { readonly core: number; readonly vector: number } | null = null;
  onStep: UnetStepObserver | null = null;
  /** NIC-wide counters. */
  readonly stats = { sent: 0, received: 0, forged: 0, deadEndpoint: 0, undeliverable: 0, control: 0 };

  constructor(
    readonly node: number,
    private readonly engine: Engine,
    private readonly memory: PhysicalMemory,
    private readonly network: Network,
    readonly params: UnetParams,
    private readonly raiseIrq: (core: number, vector: number) => void,
  ) {}

  // ---- what the kernel programs ---------------------------------------------

  /** Creates an endpoint over a segment (the kernel has checked and pinned it); zeroes its header. */
  createEndpoint(cfg: UnetEndpointConfig): UnetEndpoint {
    const ep = new UnetEndpoint(cfg);
    this.memory.zero(cfg.segPa, UNET_HDR.SIZE);
    this.memory.writeU32(cfg.segPa + UNET_HDR.ENTRIES, cfg.entries);
    this.endpoints.set(cfg.id, ep);
    this.memory.doorbell = (addr, len) => this.doorbell(addr, len);
    return ep;
  }

  /** The NIC forgets an endpoint: it stops reading and writing its segment at once. */
  destroyEndpoint(id: number): void {
    const ep = this.endpoints.get(id);
    if (ep === undefined) return;
    ep.live = false;
    for (const c of ep.channels) if (c !== null) this.rxTags.delete(c.rxTag);
    this.endpoints.delete(id);
    if (this.endpoints.size === 0) this.memory.doorbell = null;
  }

  endpoint(id: number): UnetEndpoint | undefined {
    return this.endpoints.get(id);
  }

  allEndpoints(): UnetEndpoint[] {
    return [...this.endpoints.values()];
  }

  tagInUse(tag: number): boolean {
    return tag === UNET_KERNEL_TAG || this.rxTags.has(tag);
  }

  setChannel(id: number, chan: number, c: UnetChannel): void {
    const ep = this.endpoints.get(id);
    if (ep === undefined) return;
    const old = ep.channels[chan];
    if (old) this.rxTags.delete(old.rxTag);
    ep.channels[chan] = c;
    this.rxTags.set(c.rxTag, { ep, chan });
  }

  clearChannel(id: number, chan: number): void {
    const ep = this.endpoints.get(id);
    const c = ep?.channels[chan];
    if (!ep || !c) return;
    this.rxTags.delete(c.rxTag);
    ep.channels[chan] = null;
  }

  /** Queues a kernel control message to `dst` (tag 0). */
  sendControl(dst: number, bytes: Uint8Array): void {
    this.txWork.push({ kind: 'control', dst, bytes: bytes.slice() });
    this.kickTx();
  }

  takeControl(): UnetControl[] {
    return this.inbox.splice(0);
  }

  /** Endpoints whose receive queue became non-empty with the upcall on, since the last call. */
  takeUpcalls(): number[] {
    return this.upcalls.splice(0);
  }

  // ---- the doorbell -------------------------------------------------------

  /** A host store reached memory: if it hit an endpoint's SEND_TAIL, the NIC has work. */
  private doorbell(addr: number, len: number): void {
    for (const ep of this.endpoints.values()) {
      const bell = ep.cfg.segPa + UNET_HDR.SEND_TAIL;
      if (addr < bell + 4 && bell < addr + len) this.engine.after(this.params.doorbellPs, this, DOORBELL, ep.id);
    }
  }

  private kickTx(): void {
    if (this.tx !== null) return;
    const work = this.txWork.shift();
    if (work === undefined) return;
    this.tx = { work, slot: 0, chan: 0, len: 0 };
    this.engine.after(this.params.descDmaPs, this, TX_FETCH);
  }

  /** A step that ends now (its fixed delay is over) or, with `startsNow`, one that begins now. */
  private note(ep: number, kind: number, detail: string, durPs: number, startsNow = false): void {
    this.onStep?.(ep, STEP_NAMES[kind], detail, durPs, startsNow ? this.engine.now : this.engine.now - durPs);
  }

  // ---- transmit -----------------------------------------------------------

  /** Reads the owner's SEND_TAIL: does this endpoint have descriptors the NIC has not taken? */
  private sendPending(ep: UnetEndpoint): boolean {
    const tail = this.memory.readU32(ep.cfg.segPa + UNET_HDR.SEND_TAIL);
    const n = (tail - ep.sendHead) >>> 0;
    if (n <= ep.cfg.entries) return n > 0;
    // A tail further ahead than the queue holds: refused (counted) rather than sending stale slots.
    ep.stats.badDescriptors++;
    return false;
  }

  private txFetch(): void {
    const cur = this.tx!;
    const work = cur.work;
    if (work.kind === 'control') {
      this.note(UNET_KERNEL_TAG, TX_FETCH, `control -> node ${work.dst}`, this.params.descDmaPs);
      cur.len = work.bytes.length;
      this.txInject(this.message(work.dst, { tag: UNET_KERNEL_TAG, flags: 0, roffset: 0 }, work.bytes), -1);
      return;
    }
    const ep = work.ep;
    if (!ep.live || !this.sendPending(ep)) {
      this.endTx();
      return;
    }
    const base = ep.cfg.segPa + ep.queues.send + (ep.sendHead % ep.cfg.entries) * UNET_DESC.SIZE;
    const rd = (w: number) => this.memory.readU32(base + w);
    const chan = rd(UNET_DESC.CHAN);
    const flags = rd(UNET_DESC.FLAGS);
    const offset = rd(UNET_DESC.OFFSET);
    const len = rd(UNET_DESC.LEN);
    const roffset = rd(UNET_DESC.ROFFSET);
    this.note(ep.id, TX_FETCH, `slot ${ep.sendHead % ep.cfg.entries}: chan ${chan} ${len} B at +${offset}${flags & UNET_FLAG.DIRECT ? ` -> +${roffset}` : ''}`, this.params.descDmaPs);
    const bad = this.checkSend(ep, chan, flags, offset, len);
    if (bad !== UNET_STATUS.OK) {
      ep.stats.badDescriptors++;
      this.sendWriteBack(ep, bad);
      this.note(ep.id, TX_DONE, `slot refused: status ${bad}`, 0);
      this.nextDescriptor(ep);
      return;
    }
    cur.chan = chan;
    cur.len = len;
    const payload = new Uint8Array(len);
    this.memory.read(ep.cfg.segPa + offset, payload);
    const c = ep.channels[chan]!;
    this.txInject(this.message(c.peerNode, { tag: c.txTag, flags, roffset }, payload), ep.id);
  }

  private checkSend(ep: UnetEndpoint, chan: number, flags: number, offset: number, len: number): number {
    if (flags & ~UNET_FLAG.DIRECT) return UNET_STATUS.BAD_FLAGS;
    if (chan >= UNET_LIMITS.MAX_CHANNELS || ep.channels[chan] === null) return UNET_STATUS.BAD_CHANNEL;
    if (len > UNET_LIMITS.MAX_MESSAGE) return UNET_STATUS.TOO_LONG;
    if (offset + len > ep.cfg.segLen) return UNET_STATUS.BAD_BUFFER;
    return UNET_STATUS.OK;
  }

  private message(dst: number, info: UnetWireInfo, payload: Uint8Array): UnetMessage {
    return {
      src: this.node,
      dst,
      wireBytes: payload.length + this.params.headerBytes,
      at: this.node,
      tailEnd: 0,
      hops: 0,
      injectedAt: 0,
      header: EMPTY,
      payload,
      txId: this.nextTxId++,
      cookie: 0,
      unet: info,
    };
  }

  /** The buffer DMA and injection: the tail leaves after the slower of the two. */
  private txInject(msg: UnetMessage, ep: number): void {
    const now = this.engine.now;
    const dma = transferPs(msg.payload.length, this.params.dmaBandwidth);
    const inject = transferPs(msg.wireBytes, this.params.injectionBandwidth);
    const tailEnd = now + Math.max(dma, inject);
    const m = msg as { -readonly [K in keyof UnetMessage]: UnetMessage[K] };
    m.tailEnd = tailEnd;
    m.injectedAt = now;
    this.note(ep < 0 ? UNET_KERNEL_TAG : ep, TX_DMA, `${msg.payload.length} B tag ${msg.unet.tag} -> node ${msg.dst}`, tailEnd - now, true);
    this.stats.sent++;
    this.network.inject(msg);
    this.engine.at(tailEnd, this, TX_DMA);
  }

  private txSent(): void {
    const cur = this.tx!;
    if (cur.work.kind === 'control') {
      this.stats.control++;
      this.endTx();
      return;
    }
    this.engine.after(this.params.writebackPs, this, TX_DONE);
  }

  private txWroteBack(): void {
    const cur = this.tx!;
    if (cur.work.kind !== 'endpoint') return;
    const ep = cur.work.ep;
    if (!ep.live) {
      this.endTx();
      return;
    }
    ep.stats.sent++;
    ep.stats.sentBytes += cur.len;
    this.sendWriteBack(ep, UNET_STATUS.OK);
    this.note(ep.id, TX_DONE, `slot ${(ep.sendHead - 1 + ep.cfg.entries) % ep.cfg.entries} sent`, this.params.writebackPs);
    this.nextDescriptor(ep);
  }

  /** Writes the status of the descriptor at the head and advances SEND_HEAD. */
  private sendWriteBack(ep: UnetEndpoint, status: number): void {
    const base = ep.cfg.segPa + ep.queues.send + (ep.sendHead % ep.cfg.entries) * UNET_DESC.SIZE;
    this.memory.writeU32(base + UNET_DESC.STATUS, status);
    ep.sendHead = (ep.sendHead + 1) >>> 0;
    this.memory.writeU32(ep.cfg.segPa + UNET_HDR.SEND_HEAD, ep.sendHead);
  }

  /** Next descriptor of the same endpoint, if any; else the next endpoint with work. */
  private nextDescriptor(ep: UnetEndpoint): void {
    if (ep.live && this.sendPending(ep)) {
      this.engine.after(this.params.descDmaPs, this, TX_FETCH);
      return;
    }
    this.endTx();
  }

  private endTx(): void {
    this.tx = null;
    this.kickTx();
  }

  // ---- receive ------------------------------------------------------------

  /** The network delivered a U-Net message's head here. */
  arrive(msg: UnetMessage, tailTime: number): void {
    this.rxQueue.push({ msg, tailTime, ep: null, chan: 0, offset: 0, len: 0, status: UNET_STATUS.OK });
    if (!this.rxBusy) this.startRx();
  }

  /** A message this NIC sent could not be delivered (its destination is down). */
  undeliverable(msg: UnetMessage): void {
    this.stats.undeliverable++;
    if (msg.unet.tag === UNET_KERNEL_TAG) {
      this.inbox.push({ src: msg.dst, bytes: msg.payload, undeliverable: true });
      if (this.irq) this.raiseIrq(this.irq.core, this.irq.vector);
    }
  }

  private startRx(): void {
    if (this.rxQueue.length === 0) {
      this.rxBusy = false;
      return;
    }
    this.rxBusy = true;
    this.engine.after(this.params.rxDemuxPs, this, RX_DEMUX);
  }

  private endRx(): void {
    this.rxQueue.shift();
    this.startRx();
  }

  private rxDemux(): void {
    const item = this.rxQueue[0];
    const { msg } = item;
    if (msg.unet.tag === UNET_KERNEL_TAG) {
      this.note(UNET_KERNEL_TAG, RX_DEMUX, `control from node ${msg.src}`, this.params.rxDemuxPs);
      this.inbox.push({ src: msg.src, bytes: msg.payload, undeliverable: false });
      if (this.irq) this.raiseIrq(this.irq.core, this.irq.vector);
      this.endRx();
      return;
    }
    const hit = this.rxTags.get(msg.unet.tag);
    const c = hit?.ep.channels[hit.chan];
    if (hit === undefined || !hit.ep.live || c === null || c === undefined || c.peerNode !== msg.src) {
      // A tag nobody here gave that sender: forged, or a channel since closed.
      this.stats.forged++;
      this.note(0, RX_DEMUX, `tag ${msg.unet.tag} from node ${msg.src}: no such channel, dropped`, this.params.rxDemuxPs);
      this.endRx();
      return;
    }
    const ep = hit.ep;
    item.ep = ep;
    item.chan = hit.chan;
    item.len = msg.payload.length;
    this.note(ep.id, RX_DEMUX, `tag ${msg.unet.tag} -> endpoint ${ep.id} chan ${hit.chan}, ${item.len} B`, this.params.rxDemuxPs);
    if (this.recvFull(ep)) {
      ep.stats.recvFull++;
      this.dropAt(ep, 'receive queue full');
      return;
    }
    if (msg.unet.flags & UNET_FLAG.DIRECT) {
      const r = msg.unet.roffset;
      if (r + item.len > ep.cfg.segLen) {
        ep.stats.badDescriptors++;
        item.status = UNET_STATUS.BAD_BUFFER;
        item.len = 0;
      }
      item.offset = r;
      this.rxDma(item);
      return;
    }
    this.engine.after(this.params.descDmaPs, this, RX_FREE);
  }

  private recvFull(ep: UnetEndpoint): boolean {
    const m = this.memory;
    const tail = m.readU32(ep.cfg.segPa + UNET_HDR.RECV_TAIL);
    const head = m.readU32(ep.cfg.segPa + UNET_HDR.RECV_HEAD);
    return ((tail - head) >>> 0) >= ep.cfg.entries;
  }

  /** Dropped with nothing posted: counted in the endpoint's DROPS word. */
  private dropAt(ep: UnetEndpoint, why: string): void {
    const at = ep.cfg.segPa + UNET_HDR.DROPS;
    this.memory.writeU32(at, (this.memory.readU32(at) + 1) >>> 0);
    this.note(ep.id, RX_DEMUX, `dropped: ${why}`, 0);
    this.endRx();
  }

  /** Takes the next free buffer (one that holds the message), or posts NO_BUFFER. */
  private rxFree(): void {
    const item = this.rxQueue[0];
    const ep = item.ep!;
    if (!ep.live) {
      this.stats.deadEndpoint++;
      this.endRx();
      return;
    }
    const m = this.memory;
    const seg = ep.cfg.segPa;
    const head = m.readU32(seg + UNET_HDR.FREE_HEAD);
    const tail = m.readU32(seg + UNET_HDR.FREE_TAIL);
    const avail = (tail - head) >>> 0;
    if (avail === 0 || avail > ep.cfg.entries) {
      ep.stats.noBuffer++;
      item.status = UNET_STATUS.NO_BUFFER;
      item.len = 0;
      item.offset = UNET_LIMITS.NO_OFFSET;
      this.note(ep.id, RX_FREE, 'no free buffer: data dropped', this.params.descDmaPs);
      this.rxDma(item);
      return;
    }
    const slot = seg + ep.queues.free + (head % ep.cfg.entries) * UNET_FREE.SIZE;
    const offset = m.readU32(slot + UNET_FREE.OFFSET);
    const len = m.readU32(slot + UNET_FREE.LEN);
    m.writeU32(seg + UNET_HDR.FREE_HEAD, (head + 1) >>> 0);
    if (len < item.len || offset + len > ep.cfg.segLen) {
      ep.stats.noBuffer++;
      item.status = offset + len > ep.cfg.segLen ? UNET_STATUS.BAD_BUFFER : UNET_STATUS.NO_BUFFER;
      item.len = 0;
    }
    item.offset = offset;
    this.note(ep.id, RX_FREE, `free slot ${head % ep.cfg.entries}: +${offset} (${len} B)${item.status === UNET_STATUS.OK ? '' : `, refused: status ${item.status}`}`, this.params.descDmaPs);
    this.rxDma(item);
  }

  /** The receive DMA: cannot finish before the message's tail has arrived. */
  private rxDma(item: RxItem): void {
    const now = this.engine.now;
    const done = Math.max(now + transferPs(item.len, this.params.dmaBandwidth), item.tailTime);
    this.engine.at(done, this, RX_DMA_DONE);
  }

  private rxDmaDone(): void {
    const item = this.rxQueue[0];
    const ep = item.ep!;
    if (!ep.live) {
      this.stats.deadEndpoint++;
      this.endRx();
      return;
    }
    if (item.len > 0) this.memory.write(ep.cfg.segPa + item.offset, item.msg.payload.subarray(0, item.len));
    this.note(ep.id, RX_DMA_DONE, `${item.len} B -> +${item.offset}`, 0);
    this.engine.after(this.params.writebackPs, this, RX_WRITEBACK);
  }

  private rxWriteBack(): void {
    const item = this.rxQueue[0];
    const ep = item.ep!;
    if (!ep.live) {
      this.stats.deadEndpoint++;
      this.endRx();
      return;
    }
    const m = this.memory;
    const seg = ep.cfg.segPa;
    // The queue may have filled while the data moved (the owner does not consume): count, post nothing.
    if (this.recvFull(ep)) {
      ep.stats.recvFull++;
      this.dropAt(ep, 'receive queue full');
      return;
    }
    const tail = m.readU32(seg + UNET_HDR.RECV_TAIL);
    const base = seg + ep.queues.recv + (tail % ep.cfg.entries) * UNET_DESC.SIZE;
    m.writeU32(base + UNET_DESC.CHAN, item.chan);
    m.writeU32(base + UNET_DESC.FLAGS, item.msg.unet.flags);
    m.writeU32(base + UNET_DESC.OFFSET, item.offset);
    m.writeU32(base + UNET_DESC.LEN, item.len);
    m.writeU32(base + UNET_DESC.ROFFSET, item.msg.unet.roffset);
    m.writeU32(base + UNET_DESC.STATUS, item.status);
    const head = m.readU32(seg + UNET_HDR.RECV_HEAD);
    m.writeU32(seg + UNET_HDR.RECV_TAIL, (tail + 1) >>> 0);
    if (item.status === UNET_STATUS.OK) {
      ep.stats.received++;
      ep.stats.receivedBytes += item.len;
      this.stats.received++;
    }
    this.note(ep.id, RX_WRITEBACK, `slot ${tail % ep.cfg.entries}: chan ${item.chan} ${item.len} B status ${item.status}`, this.params.writebackPs);
    if (ep.upcall && head === tail && this.irq) {
      this.upcalls.push(ep.id);
      this.raiseIrq(this.irq.core, this.irq.vector);
    }
    this.endRx();
  }

  fire(kind: number, arg: number): void {
    switch (kind) {
      case DOORBELL: {
        const ep = this.endpoints.get(arg);
        if (ep === undefined || !ep.live) return;
        this.note(ep.id, DOORBELL, `send tail ${this.memory.readU32(ep.cfg.segPa + UNET_HDR.SEND_TAIL)}`, this.params.doorbellPs);
        const busy = (this.tx?.work.kind === 'endpoint' && this.tx.work.ep === ep) || this.txWork.some((w) => w.kind === 'endpoint' && w.ep === ep);
        if (!busy) this.txWork.push({ kind: 'endpoint', ep });
        this.kickTx();
        return;
      }
      case TX_FETCH:
        this.txFetch();
        return;
      case TX_DMA:
        this.txSent();
        return;
      case TX_DONE:
        this.txWroteBack();
        return;
      case RX_DEMUX:
        this.rxDemux();
        return;
      case RX_FREE:
        this.rxFree();
        return;
      case RX_DMA_DONE:
        this.rxDmaDone();
        return;
      case RX_WRITEBACK:
        this.rxWriteBack();
        return;
    }
  }

  describe(kind: number, arg: number): string {
    return `unet ${this.node}: ${STEP_NAMES[kind]}${kind === DOORBELL ? ` (endpoint ${arg})` : ''}`;
  }
}
