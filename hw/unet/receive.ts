// U-Net's receive engine on the NIC: it demultiplexes each arriving message
// by its tag into the one endpoint and channel the tag was given for (an
// unknown tag, or one arriving from a node other than the channel's peer, is
// dropped and counted), takes a buffer from that endpoint's free queue (or,
// direct access, the offset the sender named), DMAs the data in and writes
// the descriptor back into the receive queue, raising the upcall when the
// queue becomes non-empty. A direct deposit must lie in the direct-access
// area its owner declared in the segment header (DIRECT_BASE/DIRECT_LEN,
// never before the buffer area); one outside it is dropped, counted and
// refused back to the sender's NIC (a DIRECT_REFUSED notice), so a peer can
// write neither the header, the queues, nor a message the owner has not
// polled yet. A full queue or a missing buffer is counted (DROPS word,
// NO_BUFFER status), never thrown.
// A message takes a while after its demultiplexing (a free-buffer fetch,
// the DMA, the tail), and its channel may close or change hands in that
// time: each later step checks again that the tag still leads where it was
// demultiplexed to (else the message is dropped as one for a closed channel;
// a free buffer already taken goes back to the owner in a CHANNEL_CLOSED
// descriptor), and a direct deposit is checked against the area again at
// the moment its bytes are written, so closing or moving the area stops
// every deposit not yet written.
// The engine's FIFO holds at most UNET_LIMITS.RX_BACKLOG messages for one
// endpoint from one sending node (messages with a tag nobody here gave are
// shared per sending node alike): what arrives beyond that waits in the
// network, link-level flow control, and enters the FIFO in order as the
// share drains. A kernels' control message takes no share, but it does not
// overtake data its sending node sent before it (a CLOSE must not cut off
// the data flushed ahead of it): it waits until every message from that
// node that arrived before it has entered the FIFO. So a
// flood costs another endpoint's message a wait of at most one share per
// flooding (endpoint, node), not one that grows for as long as the flood
// lasts, at this NIC, and nothing is dropped for it (the mesh's links,
// booked first come first served, are another matter: KERNEL-BYPASS.md).
// Tag 0 is the kernels' own: control messages go to the host's inbox with
// an interrupt. Messages are handled one at a time, in arrival order.

import type { EventSink } from '../engine.ts';
import { transferPs } from '../time.ts';
import { UNET_KERNEL_TAG, UNET_STEP, UNET_WIRE_REFUSED, UNET_STEP_NAMES, type UnetContext, type UnetEndpoint, type UnetMessage } from './endpoint.ts';
import { UNET_DESC, UNET_FLAG, UNET_FREE, UNET_HDR, UNET_LIMITS, UNET_STATUS } from './layout.ts';

interface RxItem {
  readonly msg: UnetMessage;
  readonly tailTime: number;
  ep: UnetEndpoint | null;
  chan: number;
  /** Where the data lands: offset in the segment. */
  offset: number;
  len: number;
  status: number;
  /** A buffer was taken from the free queue for it (it goes back to the owner whatever happens). */
  tookBuffer: boolean;
  /** Its share of the FIFO (receiving endpoint and sending node), or null for a control message. */
  readonly share: string | null;
}

export class UnetReceiveEngine implements EventSink {
  private readonly queue: RxItem[] = [];
  /** Messages in the queue per share (receiving endpoint and sending node). */
  private readonly held = new Map<string, number>();
  /** Per share, messages that arrived with the share full: they wait in the network, in order. */
  private readonly waiting = new Map<string, { readonly msg: UnetMessage; readonly tailTime: number; readonly seq: number }[]>();
  /** Per sending node, control messages waiting behind that node's data still in the network, in order. */
  private readonly controlWaiting = new Map<number, { readonly msg: UnetMessage; readonly tailTime: number; readonly seq: number }[]>();
  /** Arrival order, to keep a node's control messages behind its data that arrived first. */
  private seq = 0;
  private busy = false;

  constructor(private readonly c: UnetContext) {}

