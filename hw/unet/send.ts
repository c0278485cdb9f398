// U-Net's transmit engine on the NIC: a user store to an endpoint's
// SEND_TAIL word (the doorbell) starts it; it fetches each descriptor,
// checks it against the endpoint's own segment and channel table, DMAs the
// buffer straight from the segment, stamps the channel's tag and injects the
// message, then writes the descriptor's status back. One engine serves every
// endpoint in turn, one descriptor at a time, with the kernels' control
// messages ahead of endpoint work: an endpoint whose queue never empties
// (another uid refilling it with one store) cannot hold back anyone else's
// sends or the kernel's OPEN. The NIC's notices of refused direct deposits
// are the refusing endpoint's work, served in its turns (at most one waiting
// per channel): a peer that floods deposits an endpoint refuses gets that
// endpoint one turn in the round, not a place ahead of every endpoint. Each endpoint's descriptors still leave in the
// order they were queued, so the messages of a channel keep their order. Each step the trace names
// is an event of its own (the DMA starts in a zero-delay event after the
// fetch), so the monitor can stop at each.
//
// Doorbell, not polling: the SBA-200's host writes descriptors into NIC
// memory with programmed I/O, so the NIC learns of a send from a store; in a
// discrete-event machine a polling NIC would also keep the event queue busy
// forever and cost host time while idle.

import type { EventSink } from '../engine.ts';
import { transferPs } from '../time.ts';
import { NO_BYTES, UNET_KERNEL_TAG, UNET_STEP, UNET_STEP_NAMES, type UnetContext, type UnetEndpoint, type UnetMessage, type UnetWireInfo } from './endpoint.ts';
import { UNET_DESC, UNET_FLAG, UNET_HDR, UNET_LIMITS, UNET_STATUS } from './layout.ts';

/** Events besides the steps' own (UNET_STEP): the tail has left; a refused descriptor's status is written. */
const TX_TAIL = 8;
const TX_REFUSED = 9;

type TxWork =
  | { readonly kind: 'endpoint'; readonly ep: UnetEndpoint }
  | { readonly kind: 'control'; readonly dst: number; readonly bytes: Uint8Array }
  | { readonly kind: 'notice'; readonly ep: UnetEndpoint; readonly dst: number; readonly info: UnetWireInfo };
/** The kernels' own messages: served before any endpoint's work. */
type ControlWork = Extract<TxWork, { kind: 'control' }>;

interface TxCurrent {
  readonly work: TxWork;
  chan: number;
  len: number;
  /** Fetched and checked, its DMA not yet begun. */
  msg: UnetMessage | null;
  /** The refused descriptor's status. */
  refused: number;
}

export class UnetSendEngine implements EventSink {
  /** The kernels' control messages, served before any endpoint's descriptor. */
  private readonly control: ControlWork[] = [];
  /** Endpoints with descriptors waiting, in turn: one descriptor each, then to the back. */
  private readonly turns: UnetEndpoint[] = [];
  private tx: TxCurrent | null = null;
  private nextTxId = 1;

  constructor(private readonly c: UnetContext) {}

  /** Queues a kernel control message to `dst` (tag 0). */
  sendControl(dst: number, bytes: Uint8Array): void {
    this.control.push({ kind: 'control', dst, bytes: bytes.slice() });
    this.kick();
  }

  /**
   * Queues the NIC's zero-byte notice to `dst` (a direct deposit `ep` refused,
   * on the channel's tag) as `ep`'s work. One already waiting for that channel
   * stands for this one too (the refusal is counted at `ep`): a flood of
   * refused deposits queues one notice per channel, not one per deposit.
   */
  sendNotice(dst: number, info: UnetWireInfo, ep: UnetEndpoint): void {
    if (!ep.live || ep.notices.some((n) => n.dst === dst && n.info.tag === info.tag)) return;
    ep.notices.push({ dst, info });
    if (!this.busy(ep)) this.turns.push(ep);
    this.kick();
  }

  /** Whether `ep` is being served or waits for its turn. */
  private busy(ep: UnetEndpoint): boolean {
    const w = this.tx?.work;
    return (w !== undefined && w.kind !== 'control' && w.ep === ep) || this.turns.includes(ep);
  }

  /** A host store reached memory: if it hit an endpoint's SEND_TAIL, the NIC has work. */
  doorbell(addr: number, len: number): void {
    for (const ep of this.c.endpoints()) {
      const bell = ep.cfg.segPa + UNET_HDR.SEND_TAIL;
      if (addr < bell + 4 && bell < addr + len) this.c.engine.after(this.c.params.doorbellPs, this, UNET_STEP.DOORBELL, ep.id);
    }
  }

