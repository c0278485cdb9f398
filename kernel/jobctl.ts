// Job control in the kernel: the kernel-interpreted messages of the seed's
// job-load proposal. A job-load message creates a rank's process (ACK) or is
// refused with a reason (NACK); app status answers with every CPU context of
// the job's process; app kill kills it and answers affirmatively. Kernels do
// not store and forward: the service node sends kill to every node itself.
//
// Exit status fans in at kernel level: a kernel knows its parent (the
// sender of the load) and its children (the loads its process sent that
// were ACKed); once its own process has ended and every child subtree has
// reported, it sends one EXIT with the subtree's combined summary. This
// keeps the fan-in scalable (one message per tree edge, none of the N-1
// messages into the service node the seed warns about) and it survives a
// rank that faults: its kernel still reports, so no subtree is orphaned.
//
// A job's records belong to its launcher. The sending kernel stamps every
// message with its node, the sending pid and that process's uid, so those
// three are what a receiving kernel authenticates. A rank's record is
// created once, by a load from the launcher (yod, named in the job block) or
// from a rank of the same job (a parent in the load tree), and is never
// replaced: it keeps its owner after its process ends, until the machine
// forgets the job. App status and app kill are honoured only from the
// launcher (or from root, the service node's kernel acting for the
// monitor); anyone else gets the answer a job that does not exist gets.
//
// Replies and exits for a process go into its kernel mailbox, which it reads
// with lwk_kmsg_recv. Messages for pid 0 are answers to requests the
// machine's control API made on this kernel's behalf (the monitor's
// `status` and `kill`).

import { match } from 'ts-pattern';
import type { RxHeader } from '../hw/nic.ts';
import { KMSG } from './abi.ts';
import type { Cpu } from './cpu.ts';
import { parseImage } from './image.ts';
import { type JobBlock, RangeJobMap, parseJobBlock } from './jobblock.ts';
import { type ExitSummary, type KMsgHeader, type KMsgType, NO_SUMMARY, decodeKMsg, encodeKMsg, mergeSummary } from './jobmsg.ts';
import type { Kernel } from './kernel.ts';
import { COOKIE_BASE } from './nicwire.ts';
import { Pin } from './pin.ts';
import type { Process, Thread } from './process.ts';
import { type KPath, step } from './step.ts';

/** Largest payload a kernel message may carry (an image plus its job block). */
export const MAX_KMSG_PAYLOAD = 64 * 1024 * 1024;
/** Messages kept per mailbox; more are dropped and counted. */
const MAILBOX_LIMIT = 65536;

/** What lwk_kmsg_recv hands a process. */
export interface MailItem {
  readonly header: KMsgHeader;
  readonly payload: Uint8Array;
  readonly at: number;
}

/** This node's rank of a loaded job. */
export interface JobRecord {
  readonly jobId: number;
  readonly rank: number;
  readonly size: number;
  readonly parentNid: number;
  readonly parentPid: number;
  readonly block: JobBlock;
  /** The job's owner: the uid the loading kernel stamped on the load. */
  readonly uid: number;
  process: Process;
  /** The process is being replaced by exec: its end is not the rank's end. */
  execing: boolean;
  /** Children whose kernels ACKed a load from this rank, until their EXIT arrives. */
  readonly children: Map<number, 'acked' | 'exited'>;
  processDone: boolean;
  summary: ExitSummary;
  readonly loadedAt: number;
  mainAt: number;
  mainDoneAt: number;
  exitSentAt: number;
}

/** A load this kernel refused: the report names the reason for ranks that never started. */
export interface Refusal {
  readonly jobId: number;
  readonly rank: number;
  readonly reason: string;
  readonly at: number;
}

interface TxRecord {
  readonly header: KMsgHeader;
  readonly dstNid: number;
  /** Kernel buffer holding the payload, released when the send completes. */
  readonly buffer: number | null;
  /** Pin on a process's payload frames until the NIC has read them (see transmit). */
  readonly pin: Pin | null;
}

