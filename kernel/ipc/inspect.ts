// What the inspection API hands the monitor of distributed IPC (`info ipc`):
// per booted node, the transport's personality and counters, what it has in
// flight, the kernel requests waiting for replies, and the ports homed there
// (monitor/debugger/ipc.ts prints them). Read-only: nothing here changes the transport's or the ports' state.

import type { Kernel } from '../kernel.ts';
import type { KktStats } from './kkt.ts';

export interface IpcPortView {
  readonly id: number;
  readonly ownerPid: number;
  readonly nms: boolean;
  readonly reply: boolean;
  readonly queued: number;
  readonly receivers: number;
  readonly remoteSenders: readonly number[];
}

export interface IpcNodeView {
  readonly node: number;
  readonly transport: string;
  readonly stats: KktStats;
  readonly inFlight: number;
  readonly waitingReplies: number;
  readonly forgeries: number;
  readonly nmsUpdates: number;
  readonly nmsNotifications: number;
  readonly ports: readonly IpcPortView[];
}

/** Nodes where distributed IPC did anything (or `node` alone). */
export function ipcView(kernels: readonly Kernel[], node?: number): IpcNodeView[] {
  return kernels
    .filter((k) => (node === undefined ? k.ipc.transport.stats.messagesSent + k.ipc.transport.stats.messagesDelivered + k.ports.ports.size > 0 : k.nid === node))
    .map((k) => ({
      node: k.nid,
      transport: k.ipc.transport.p.name,
      stats: { ...k.ipc.transport.stats },
      inFlight: k.ipc.transport.inFlight,
      waitingReplies: k.ipc.waiting,
      forgeries: k.ports.stats.forgeries,
      nmsUpdates: k.ports.stats.nmsUpdates,
      nmsNotifications: k.ports.stats.nmsNotifications,
      ports: [...k.ports.ports.values()].map((p) => ({ id: p.id, ownerPid: p.owner.pid, nms: p.nms, reply: p.isReply, queued: p.queue.length, receivers: p.waiters.length, remoteSenders: [...p.remoteSenders].sort((a, b) => a - b) })),
    }));
}
