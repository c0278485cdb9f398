// The kernel-to-kernel transport under distributed IPC (the seed's KKT): it
// moves a message (a few words and an optional payload) from this node's
// kernel to another's through the NIC, in blocks that the receiver
// acknowledges, and hands complete messages to the layer above in order per
// (sending node, stream). Its two personalities differ only in how much may
// be in flight (personality.ts): NORMA IPC is stop-and-wait (one message at a
// time to a node, one block before its ack), DIPC lets messages to different
// nodes, streams and pairs go at once with a window of large blocks.

import type { NicCompletion, RxHeader } from '../../hw/nic.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { COOKIE_BASE } from '../nicwire.ts';
import { RxWaits } from '../rxwaits.ts';
import { type KPath, step } from '../step.ts';
import { type Personality, type PersonalityName, personality } from './personality.ts';
import { type IpcHeader, MAX_WORDS, decodeIpc, encodeIpc } from './wire.ts';

/** Largest payload one message may carry. */
export const MAX_PAYLOAD = 64 * 1024 * 1024;

/** Messages of one stream a receiver holds for in-order delivery before it drops further ones. */
const REORDER_LIMIT = 4096;

/** A payload that arrived: a kernel buffer the receiver owns; released after delivery unless kept. */
export class IpcBuffer {
  kept = false;
  constructor(
    private readonly k: Kernel,
    readonly pa: number,
    readonly len: number,
  ) {}

  /** The bytes (a copy). */
  bytes(): Uint8Array {
    const b = new Uint8Array(this.len);
    this.k.node.memory.read(this.pa, b);
    return b;
  }

  /** The caller keeps the buffer (and must release it with k.phys.release(pa)). */
  keep(): number {
    this.kept = true;
    return this.pa;
  }
}

/** A complete message, handed to the layer above. */
export interface Delivered {
  readonly src: number;
  readonly stream: number;
  readonly words: readonly number[];
  readonly payload: IpcBuffer | null;
}

/** What the sender is told when a message cannot be delivered. */
export type SendFailed = (reason: string, cpu: Cpu) => KPath;

/** Bytes to send: physical memory that stays the sender's until the message is acknowledged. */
export interface OutPayload {
  readonly pa: number;
  readonly len: number;
  /** A kernel buffer the transport releases when the message is done (null: the caller's memory). */
  readonly owned: number | null;
}

interface Out {
  readonly id: number;
  readonly dst: number;
  readonly stream: number;
  readonly seq: number;
  readonly words: readonly number[];
  readonly payload: OutPayload | null;
  readonly blocks: number;
  sent: number;
  acked: number;
  /** Cookies of the blocks sent and not yet acknowledged, oldest first. */
  readonly unacked: number[];
  readonly onFail: SendFailed;
}

interface In {
  readonly src: number;
  readonly msgId: number;
  readonly stream: number;
  readonly seq: number;
  readonly words: readonly number[];
  readonly total: number;
  readonly pa: number | null;
  /** Bytes whose blocks' headers came (their DMA may still run) and bytes in memory. */
  announced: number;
  received: number;
}

interface Stream {
  next: number;
  /** Complete messages (null: one that was refused) waiting for their turn. */
  readonly ready: Map<number, In | null>;
}

/** Counters `info ipc` shows and tests read. */
export interface KktStats {
  messagesSent: number;
  blocksSent: number;
  acksSent: number;
  acksReceived: number;
  messagesDelivered: number;
  bytesDelivered: number;
  dropped: number;
  failed: number;
  /** Most messages this node had in flight at once (sent, not yet fully acknowledged). */
  maxInFlight: number;
}

export class Kkt {
  readonly p: Personality;
  readonly stats: KktStats = { messagesSent: 0, blocksSent: 0, acksSent: 0, acksReceived: 0, messagesDelivered: 0, bytesDelivered: 0, dropped: 0, failed: 0, maxInFlight: 0 };
  /** Fault injection: a hung kernel takes no transport messages (and acknowledges none). */
  silent = false;
  private readonly out = new Map<number, Out>();
  /** NORMA: messages waiting for their turn to a node (the head is the one in flight). */
  private readonly queues = new Map<number, Out[]>();
  private readonly cookies = new Map<number, { msgId: number; ack: boolean }>();
  private readonly seqs = new Map<string, number>();
  private readonly incoming = new Map<string, In>();
  private readonly streams = new Map<string, Stream>();
  private readonly rxDone = new RxWaits();
  /** Messages whose first block has gone and whose last ack has not come. */
  private active = 0;
  private nextMsgId = 1;
  private nextCookie = COOKIE_BASE.ipc;