  /** The network delivered a U-Net message's head here. */
  arrive(msg: UnetMessage, tailTime: number): void {
    const hit = msg.unet.tag === UNET_KERNEL_TAG ? undefined : this.c.byRxTag(msg.unet.tag);
    const share = msg.unet.tag === UNET_KERNEL_TAG ? null : `${hit === undefined ? '-' : hit.ep.id}:${msg.src}`;
    const seq = this.seq++;
    if (share === null) {
      const cw = this.controlWaiting.get(msg.src);
      if (cw !== undefined || this.firstWaitingFrom(msg.src) < seq) {
        if (cw === undefined) this.controlWaiting.set(msg.src, [{ msg, tailTime, seq }]);
        else cw.push({ msg, tailTime, seq });
        return;
      }
    } else if ((this.held.get(share) ?? 0) >= UNET_LIMITS.RX_BACKLOG) {
      const w = this.waiting.get(share);
      if (w === undefined) this.waiting.set(share, [{ msg, tailTime, seq }]);
      else w.push({ msg, tailTime, seq });
      return;
    }
    this.admit(msg, tailTime, share);
  }

  /** The arrival number of the first message from node `src` still waiting in the network (Infinity: none). */
  private firstWaitingFrom(src: number): number {
    let first = Infinity;
    for (const w of this.waiting.values()) if (w[0].msg.src === src && w[0].seq < first) first = w[0].seq;
    return first;
  }

  /** Control messages from `src` whose earlier data has all entered the FIFO go in now, in order. */
  private admitControlFrom(src: number): void {
    const cw = this.controlWaiting.get(src);
    if (cw === undefined) return;
    const first = this.firstWaitingFrom(src);
    while (cw.length > 0 && cw[0].seq < first) {
      const c = cw.shift()!;
      this.admit(c.msg, c.tailTime, null);
    }
    if (cw.length === 0) this.controlWaiting.delete(src);
  }

  private admit(msg: UnetMessage, tailTime: number, share: string | null): void {
    if (share !== null) this.held.set(share, (this.held.get(share) ?? 0) + 1);
    this.queue.push({ msg, tailTime, ep: null, chan: 0, offset: 0, len: 0, status: UNET_STATUS.OK, tookBuffer: false, share });
    if (!this.busy) this.start();
  }

  private start(): void {
    if (this.queue.length === 0) {
      this.busy = false;
      return;
    }
    this.busy = true;
    this.c.engine.after(this.c.params.rxDemuxPs, this, UNET_STEP.RX_DEMUX);
  }

  private end(): void {
    const share = this.queue.shift()?.share;
    if (share !== null && share !== undefined) {
      const n = this.held.get(share)! - 1;
      if (n === 0) this.held.delete(share);
      else this.held.set(share, n);
      // The share has room: the first message of it waiting in the network comes in, behind the others.
      const w = this.waiting.get(share);
      const next = w?.shift();
      if (w !== undefined && w.length === 0) this.waiting.delete(share);
      if (next !== undefined) {
        this.admit(next.msg, next.tailTime, share);
        this.admitControlFrom(next.msg.src);
      }
    }
    this.start();
  }

  private demux(): void {
    const { c } = this;
    const item = this.queue[0];
    const { msg } = item;
    if (msg.unet.tag === UNET_KERNEL_TAG) {
      c.note(UNET_KERNEL_TAG, UNET_STEP.RX_DEMUX, `control from node ${msg.src}`, c.params.rxDemuxPs);
      c.inbox.push({ src: msg.src, bytes: msg.payload, undeliverable: false });
      c.interrupt();
      this.end();
      return;
    }
    const hit = c.byRxTag(msg.unet.tag);
    const ch = hit?.ep.channels[hit.chan];
    if (hit === undefined || !hit.ep.live || ch === null || ch === undefined || ch.peerNode !== msg.src) {
      // A tag nobody here gave that sender: forged, or a channel since closed.
      c.stats.forged++;
      c.note(0, UNET_STEP.RX_DEMUX, `tag ${msg.unet.tag} from node ${msg.src}: no such channel, dropped`, c.params.rxDemuxPs);
      this.end();
      return;
    }
    const ep = hit.ep;
    item.ep = ep;
    item.chan = hit.chan;
    item.len = msg.payload.length;
    c.note(ep.id, UNET_STEP.RX_DEMUX, `tag ${msg.unet.tag} -> endpoint ${ep.id} chan ${hit.chan}, ${item.len} B`, c.params.rxDemuxPs);
    if (this.full(ep)) {
      ep.stats.recvFull++;
      this.dropAt(ep, 'receive queue full');
      return;
    }
    if (msg.unet.flags & UNET_WIRE_REFUSED) {
      // The peer's NIC refused our direct deposit: tell the owner in its receive queue, no buffer taken.
      item.status = UNET_STATUS.DIRECT_REFUSED;
      item.len = 0;
      item.offset = UNET_LIMITS.NO_OFFSET;
      this.dma(item);
      return;
    }
    if (msg.unet.flags & UNET_FLAG.DIRECT) {
      const r = msg.unet.roffset;
      item.offset = r;
      if (!this.inDirectArea(ep, r, item.len)) {
        this.refuseDirect(item, UNET_STEP.RX_DEMUX);
        return;
      }
      this.dma(item);
      return;
    }
    c.engine.after(c.params.descDmaPs, this, UNET_STEP.RX_FREE);
  }