export class JobControl {
  private readonly mailboxes = new Map<number, MailItem[]>();
  private readonly waiters = new Map<number, Set<Thread>>();
  /** Ranks of jobs on this node, by job id (finished ones stay for the report). */
  readonly records = new Map<number, JobRecord>();
  readonly refusals: Refusal[] = [];
  readonly stats = { sent: 0, received: 0, loads: 0, nacks: 0, dropped: 0 };
  private readonly tx = new Map<number, TxRecord>();
  private nextCookie = COOKIE_BASE.kernelMessage;
  /** What to do when the receive DMA of a message's payload completes, by receive id. */
  private readonly rxDone = new Map<number, (cpu: Cpu) => KPath>();
  private loading = false;
  /** Fault switch: a hung kernel that never answers kernel messages. */
  silent = false;

  constructor(private readonly k: Kernel) {}

  private get v() {
    return this.k.profile.values;
  }

  private copyCycles(bytes: number): number {
    return Math.ceil(bytes / this.v['kernel.copyBytesPerCycle']);
  }

  /** The live record of a process, if it is a rank of a loaded job. */
  recordOf(p: Process): JobRecord | undefined {
    for (const r of this.records.values()) if (r.process === p) return r;
    return undefined;
  }

  // ---- sending ----------------------------------------------------------------

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
    return { type, dstPid: 0, srcNid: this.k.nid, srcPid: 0, rank: 0, uid: 0, jobId: 0, imageLen: 0, code: 0, jobSize: 0, summary: NO_SUMMARY, ...fields };
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
    yield step('jobctl', 'undeliverable', this.v['kernel.syscallWorkCycles'], `${t.header.type} to node ${t.dstNid}: ${reason}`);
    // A process's request that cannot be delivered is answered here, as a NACK would be.
    if (t.header.srcPid === 0) return;
    const answer = match(t.header.type)
      .with('load', () => 'load-nack' as const)
      .with('status', () => 'status-reply' as const)
      .with('kill', () => 'kill-ack' as const)
      .with('load-ack', 'load-nack', 'status-reply', 'kill-ack', 'exit', () => null)
      .exhaustive();
    if (answer === null) return;
    const h = this.header(answer, { dstPid: t.header.srcPid, srcNid: t.dstNid, rank: t.header.rank, jobId: t.header.jobId, code: -1 });
    yield* this.deliver(h, new TextEncoder().encode(`node ${t.dstNid} unreachable: ${reason}`), cpu);
  }

  // ---- receiving ----------------------------------------------------------------

  /** Whether the receive DMA `rxId` is one of ours (kernel/nicdispatch.ts asks). */
  ownsRx(rxId: number): boolean {
    return this.rxDone.has(rxId);
  }

  /** A payload's receive DMA ended: handle the message if it arrived (a failed one is dropped). */
  *rxComplete(rxId: number, ok: boolean, cpu: Cpu): KPath {
    const then = this.rxDone.get(rxId);
    this.rxDone.delete(rxId);
    if (ok && then !== undefined) yield* then(cpu);
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
      const refuse = this.loadRefusal(h, rx.payloadLen);
      if (refuse !== null) {
        nic.discard(rx.rxId);
        yield* this.nack(h, refuse, cpu);
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
        yield* this.nack(h, `out of memory for a ${len}-byte image`, cpu);
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

  /** Why a load cannot even be received, or null. */
  private loadRefusal(h: KMsgHeader, payloadLen: number): string | null {
    // A record is never replaced, even after its rank ended: its exit fan-in may still be under way.
    if (this.records.has(h.jobId)) return `job ${h.jobId} already has a rank on node ${this.k.nid}`;
    const busy = this.k.liveProcesses()[0];
    if (busy !== undefined) return `node busy: pid ${busy.pid} (${busy.name}) is running`;
    if (this.loading) return 'node busy: another job load is in progress';
    if (payloadLen > MAX_KMSG_PAYLOAD) return `image of ${payloadLen} bytes is larger than ${MAX_KMSG_PAYLOAD}`;
    if (h.imageLen <= 0 || h.imageLen > payloadLen) return `image length ${h.imageLen} does not fit the ${payloadLen}-byte message`;
    return null;
  }

  private *handle(h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
    yield* match(h.type)
      .with('load', () => this.load(h, payload, cpu))
      .with('status', () => this.status(h, cpu))
      .with('kill', () => this.kill(h, cpu))
      .with('exit', () => this.exit(h, payload, cpu))
      .with('load-ack', 'load-nack', 'status-reply', 'kill-ack', () => this.reply(h, payload, cpu))
      .exhaustive();
  }

  /** Job load: validate the image and the job block, create the process, ACK. */
  private *load(h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
    try {
      yield step('jobload', 'verify', this.copyCycles(payload.length), `${h.imageLen}-byte image for rank ${h.rank} of job ${h.jobId}`);
      const img = parseImage(payload.subarray(0, h.imageLen));
      if (!img.ok) return yield* this.nack(h, `bad image: ${img.reason}`, cpu);
      const jb = parseJobBlock(payload.subarray(h.imageLen), this.k.host.nodeCount);
      if (!jb.ok) return yield* this.nack(h, jb.reason, cpu);
      const block = jb.block;
      const map = new RangeJobMap(block.ranges, block.size, block.pid);
      if (block.jobId !== h.jobId) return yield* this.nack(h, `job block is for job ${block.jobId}, the message for job ${h.jobId}`, cpu);
      const fromLauncher = h.srcNid === block.serviceNid && h.srcPid === block.servicePid;
      const fromRank = h.srcPid === block.pid && map.hasNode(h.srcNid);
      if (!fromLauncher && !fromRank) return yield* this.nack(h, `a load must come from the job's launcher (node ${block.serviceNid} pid ${block.servicePid}) or one of its ranks, not node ${h.srcNid} pid ${h.srcPid}`, cpu);
      if (h.rank < 0 || h.rank >= block.size) return yield* this.nack(h, `rank ${h.rank} is outside the job's ${block.size} ranks`, cpu);
      if (map.at(h.rank).nid !== this.k.nid) return yield* this.nack(h, `rank ${h.rank} belongs on node ${map.at(h.rank).nid}, not ${this.k.nid}`, cpu);
      const code = this.k.host.catalog.instantiate(img.image.textHash);
      if (code === null) return yield* this.nack(h, `no code for the text of '${img.image.name}' (unknown program)`, cpu);
      let p: Process;
      try {
        p = this.k.spawn(
          { name: img.image.name, textBytes: img.image.textBytes, dataBytes: img.image.dataBytes, bssBytes: img.image.bssBytes, data: img.image.data, text: img.image.text, instantiate: () => code },
          { rank: h.rank, jobSize: block.size, jobMap: map, uid: h.uid, argv: block.argv, envp: block.envp },
          { pid: block.pid, jobBlock: block.bytes, image: payload },
        );
      } catch (e) {
        return yield* this.nack(h, `cannot create the process: ${(e as Error).message}`, cpu);
      }
      yield step('jobload', 'create', this.copyCycles(payload.length) + this.v['kernel.mapPageCycles'] * 8, `pid ${p.pid} ${p.name} uid ${h.uid}`);
      this.stats.loads++;
      this.records.set(h.jobId, {
        jobId: h.jobId,
        rank: h.rank,
        size: block.size,
        parentNid: h.srcNid,
        parentPid: h.srcPid,
        block,
        uid: h.uid,
        process: p,
        execing: false,
        children: new Map(),
        processDone: false,
        summary: NO_SUMMARY,
        loadedAt: this.k.engine.now,
        mainAt: -1,
        mainDoneAt: -1,
        exitSentAt: -1,
      });
      this.send(h.srcNid, this.header('load-ack', { dstPid: h.srcPid, srcPid: p.pid, rank: h.rank, jobId: h.jobId }), null);
      yield step('jobload', 'ack', this.v['kernel.portalsSetupCycles'], `rank ${h.rank} to node ${h.srcNid}`);
    } finally {
      this.loading = false;
    }
  }

  /** The record a status or kill may see: to anyone but the launcher, the job does not exist here. */
  private visibleRecord(h: KMsgHeader): JobRecord | undefined {
    const r = this.records.get(h.jobId);
    return r !== undefined && fromLauncher(h, r) ? r : undefined;
  }

  private *nack(h: KMsgHeader, reason: string, cpu: Cpu): KPath {
    this.stats.nacks++;
    this.refusals.push({ jobId: h.jobId, rank: h.rank, reason, at: this.k.engine.now });
    if (this.refusals.length > 1000) this.refusals.shift();
    yield step('jobload', 'nack', this.v['kernel.portalsSetupCycles'], `rank ${h.rank}: ${reason}`);
    this.send(h.srcNid, this.header('load-nack', { dstPid: h.srcPid, rank: h.rank, jobId: h.jobId, code: 1 }), new TextEncoder().encode(reason));
    void cpu;
  }

  /** App status: a dump of every CPU context of the job's process. */
  private *status(h: KMsgHeader, _cpu: Cpu): KPath {
    const r = this.visibleRecord(h);
    const lines: string[] = [];
    if (r === undefined || !r.process.alive) lines.push(`node ${this.k.nid}: no live process of job ${h.jobId}`);
    else {
      const p = r.process;
      for (const t of p.threads) {
        if (t.state === 'dead') continue;
        const regs = ['rip', 'rsp', 'rax', 'rdi', 'rsi', 'rdx', 'rflags', 'cr3'] as const;
        lines.push(`node ${this.k.nid} rank ${r.rank} pid ${p.pid} (${p.name}) tid ${t.tid} core ${t.home} ${t.state}: ${regs.map((x) => `${x}=0x${t.cpu.get(x).toString(16)}`).join(' ')}`);
      }
    }
    const text = lines.join('\n') + '\n';
    yield step('jobctl', 'status', this.copyCycles(text.length) + this.v['kernel.syscallWorkCycles'], `${lines.length} context(s)`);
    this.send(h.srcNid, this.header('status-reply', { dstPid: h.srcPid, rank: r?.rank ?? -1, jobId: h.jobId, code: lines.length }), new TextEncoder().encode(text));
  }

  /** App kill: kill the job's process here and answer affirmatively. */
  private *kill(h: KMsgHeader, _cpu: Cpu): KPath {
    const r = this.visibleRecord(h);
    let killed = 0;
    if (r !== undefined && r.process.alive) {
      this.k.killProcess(r.process, 137, `killed by app kill from node ${h.srcNid}`);
      killed = 1;
    }
    yield step('jobctl', 'kill', this.v['kernel.syscallWorkCycles'], `job ${h.jobId}: ${killed} process(es)`);
    this.send(h.srcNid, this.header('kill-ack', { dstPid: h.srcPid, rank: r?.rank ?? -1, jobId: h.jobId, code: killed }), null);
  }

  /** A child subtree's exit summary: combine it, or hand it to the process it is for (yod). */
  private *exit(h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
    const r = this.records.get(h.jobId);
    if (r !== undefined && r.process.pid === h.dstPid && r.exitSentAt < 0 && r.children.get(h.srcNid) === 'acked') {
      r.children.set(h.srcNid, 'exited');
      r.summary = mergeSummary(r.summary, h.summary);
      yield step('jobctl', 'exit-fanin', this.v['kernel.syscallWorkCycles'], `subtree of rank ${h.rank}: ${h.summary.ranks} rank(s), ${h.summary.failed} failed`);
      this.maybeReportExit(r);
      return;
    }
    yield* this.reply(h, payload, cpu);
  }

  /** A reply (or an exit summary) for a process on this node: record children, then the mailbox. */
  private *reply(h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
    if (h.type === 'load-ack') {
      const r = this.records.get(h.jobId);
      if (r !== undefined && r.process.pid === h.dstPid && !r.children.has(h.srcNid)) r.children.set(h.srcNid, 'acked');
    }
    yield* this.deliver(h, payload, cpu);
  }

  private *deliver(h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
    let box = this.mailboxes.get(h.dstPid);
    if (box === undefined) this.mailboxes.set(h.dstPid, (box = []));
    if (box.length >= MAILBOX_LIMIT) {
      this.stats.dropped++;
      return;
    }
    box.push({ header: h, payload, at: this.k.engine.now });
    const ws = this.waiters.get(h.dstPid);
    if (ws === undefined) return;
    this.waiters.delete(h.dstPid);
    for (const t of ws) yield* this.k.wake(t, 'kmsg', cpu);
  }

  // ---- process side -------------------------------------------------------------

  takeMail(pid: number): MailItem | undefined {
    return this.mailboxes.get(pid)?.shift();
  }

  /** Messages answering the control API's requests (pid 0), taken in arrival order. */
  takeControlReplies(): MailItem[] {
    const box = this.mailboxes.get(0) ?? [];
    this.mailboxes.set(0, []);
    return box;
  }

  addWaiter(pid: number, t: Thread): void {
    let ws = this.waiters.get(pid);
    if (ws === undefined) this.waiters.set(pid, (ws = new Set()));
    ws.add(t);
  }

  removeWaiter(pid: number, t: Thread): void {
    this.waiters.get(pid)?.delete(t);
  }

  /** The kernel ended a process: a rank's end starts its exit fan-in. */
  processEnded(p: Process): void {
    this.mailboxes.delete(p.pid);
    this.waiters.delete(p.pid);
    const r = this.recordOf(p);
    if (r === undefined || r.execing || r.processDone) return;
    r.processDone = true;
    if (r.mainDoneAt < 0) r.mainDoneAt = this.k.engine.now;
    const status = p.exitStatus ?? 0;
    const own: ExitSummary = status === 0 ? { ranks: 1, failed: 0, firstFailedRank: -1, firstFailedStatus: 0 } : { ranks: 1, failed: 1, firstFailedRank: r.rank, firstFailedStatus: status };
    r.summary = mergeSummary(r.summary, own);
    this.maybeReportExit(r);
  }

  private maybeReportExit(r: JobRecord): void {
    if (!r.processDone || r.exitSentAt >= 0) return;
    for (const state of r.children.values()) if (state === 'acked') return;
    r.exitSentAt = this.k.engine.now;
    this.send(r.parentNid, this.header('exit', { dstPid: r.parentPid, srcPid: r.process.pid, rank: r.rank, jobId: r.jobId, summary: r.summary }), null);
  }

  /** lwk_job_phase: a rank reports entering main or main returning. */
  phase(p: Process, phase: number): boolean {
    const r = this.recordOf(p);
    if (r === undefined) return false;
    const now = this.k.engine.now;
    if (phase === KMSG.PHASE_MAIN && r.mainAt < 0) r.mainAt = now;
    else if (phase === KMSG.PHASE_MAIN_DONE && r.mainDoneAt < 0) r.mainDoneAt = now;
    return true;
  }
}

/** App status and app kill are honoured from the job's launcher (its node, pid and uid) or from root (uid 0: the service node's kernel for the monitor). */
function fromLauncher(h: KMsgHeader, r: JobRecord): boolean {
  return h.uid === 0 || (h.uid === r.uid && h.srcNid === r.block.serviceNid && h.srcPid === r.block.servicePid);
}