  constructor(
    private readonly k: Kernel,
    name: PersonalityName,
    private readonly deliver: (m: Delivered, cpu: Cpu) => KPath,
  ) {
    this.p = personality(name, k.profile.values);
  }

  /** Messages this node has not finished sending (in flight or, with NORMA, queued). */
  get inFlight(): number {
    return this.out.size;
  }

  // ---- sending --------------------------------------------------------------------

  /** Sends a message to node `dst`; `onFail` runs if it cannot be delivered. */
  *send(dst: number, stream: number, words: readonly number[], payload: OutPayload | null, onFail: SendFailed, ticket?: { id: number }): KPath {
    if (words.length > MAX_WORDS || (payload !== null && (payload.len < 0 || payload.len > MAX_PAYLOAD))) throw new Error(`ipc: message too large (${words.length} words, ${payload?.len ?? 0} bytes)`);
    const key = `${dst}:${stream}`;
    const seq = this.seqs.get(key) ?? 0;
    this.seqs.set(key, seq + 1);
    const len = payload?.len ?? 0;
    const m: Out = { id: this.nextMsgId++, dst, stream, seq, words, payload: len > 0 ? payload : null, blocks: Math.max(1, Math.ceil(len / this.p.blockBytes)), sent: 0, acked: 0, unacked: [], onFail };
    if (len === 0 && payload?.owned != null) this.k.phys.release(payload.owned);
    this.out.set(m.id, m);
    // The sender may give the message up later (cancel) by this id.
    if (ticket !== undefined) ticket.id = m.id;
    this.stats.messagesSent++;
    if (this.p.serialPerNode) {
      const q = this.queues.get(dst);
      if (q !== undefined && q.length > 0) {
        q.push(m);
        yield step('ipc', 'queue', this.p.txCycles / 4, `msg ${m.id} to node ${dst} waits behind ${q.length - 1} (stop-and-wait)`);
        return;
      }
      this.queues.set(dst, [m]);
    }
    yield* this.pump(m);
  }

  /**
   * The sender no longer wants message `msgId` (its request timed out): it
   * stops holding its kernel buffer and, with NORMA, the queue to its node.
   * Its sender is not called back. A late ack or completion finds nothing.
   */
  *cancel(msgId: number, cpu: Cpu): KPath {
    const m = this.out.get(msgId);
    if (m === undefined) return;
    this.finish(m);
    yield step('ipc', 'cancel', this.p.ackCycles, `msg ${m.id} to node ${m.dst} given up by its sender`);
    const q = this.queues.get(m.dst);
    if (q === undefined) return;
    if (q[0] === m) return yield* this.next(m.dst, cpu);
    const i = q.indexOf(m);
    if (i > 0) q.splice(i, 1);
  }

  /** Sends the blocks of `m` that its window allows. */
  private *pump(m: Out): KPath {
    while (m.sent < m.blocks && m.sent - m.acked < this.p.windowBlocks) {
      const offset = m.sent * this.p.blockBytes;
      const len = m.payload === null ? 0 : Math.min(this.p.blockBytes, m.payload.len - offset);
      const h: IpcHeader = { type: 'data', msgId: m.id, stream: m.stream, seq: m.seq, offset, total: m.payload?.len ?? 0, words: m.words };
      const cookie = this.nextCookie++;
      this.cookies.set(cookie, { msgId: m.id, ack: false });
      m.unacked.push(cookie);
      if (m.sent === 0 && ++this.active > this.stats.maxInFlight) this.stats.maxInFlight = this.active;
      m.sent++;
      this.stats.blocksSent++;
      this.k.node.nic.transmit({ dst: m.dst, header: encodeIpc(h), payloadAddr: len > 0 ? m.payload!.pa + offset : 0, payloadLen: len, cookie });
      yield step('ipc', 'send', this.p.txCycles, `msg ${m.id} block ${m.sent}/${m.blocks} (${len} B) to node ${m.dst}`);
    }
  }