  /**
   * Whether [r, r+len) lies in the direct-access area the owner declared in its
   * header (DIRECT_BASE, DIRECT_LEN), read now, and in the buffer area: a peer
   * never writes the header, the queues, or the library's buffers outside it.
   */
  private inDirectArea(ep: UnetEndpoint, r: number, len: number): boolean {
    const m = this.c.memory;
    const base = m.readU32(ep.cfg.segPa + UNET_HDR.DIRECT_BASE);
    const size = m.readU32(ep.cfg.segPa + UNET_HDR.DIRECT_LEN);
    const lo = Math.max(base, ep.queues.buffers);
    const hi = Math.min(base + size, ep.cfg.segLen);
    return r >= lo && r + len <= hi;
  }

  /** A direct deposit outside the area the owner opened: nothing is written or posted here; counted, and the sender is told. */
  private refuseDirect(item: RxItem, step: number): void {
    const { c } = this;
    const ep = item.ep!;
    ep.stats.directRefused++;
    c.note(ep.id, step, `direct deposit at +${item.offset} (${item.len} B) outside the direct-access area: dropped, sender told`, 0);
    const ch = ep.channels[item.chan];
    if (ch !== null) c.notify(item.msg.src, { tag: ch.txTag, flags: UNET_WIRE_REFUSED, roffset: item.offset }, ep);
    this.end();
  }

  /**
   * Whether the message's tag still leads to the endpoint and channel it was
   * demultiplexed to, from the same node: the channel may have been closed,
   * or re-opened with a new tag (to another peer, or after another process
   * held it), since.
   */
  private stillRouted(item: RxItem): boolean {
    const hit = this.c.byRxTag(item.msg.unet.tag);
    const ch = hit?.ep.channels[hit.chan];
    return hit !== undefined && hit.ep === item.ep && hit.chan === item.chan && ch !== null && ch !== undefined && ch.peerNode === item.msg.src;
  }

  /**
   * The message's channel closed (or changed hands) while it was being
   * received: its data goes nowhere (counted with the unknown tags, as it
   * would have been had it arrived a little later). A free buffer already
   * taken for it is handed back in a CHANNEL_CLOSED descriptor (no data):
   * returns true if that descriptor is still to be written, false if the
   * message is done with.
   */
  private dropClosed(item: RxItem, step: number): boolean {
    const { c } = this;
    c.stats.forged++;
    c.note(item.ep!.id, step, `tag ${item.msg.unet.tag}: channel ${item.chan} closed since the message was demultiplexed, data dropped${item.tookBuffer ? ', buffer handed back' : ''}`, 0);
    if (!item.tookBuffer) {
      this.end();
      return false;
    }
    item.status = UNET_STATUS.CHANNEL_CLOSED;
    item.len = 0;
    return true;
  }

  private full(ep: UnetEndpoint): boolean {
    const m = this.c.memory;
    const tail = m.readU32(ep.cfg.segPa + UNET_HDR.RECV_TAIL);
    const head = m.readU32(ep.cfg.segPa + UNET_HDR.RECV_HEAD);
    return ((tail - head) >>> 0) >= ep.cfg.entries;
  }

  /** Dropped with nothing posted: counted in the endpoint's DROPS word. */
  private dropAt(ep: UnetEndpoint, why: string): void {
    const at = ep.cfg.segPa + UNET_HDR.DROPS;
    this.c.memory.writeU32(at, (this.c.memory.readU32(at) + 1) >>> 0);
    this.c.note(ep.id, UNET_STEP.RX_DEMUX, `dropped: ${why}`, 0);
    this.end();
  }

