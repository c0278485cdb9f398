// Job control in the kernel: the kernel-interpreted messages of the seed's
// job-load proposal. A job-load message creates a rank's process (ACK) or is
// refused with a reason (NACK); app status answers with every CPU context of
// the job's process; app kill kills it and answers affirmatively.
//
// A job's records belong to its launcher. The sending kernel stamps every
// message with its node, the sending pid and that process's uid, so those
// three are what a receiving kernel authenticates. A record is kept after
// its process ends, until the machine forgets the job.
//
// This file receives kernel messages and dispatches them by type; each
// mechanism has its own file: transport.ts (send, completions), mailbox.ts
// (lwk_kmsg_recv), load.ts, control.ts (status/kill), fanin.ts (exit
// fan-in), failnotice.ts (a failed rank tells its launcher), records.ts
// (the state they share).

import { match } from 'ts-pattern';
import type { RxHeader } from '../../hw/nic.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import type { Pin } from '../pin.ts';
import type { Process, Thread } from '../process.ts';
import { RxWaits } from '../rxwaits.ts';
import { type KPath, step } from '../step.ts';
import { kill, status } from './control.ts';
import { killOnRequest } from './failnotice.ts';
import { exit, phase, processEnded, recordOf, reply } from './fanin.ts';
import { type KMsgHeader, type KMsgType, decodeKMsg } from './jobmsg.ts';
import { load, loadRefusal, nack } from './load.ts';
import { type MailItem, Mailboxes } from './mailbox.ts';
import type { JobRecord, JobState, Refusal } from './records.ts';
import { KMsgTransport, MAX_KMSG_PAYLOAD } from './transport.ts';

export { MAX_KMSG_PAYLOAD } from './transport.ts';
export type { MailItem } from './mailbox.ts';
export type { JobRecord, Refusal } from './records.ts';

export class JobControl implements JobState {
  /** Ranks of jobs on this node, by job id (finished ones stay for the report). */
  readonly records = new Map<number, JobRecord>();
  readonly refusals: Refusal[] = [];
  readonly stats = { sent: 0, received: 0, loads: 0, nacks: 0, dropped: 0, forwardsRefused: 0, failureNotices: 0 };
  readonly mailbox: Mailboxes;
  readonly transport: KMsgTransport;
  loading = false;
  /** Fault switch: a hung kernel that never answers kernel messages. */
  silent = false;
  /** What to do when the receive DMA of a message's payload completes, by receive id. */
  private readonly rxDone = new RxWaits();

  constructor(readonly k: Kernel) {
    this.mailbox = new Mailboxes(k, this.stats);
    this.transport = new KMsgTransport(k, this.stats, this.mailbox);
  }

  private get v() {
    return this.k.profile.values;
  }

  // ---- receiving ----------------------------------------------------------------

  /** Whether the receive DMA `rxId` is one of ours (kernel/nicdispatch.ts asks). */
  ownsRx(rxId: number): boolean {
    return this.rxDone.has(rxId);
  }

  /** A payload's receive DMA ended: handle the message if it arrived (a failed one is dropped). */
  *rxComplete(rxId: number, ok: boolean, cpu: Cpu): KPath {
    yield* this.rxDone.complete(rxId, ok, cpu);
  }

  /** A kernel message's header arrived (receive interrupt). */
  *receive(rx: RxHeader, cpu: Cpu): KPath {
    const nic = this.k.node.nic;
    const h = decodeKMsg(rx.header);
    this.stats.received++;
    if (this.silent) {
      nic.discard(rx.rxId);
      return;
    }
    if (h === null) {
      nic.discard(rx.rxId);
      yield step('jobctl', 'drop', this.v['kernel.portalsMatchCycles'], 'malformed kernel message');
      return;
    }
    yield step('jobctl', 'receive', this.v['kernel.portalsMatchCycles'], `${h.type} from node ${h.srcNid} pid ${h.srcPid}`);
    if (h.type === 'load') {
      const refuse = loadRefusal(this, h, rx.payloadLen);
      if (refuse !== null) {
        nic.discard(rx.rxId);
        yield* nack(this, h, refuse, cpu);
        return;
      }
      this.loading = true;
    }
    if (rx.payloadLen === 0) {
      nic.discard(rx.rxId);
      yield* this.handle(h, new Uint8Array(0), cpu);
      return;
    }
    const len = Math.min(rx.payloadLen, MAX_KMSG_PAYLOAD);
    const buf = this.k.phys.alloc(len, 4096);
    if (buf === null) {
      nic.discard(rx.rxId);
      if (h.type === 'load') {
        this.loading = false;
        yield* nack(this, h, `out of memory for a ${len}-byte image`, cpu);
      }
      return;
    }
    const self = this;
    this.rxDone.set(rx.rxId, function* (c) {
      const bytes = new Uint8Array(len);
      self.k.node.memory.read(buf, bytes);
      self.k.phys.release(buf);
      yield* self.handle(h, bytes, c);
    });
    nic.deposit(rx.rxId, buf, len);
  }

  private *handle(h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
    yield* match(h.type)
      .with('load', () => load(this, h, payload, cpu))
      .with('status', () => status(this, h, cpu))
      .with('kill', () => kill(this, h, cpu))
      .with('exit', () => exit(this, h, payload, cpu))
      .with('load-ack', 'load-nack', 'status-reply', 'kill-ack', 'failed', () => reply(this, h, payload, cpu))
      .exhaustive();
  }

  // ---- the kernel's and the syscalls' entry points ----------------------------

  send(dstNid: number, header: KMsgHeader, payload: Uint8Array | null): void {
    this.transport.send(dstNid, header, payload);
  }

  transmit(dstNid: number, header: KMsgHeader, pa: number | null, len: number, buffer: number | null = null, pin: Pin | null = null): void {
    this.transport.transmit(dstNid, header, pa, len, buffer, pin);
  }

  inflight(pid: number): number {
    return this.transport.inflight(pid);
  }

  header(type: KMsgType, fields: Partial<KMsgHeader>): KMsgHeader {
    return this.transport.header(type, fields);
  }

  txComplete(cookie: number, delivered: boolean, reason: string, cpu: Cpu): KPath {
    return this.transport.txComplete(cookie, delivered, reason, cpu);
  }

  takeMail(pid: number): MailItem | undefined {
    return this.mailbox.takeMail(pid);
  }

  takeControlReplies(): MailItem[] {
    return this.mailbox.takeControlReplies();
  }

  addWaiter(pid: number, t: Thread): void {
    this.mailbox.addWaiter(pid, t);
  }

  removeWaiter(pid: number, t: Thread): void {
    this.mailbox.removeWaiter(pid, t);
  }

  recordOf(p: Process): JobRecord | undefined {
    return recordOf(this, p);
  }

  processEnded(p: Process): void {
    processEnded(this, p);
  }

  /** Kills a rank's process on request (remote-task termination): it sends no failure notice. */
  killOnRequest(p: Process, status: number, reason: string): void {
    killOnRequest(this, p, status, reason);
  }

  phase(p: Process, ph: number): boolean {
    return phase(this, p, ph);
  }
}