  private kick(): void {
    if (this.tx !== null) return;
    const control = this.control.shift();
    const ep = control === undefined ? this.turns.shift() : undefined;
    const notice = ep?.notices.shift();
    const work: TxWork | undefined = control ?? (ep === undefined ? undefined : notice !== undefined ? { kind: 'notice', ep, ...notice } : { kind: 'endpoint', ep });
    if (work === undefined) return;
    this.tx = { work, chan: 0, len: 0, msg: null, refused: 0 };
    this.c.engine.after(this.c.params.descDmaPs, this, UNET_STEP.TX_FETCH);
  }

  /** Reads the owner's SEND_TAIL: does this endpoint have descriptors the NIC has not taken? */
  private pending(ep: UnetEndpoint): boolean {
    const tail = this.c.memory.readU32(ep.cfg.segPa + UNET_HDR.SEND_TAIL);
    const n = (tail - ep.sendHead) >>> 0;
    if (n <= ep.cfg.entries) return n > 0;
    // A tail further ahead than the queue holds: refused (counted) rather than sending stale slots.
    ep.stats.badDescriptors++;
    return false;
  }

  private fetch(): void {
    const { c } = this;
    const cur = this.tx!;
    const work = cur.work;
    if (work.kind === 'control') {
      c.note(UNET_KERNEL_TAG, UNET_STEP.TX_FETCH, `control -> node ${work.dst}`, c.params.descDmaPs);
      cur.len = work.bytes.length;
      cur.msg = this.message(work.dst, { tag: UNET_KERNEL_TAG, flags: 0, roffset: 0 }, work.bytes);
      c.engine.after(0, this, UNET_STEP.TX_DMA);
      return;
    }
    if (work.kind === 'notice') {
      if (!work.ep.live) {
        this.end();
        return;
      }
      c.note(work.ep.id, UNET_STEP.TX_FETCH, `notice tag ${work.info.tag}: direct deposit at +${work.info.roffset} refused -> node ${work.dst}`, c.params.descDmaPs);
      cur.msg = this.message(work.dst, work.info, NO_BYTES);
      c.engine.after(0, this, UNET_STEP.TX_DMA);
      return;
    }
    const ep = work.ep;
    if (!ep.live || !this.pending(ep)) {
      this.end();
      return;
    }
    const base = ep.cfg.segPa + ep.queues.send + (ep.sendHead % ep.cfg.entries) * UNET_DESC.SIZE;
    const rd = (w: number) => c.memory.readU32(base + w);
    const chan = rd(UNET_DESC.CHAN);
    const flags = rd(UNET_DESC.FLAGS);
    const offset = rd(UNET_DESC.OFFSET);
    const len = rd(UNET_DESC.LEN);
    const roffset = rd(UNET_DESC.ROFFSET);
    c.note(ep.id, UNET_STEP.TX_FETCH, `slot ${ep.sendHead % ep.cfg.entries}: chan ${chan} ${len} B at +${offset}${flags & UNET_FLAG.DIRECT ? ` -> +${roffset}` : ''}`, c.params.descDmaPs);
    const bad = this.check(ep, chan, flags, offset, len);
    if (bad !== UNET_STATUS.OK) {
      cur.refused = bad;
      c.engine.after(0, this, TX_REFUSED);
      return;
    }
    cur.chan = chan;
    cur.len = len;
    const payload = new Uint8Array(len);
    c.memory.read(ep.cfg.segPa + offset, payload);
    const ch = ep.channels[chan]!;
    cur.msg = this.message(ch.peerNode, { tag: ch.txTag, flags, roffset }, payload);
    c.engine.after(0, this, UNET_STEP.TX_DMA);
  }

  /** A descriptor the fetch refused: its status, and on to the next. */
  private refuse(): void {
    const cur = this.tx!;
    if (cur.work.kind !== 'endpoint') return;
    const ep = cur.work.ep;
    if (!ep.live) {
      this.end();
      return;
    }
    ep.stats.badDescriptors++;
    this.writeBack(ep, cur.refused);
    this.c.note(ep.id, UNET_STEP.TX_DONE, `slot refused: status ${cur.refused}`, 0);
    this.next(ep);
  }

  /** The fetched message's DMA begins (the endpoint may have gone in between: then nothing leaves). */
  private startDma(): void {
    const cur = this.tx!;
    const msg = cur.msg!;
    cur.msg = null;
    if (cur.work.kind !== 'control' && !cur.work.ep.live) {
      this.end();
      return;
    }
    this.inject(msg, cur.work.kind !== 'control' ? cur.work.ep.id : -1);
  }

  private check(ep: UnetEndpoint, chan: number, flags: number, offset: number, len: number): number {
    if (flags & ~UNET_FLAG.DIRECT) return UNET_STATUS.BAD_FLAGS;
    if (chan >= UNET_LIMITS.MAX_CHANNELS || ep.channels[chan] === null) return UNET_STATUS.BAD_CHANNEL;
    if (len > UNET_LIMITS.MAX_MESSAGE) return UNET_STATUS.TOO_LONG;
    if (offset + len > ep.cfg.segLen) return UNET_STATUS.BAD_BUFFER;
    return UNET_STATUS.OK;
  }