  /** Takes the next free buffer (one that holds the message), or posts NO_BUFFER. */
  private takeFree(): void {
    const { c } = this;
    const item = this.queue[0];
    const ep = item.ep!;
    if (!ep.live) {
      c.stats.deadEndpoint++;
      this.end();
      return;
    }
    if (!this.stillRouted(item)) {
      this.dropClosed(item, UNET_STEP.RX_FREE);
      return;
    }
    const m = c.memory;
    const seg = ep.cfg.segPa;
    const head = m.readU32(seg + UNET_HDR.FREE_HEAD);
    const tail = m.readU32(seg + UNET_HDR.FREE_TAIL);
    const avail = (tail - head) >>> 0;
    if (avail === 0 || avail > ep.cfg.entries) {
      ep.stats.noBuffer++;
      item.status = UNET_STATUS.NO_BUFFER;
      item.len = 0;
      item.offset = UNET_LIMITS.NO_OFFSET;
      c.note(ep.id, UNET_STEP.RX_FREE, 'no free buffer: data dropped', c.params.descDmaPs);
      this.dma(item);
      return;
    }
    const slot = seg + ep.queues.free + (head % ep.cfg.entries) * UNET_FREE.SIZE;
    const offset = m.readU32(slot + UNET_FREE.OFFSET);
    const len = m.readU32(slot + UNET_FREE.LEN);
    m.writeU32(seg + UNET_HDR.FREE_HEAD, (head + 1) >>> 0);
    item.tookBuffer = true;
    const outside = offset < ep.queues.buffers || offset + len > ep.cfg.segLen;
    if (len < item.len || outside) {
      ep.stats.noBuffer++;
      item.status = outside ? UNET_STATUS.BAD_BUFFER : UNET_STATUS.NO_BUFFER;
      item.len = 0;
    }
    item.offset = offset;
    c.note(ep.id, UNET_STEP.RX_FREE, `free slot ${head % ep.cfg.entries}: +${offset} (${len} B)${item.status === UNET_STATUS.OK ? '' : `, refused: status ${item.status}`}`, c.params.descDmaPs);
    this.dma(item);
  }

  /** The receive DMA: cannot finish before the message's tail has arrived. */
  private dma(item: RxItem): void {
    const now = this.c.engine.now;
    const done = Math.max(now + transferPs(item.len, this.c.params.dmaBandwidth), item.tailTime);
    this.c.engine.at(done, this, UNET_STEP.RX_DMA_DONE);
  }

  private dmaDone(): void {
    const { c } = this;
    const item = this.queue[0];
    const ep = item.ep!;
    if (!ep.live) {
      c.stats.deadEndpoint++;
      this.end();
      return;
    }
    if (!this.stillRouted(item)) {
      if (!this.dropClosed(item, UNET_STEP.RX_DMA_DONE)) return;
    } else if (item.status === UNET_STATUS.OK && (item.msg.unet.flags & UNET_FLAG.DIRECT) !== 0 && !this.inDirectArea(ep, item.offset, item.len)) {
      // The owner closed or moved its area after the head was checked: the bytes land now, so the check is now.
      this.refuseDirect(item, UNET_STEP.RX_DMA_DONE);
      return;
    }
    if (item.len > 0) c.memory.write(ep.cfg.segPa + item.offset, item.msg.payload.subarray(0, item.len));
    c.note(ep.id, UNET_STEP.RX_DMA_DONE, `${item.len} B -> +${item.offset}`, 0);
    c.engine.after(c.params.writebackPs, this, UNET_STEP.RX_WRITEBACK);
  }

  private writeBack(): void {
    const { c } = this;
    const item = this.queue[0];
    const ep = item.ep!;
    if (!ep.live) {
      c.stats.deadEndpoint++;
      this.end();
      return;
    }
    if (item.status !== UNET_STATUS.CHANNEL_CLOSED && !this.stillRouted(item) && !this.dropClosed(item, UNET_STEP.RX_WRITEBACK)) return;
    const m = c.memory;
    const seg = ep.cfg.segPa;
    // The queue may have filled while the data moved (the owner does not consume): count, post nothing.
    if (this.full(ep)) {
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
      c.stats.received++;
    }
    c.note(ep.id, UNET_STEP.RX_WRITEBACK, `slot ${tail % ep.cfg.entries}: chan ${item.chan} ${item.len} B status ${item.status}`, c.params.writebackPs);
    if (ep.upcall && head === tail && c.irqWired()) {
      c.upcalls.push(ep.id);
      c.interrupt();
    }
    this.end();
  }

  fire(kind: number): void {
    switch (kind) {
      case UNET_STEP.RX_DEMUX:
        this.demux();
        return;
      case UNET_STEP.RX_FREE:
        this.takeFree();
        return;
      case UNET_STEP.RX_DMA_DONE:
        this.dmaDone();
        return;
      case UNET_STEP.RX_WRITEBACK:
        this.writeBack();
        return;
    }
  }

  describe(kind: number): string {
    return `unet ${this.c.node}: ${UNET_STEP_NAMES[kind]}`;
  }
}
