// Kernel-message transport: headers from this kernel, sends from a kernel
// buffer or a process's pinned memory, and the NIC's completions. A request
// a process sent that cannot be delivered is answered here, as a NACK would
// be, through the mailbox.

import { match } from 'ts-pattern';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { COOKIE_BASE } from '../nicwire.ts';
import type { Pin } from '../pin.ts';
import { type KPath, step } from '../step.ts';
import { type KMsgHeader, type KMsgType, NO_SUMMARY, SENDER, encodeKMsg } from './jobmsg.ts';
import type { Mailboxes } from './mailbox.ts';
import type { JobStats } from './records.ts';

/** Largest payload a kernel message may carry (an image plus its job block). */
export const MAX_KMSG_PAYLOAD = 64 * 1024 * 1024;

interface TxRecord {
  readonly header: KMsgHeader;
  readonly dstNid: number;
  /** Kernel buffer holding the payload, released when the send completes. */
  readonly buffer: number | null;
  /** Pin on a process's payload frames until the NIC has read them (see transmit). */
  readonly pin: Pin | null;
}

export class KMsgTransport {
  private readonly tx = new Map<number, TxRecord>();
  private nextCookie = COOKIE_BASE.kernelMessage;

  constructor(
    private readonly k: Kernel,
    private readonly stats: JobStats,
    private readonly mailbox: Mailboxes,
  ) {}

  /** Sends a kernel message; the payload is copied into a kernel buffer first. */
  send(dstNid: number, header: KMsgHeader, payload: Uint8Array | null): void {
    let buffer: number | null = null;
    if (payload !== null && payload.length > 0) {
      buffer = this.k.phys.alloc(payload.length, 8);
      if (buffer === null) {
        this.stats.dropped++;
        return;
      }
      this.k.node.memory.write(buffer, payload);
    }
    this.transmit(dstNid, header, buffer, payload?.length ?? 0, buffer);
  }

  /**
   * Sends `len` bytes at physical `pa`. The NIC reads them only when the
   * message reaches the head of its transmit queue, so they must stay the
   * sender's until then: a kernel buffer (released at completion) or a
   * process's memory under `pin`, which keeps munmapped frames from being
   * handed to anyone else until the completion drops it.
   */
  transmit(dstNid: number, header: KMsgHeader, pa: number | null, len: number, buffer: number | null = null, pin: Pin | null = null): void {
    const cookie = this.nextCookie++;
    this.tx.set(cookie, { header, dstNid, buffer, pin });
    this.stats.sent++;
    this.k.node.nic.transmit({ dst: dstNid, header: encodeKMsg(header), payloadAddr: pa ?? 0, payloadLen: len, cookie });
  }

  /** Kernel messages a process sent from its own memory that the NIC has not finished reading. */
  inflight(pid: number): number {
    let n = 0;
    for (const t of this.tx.values()) if (t.buffer === null && t.header.srcPid === pid) n++;
    return n;
  }

  /** A header for a message from this kernel. */
  header(type: KMsgType, fields: Partial<KMsgHeader>): KMsgHeader {
    return { type, dstPid: 0, srcNid: this.k.nid, srcPid: 0, rank: 0, uid: 0, jobId: 0, imageLen: 0, code: 0, jobSize: 0, summary: NO_SUMMARY, sender: SENDER.none, ...fields };
  }

  /** The NIC finished (or could not deliver) a kernel message. */
  *txComplete(cookie: number, delivered: boolean, reason: string, cpu: Cpu): KPath {
    const t = this.tx.get(cookie);
    if (t === undefined) return;
    this.tx.delete(cookie);
    if (t.buffer !== null) this.k.phys.release(t.buffer);
    t.pin?.release();
    if (t.header.srcPid !== 0) this.k.reapZombies();
    if (delivered) return;
    yield step('jobctl', 'undeliverable', this.k.profile.values['kernel.syscallWorkCycles'], `${t.header.type} to node ${t.dstNid}: ${reason}`);
    // A process's request that cannot be delivered is answered here, as a NACK would be.
    if (t.header.srcPid === 0) return;
    const answer = match(t.header.type)
      .with('load', () => 'load-nack' as const)
      .with('status', () => 'status-reply' as const)
      .with('kill', () => 'kill-ack' as const)
      .with('load-ack', 'load-nack', 'status-reply', 'kill-ack', 'exit', 'failed', () => null)
      .exhaustive();
    if (answer === null) return;
    const h = this.header(answer, { dstPid: t.header.srcPid, srcNid: t.dstNid, rank: t.header.rank, jobId: t.header.jobId, code: -1 });
    yield* this.mailbox.deliver(h, new TextEncoder().encode(`node ${t.dstNid} unreachable: ${reason}`), cpu);
  }
}