  /** A block was acknowledged: the next one (or the next message to that node) may go. */
  private *acked(msgId: number, cpu: Cpu): KPath {
    const m = this.out.get(msgId);
    if (m === undefined || m.acked >= m.sent) return;
    // The ack covers the oldest outstanding block: its cookie is done.
    this.cookies.delete(m.unacked.shift()!);
    m.acked++;
    this.stats.acksReceived++;
    yield step('ipc', 'ack', this.p.ackCycles, `msg ${m.id} block ${m.acked}/${m.blocks} acknowledged by node ${m.dst}`);
    if (m.acked < m.blocks) {
      yield* this.pump(m);
      return;
    }
    this.finish(m);
    yield* this.next(m.dst, cpu);
  }

  private finish(m: Out): void {
    this.out.delete(m.id);
    for (const c of m.unacked.splice(0)) this.cookies.delete(c);
    if (m.sent > 0) this.active--;
    if (m.payload?.owned != null) this.k.phys.release(m.payload.owned);
  }

  /** NORMA: the message to `dst` is done; the next one waiting for that node goes. */
  private *next(dst: number, _cpu: Cpu): KPath {
    if (!this.p.serialPerNode) return;
    const q = this.queues.get(dst);
    if (q === undefined) return;
    q.shift();
    if (q.length === 0) {
      this.queues.delete(dst);
      return;
    }
    yield* this.pump(q[0]);
  }

  /** The message cannot be delivered: the sender is told, and NORMA's queue to that node moves on. */
  private *failed(m: Out, reason: string, cpu: Cpu): KPath {
    if (!this.out.has(m.id)) return;
    this.finish(m);
    this.stats.failed++;
    yield step('ipc', 'undeliverable', this.p.ackCycles, `msg ${m.id} to node ${m.dst}: ${reason}`);
    yield* m.onFail(reason, cpu);
    yield* this.next(m.dst, cpu);
  }

  /** A transmit completion for one of our blocks or acks. */
  *txComplete(c: Extract<NicCompletion, { cookie: number }>, cpu: Cpu): KPath {
    const s = this.cookies.get(c.cookie);
    if (s === undefined) return;
    // A data block's cookie stays until its ack or its failure: the mesh may report it undeliverable after tx-done.
    if (c.kind === 'tx-done') {
      if (s.ack) this.cookies.delete(c.cookie);
      return;
    }
    this.cookies.delete(c.cookie);
    if (s.ack) return;
    const m = this.out.get(s.msgId);
    if (m !== undefined) yield* this.failed(m, c.reason, cpu);
  }

  // ---- receiving ------------------------------------------------------------------

  /** The receive interrupt found a transport header. */
  *receive(rx: RxHeader, cpu: Cpu): KPath {
    const nic = this.k.node.nic;
    const h = decodeIpc(rx.header);
    if (this.silent) {
      nic.discard(rx.rxId);
      return;
    }
    if (h === null) {
      yield* this.drop(rx, 'malformed header');
      return;
    }
    if (h.type === 'ack' || h.type === 'nack') {
      const m = this.out.get(h.msgId);
      // Only the node a message went to may acknowledge or refuse it.
      if (m === undefined || m.dst !== rx.src) {
        yield* this.drop(rx, `${h.type} for msg ${h.msgId}, which is not in flight to that node`);
        return;
      }
      nic.discard(rx.rxId);
      if (h.type === 'ack') yield* this.acked(h.msgId, cpu);
      else yield* this.failed(m, `node ${m.dst} has no buffer for ${m.payload?.len ?? 0} bytes`, cpu);
      return;
    }
    const key = `${rx.src}:${h.msgId}`;
    let m = this.incoming.get(key);
    if (m === undefined) {
      if (h.offset !== 0) {
        yield* this.drop(rx, `block at ${h.offset} of unknown msg ${h.msgId}`);
        return;
      }
      const st = this.stream(rx.src, h.stream);
      if (h.seq < st.next || h.seq >= st.next + REORDER_LIMIT || st.ready.has(h.seq) || h.total > MAX_PAYLOAD) {
        yield* this.drop(rx, `msg ${h.msgId} seq ${h.seq} (stream expects ${st.next}), ${h.total} B`);
        return;
      }
      let pa: number | null = null;
      if (h.total > 0) {
        pa = this.k.phys.alloc(h.total, 4096);
        if (pa === null) {
          // Refused, but the stream moves on past it.
          nic.discard(rx.rxId);
          this.sendCtl(rx.src, 'nack', h.msgId, 0);
          yield step('ipc', 'nack', this.p.rxCycles, `msg ${h.msgId} from node ${rx.src}: no buffer for ${h.total} B`);
          st.ready.set(h.seq, null);
          yield* this.drain(rx.src, h.stream, cpu);
          return;
        }
      }
      m = { src: rx.src, msgId: h.msgId, stream: h.stream, seq: h.seq, words: h.words, total: h.total, pa, announced: 0, received: 0 };
      this.incoming.set(key, m);
    }
    if (h.offset !== m.announced || h.total !== m.total || h.offset + rx.payloadLen > m.total || (rx.payloadLen === 0 && m.total > 0)) {
      yield* this.drop(rx, `block at ${h.offset}+${rx.payloadLen} of msg ${h.msgId} (expected ${m.announced} of ${m.total})`);
      return;
    }
    m.announced += rx.payloadLen;
    yield step('ipc', 'receive', this.p.rxCycles, `msg ${h.msgId} block at ${h.offset} (${rx.payloadLen} B) from node ${rx.src}`);
    const msg = m;
    if (rx.payloadLen === 0) {
      nic.discard(rx.rxId);
      yield* this.blockIn(msg, 0, cpu);
      return;
    }
    this.rxDone.set(rx.rxId, (c) => this.blockIn(msg, rx.payloadLen, c));
    nic.deposit(rx.rxId, msg.pa! + h.offset, rx.payloadLen);
  }