  private message(dst: number, info: UnetWireInfo, payload: Uint8Array): UnetMessage {
    return {
      src: this.c.node,
      dst,
      wireBytes: payload.length + this.c.params.headerBytes,
      at: this.c.node,
      tailEnd: 0,
      hops: 0,
      injectedAt: 0,
      header: NO_BYTES,
      payload,
      txId: this.nextTxId++,
      cookie: 0,
      unet: info,
    };
  }

  /** The buffer DMA and injection: the tail leaves after the slower of the two. */
  private inject(msg: UnetMessage, ep: number): void {
    const { c } = this;
    const now = c.engine.now;
    const dma = transferPs(msg.payload.length, c.params.dmaBandwidth);
    const inject = transferPs(msg.wireBytes, c.params.injectionBandwidth);
    const tailEnd = now + Math.max(dma, inject);
    const m = msg as { -readonly [K in keyof UnetMessage]: UnetMessage[K] };
    m.tailEnd = tailEnd;
    m.injectedAt = now;
    c.note(ep < 0 ? UNET_KERNEL_TAG : ep, UNET_STEP.TX_DMA, `${msg.payload.length} B tag ${msg.unet.tag} -> node ${msg.dst}`, tailEnd - now, true);
    c.stats.sent++;
    c.network.inject(msg);
    c.engine.at(tailEnd, this, TX_TAIL);
  }

  private sent(): void {
    const cur = this.tx!;
    if (cur.work.kind === 'control') {
      this.c.stats.control++;
      this.end();
      return;
    }
    if (cur.work.kind === 'notice') {
      this.next(cur.work.ep);
      return;
    }
    this.c.engine.after(this.c.params.writebackPs, this, UNET_STEP.TX_DONE);
  }

  private wroteBack(): void {
    const cur = this.tx!;
    if (cur.work.kind !== 'endpoint') return;
    const ep = cur.work.ep;
    if (!ep.live) {
      this.end();
      return;
    }
    ep.stats.sent++;
    ep.stats.sentBytes += cur.len;
    this.writeBack(ep, UNET_STATUS.OK);
    this.c.note(ep.id, UNET_STEP.TX_DONE, `slot ${(ep.sendHead - 1 + ep.cfg.entries) % ep.cfg.entries} sent`, this.c.params.writebackPs);
    this.next(ep);
  }

  /** Writes the status of the descriptor at the head and advances SEND_HEAD. */
  private writeBack(ep: UnetEndpoint, status: number): void {
    const m = this.c.memory;
    const base = ep.cfg.segPa + ep.queues.send + (ep.sendHead % ep.cfg.entries) * UNET_DESC.SIZE;
    m.writeU32(base + UNET_DESC.STATUS, status);
    ep.sendHead = (ep.sendHead + 1) >>> 0;
    m.writeU32(ep.cfg.segPa + UNET_HDR.SEND_HEAD, ep.sendHead);
  }

  /** One descriptor done: an endpoint with more goes to the back of the turns, and the next work (control first) begins. */
  private next(ep: UnetEndpoint): void {
    if (ep.live && (ep.notices.length > 0 || this.pending(ep))) this.turns.push(ep);
    this.end();
  }

  private end(): void {
    this.tx = null;
    this.kick();
  }

  private rang(id: number): void {
    const ep = this.c.endpoint(id);
    if (ep === undefined || !ep.live) return;
    this.c.note(ep.id, UNET_STEP.DOORBELL, `send tail ${this.c.memory.readU32(ep.cfg.segPa + UNET_HDR.SEND_TAIL)}`, this.c.params.doorbellPs);
    if (!this.busy(ep)) this.turns.push(ep);
    this.kick();
  }

  fire(kind: number, arg: number): void {
    switch (kind) {
      case UNET_STEP.DOORBELL:
        this.rang(arg);
        return;
      case UNET_STEP.TX_FETCH:
        this.fetch();
        return;
      case UNET_STEP.TX_DMA:
        this.startDma();
        return;
      case TX_TAIL:
        this.sent();
        return;
      case TX_REFUSED:
        this.refuse();
        return;
      case UNET_STEP.TX_DONE:
        this.wroteBack();
        return;
    }
  }

  describe(kind: number, arg: number): string {
    const name = kind === TX_TAIL ? 'send-dma (tail leaves)' : kind === TX_REFUSED ? 'send-writeback (refused)' : UNET_STEP_NAMES[kind];
    return `unet ${this.c.node}: ${name}${kind === UNET_STEP.DOORBELL ? ` (endpoint ${arg})` : ''}`;
  }
}
