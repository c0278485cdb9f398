// Kernel mailboxes: replies and exits for a process wait here until it reads
// them with lwk_kmsg_recv (a blocked reader is woken). Messages for pid 0 are
// answers to requests the machine's control API made on this kernel's
// behalf (the monitor's `status` and `kill`).

import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import type { Thread } from '../process.ts';
import type { KPath } from '../step.ts';
import type { KMsgHeader } from './jobmsg.ts';
import type { JobStats } from './records.ts';

/** Messages kept per mailbox; more are dropped and counted. */
const MAILBOX_LIMIT = 65536;

/** What lwk_kmsg_recv hands a process. */
export interface MailItem {
  readonly header: KMsgHeader;
  readonly payload: Uint8Array;
  readonly at: number;
}

export class Mailboxes {
  private readonly mailboxes = new Map<number, MailItem[]>();
  private readonly waiters = new Map<number, Set<Thread>>();

  constructor(
    private readonly k: Kernel,
    private readonly stats: JobStats,
  ) {}

  *deliver(h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
    // Mail for a process that has ended can never be read, and the next process given its pid (a job's
    // ranks all have one pid) must not read it: the kill-acks that reach yod after it has exited go here.
    if (h.dstPid !== 0 && this.k.processes.get(h.dstPid)?.alive !== true) {
      this.stats.dropped++;
      return;
    }
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

  /** A process ended: its mail and waiters go with it. */
  forget(pid: number): void {
    this.mailboxes.delete(pid);
    this.waiters.delete(pid);
  }
}
