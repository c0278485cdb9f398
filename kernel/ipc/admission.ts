// Admission to a port's queue. A port queues at most QUEUE_LIMIT messages,
// and one sending task (its node and its incarnation there, stamped by its
// kernel: kernel/incarnations.ts; not its pid, which a later process on the
// node has too, as every yod-loaded rank is pid 100) at most
// SENDER_SHARE of them, so one flooding task cannot take the whole queue
// from the port's other clients: it fills its own share and is refused.
// A message past either bound is refused, never dropped silently: the
// one-way ipc_send returns -EAGAIN (as POSIX mq_send does on a full
// non-blocking queue, and Mach's msg_send with a zero timeout returns
// SEND_TIMED_OUT), and an RPC whose request is refused returns -EAGAIN.
// Refusing rather than blocking the sender keeps a send to another node one
// request and its answer: no flow control across the transport, and no
// sender waiting on a receiver that may never drain the queue.

import type { Port, PortMsg } from './ports.ts';

/** Messages a port queues (queued plus waiting for an NMS registration). */
export const QUEUE_LIMIT = 1024;

/** Of those, messages from one sending task. */
export const SENDER_SHARE = 128;

export class Admission {
  /** Per port: messages queued (or in its backlog) by sender. */
  private readonly counts = new WeakMap<Port, Map<string, number>>();
  private readonly senderOf = new WeakMap<PortMsg, string>();

  /** Whether `m` from `sender` may join `port`'s queue, whose length (with its backlog) is `queued`; if so it counts in. */
  admit(port: Port, queued: number, m: PortMsg, sender: string): 'ok' | 'queue full' | 'sender share full' {
    let c = this.counts.get(port);
    if (c === undefined) this.counts.set(port, (c = new Map()));
    const mine = c.get(sender) ?? 0;
    if (queued >= QUEUE_LIMIT) return 'queue full';
    if (mine >= SENDER_SHARE) return 'sender share full';
    c.set(sender, mine + 1);
    this.senderOf.set(m, sender);
    return 'ok';
  }

  /** `m` left the queue (a receiver has it): its sender's share has room again. */
  left(port: Port, m: PortMsg): void {
    const sender = this.senderOf.get(m);
    const c = this.counts.get(port);
    if (sender === undefined || c === undefined) return;
    const n = (c.get(sender) ?? 0) - 1;
    if (n > 0) c.set(sender, n);
    else c.delete(sender);
  }

  /** `m` went back to the head of the queue (a receiver could not take it). */
  back(port: Port, m: PortMsg): void {
    const sender = this.senderOf.get(m);
    const c = this.counts.get(port);
    if (sender === undefined || c === undefined) return;
    c.set(sender, (c.get(sender) ?? 0) + 1);
  }

  /** Messages from `sender` on `port` now (for tests and info). */
  of(port: Port, sender: string): number {
    return this.counts.get(port)?.get(sender) ?? 0;
  }
}