  /** A block is in memory: acknowledge it; a complete message waits for its turn in its stream. */
  private *blockIn(m: In, len: number, cpu: Cpu): KPath {
    m.received += len;
    this.sendCtl(m.src, 'ack', m.msgId, m.received);
    yield step('ipc', 'ack', this.p.ackCycles, `msg ${m.msgId} block to ${m.received}/${m.total} B acknowledged to node ${m.src}`);
    if (m.received < m.total) return;
    this.incoming.delete(`${m.src}:${m.msgId}`);
    this.stream(m.src, m.stream).ready.set(m.seq, m);
    yield* this.drain(m.src, m.stream, cpu);
  }

  /** Delivers the stream's messages that are next in order. */
  private *drain(src: number, stream: number, cpu: Cpu): KPath {
    const st = this.stream(src, stream);
    while (st.ready.has(st.next)) {
      const m = st.ready.get(st.next)!;
      st.ready.delete(st.next);
      st.next++;
      if (m === null) continue;
      this.stats.messagesDelivered++;
      this.stats.bytesDelivered += m.total;
      const payload = m.pa === null ? null : new IpcBuffer(this.k, m.pa, m.total);
      yield step('ipc', 'deliver', this.p.rxCycles, `msg ${m.msgId} from node ${src} (${m.words.length} words, ${m.total} B)`);
      try {
        yield* this.deliver({ src, stream, words: m.words, payload }, cpu);
      } finally {
        if (payload !== null && !payload.kept) this.k.phys.release(payload.pa);
      }
    }
  }

  private stream(src: number, stream: number): Stream {
    const key = `${src}:${stream}`;
    let st = this.streams.get(key);
    if (st === undefined) this.streams.set(key, (st = { next: 0, ready: new Map() }));
    return st;
  }

  private sendCtl(dst: number, type: 'ack' | 'nack', msgId: number, offset: number): void {
    const cookie = this.nextCookie++;
    this.cookies.set(cookie, { msgId, ack: true });
    this.stats.acksSent++;
    this.k.node.nic.transmit({ dst, header: encodeIpc({ type, msgId, stream: 0, seq: 0, offset, total: offset, words: [] }), payloadAddr: 0, payloadLen: 0, cookie });
  }

  private *drop(rx: RxHeader, why: string): KPath {
    this.k.node.nic.discard(rx.rxId);
    this.stats.dropped++;
    yield step('ipc', 'drop', this.p.rxCycles / 4, `from node ${rx.src}: ${why}`);
  }

  /** Whether the receive DMA `rxId` is one of ours (kernel/nicdispatch.ts asks). */
  ownsRx(rxId: number): boolean {
    return this.rxDone.has(rxId);
  }

  /** A block's receive DMA ended (a failed one leaves the message incomplete, as a lost block would). */
  *rxComplete(rxId: number, ok: boolean, cpu: Cpu): KPath {
    yield* this.rxDone.complete(rxId, ok, cpu);
  }
}
