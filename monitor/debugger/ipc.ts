// `info ipc`: each node's distributed-IPC transport counters and ports, as
// system/inspect.ts's ipcView hands them over.

import type { IpcNodeView } from '../../kernel/ipc/inspect.ts';

/** The lines `info ipc` prints. */
export function ipcLines(views: readonly IpcNodeView[]): string[] {
  if (views.length === 0) return ['no distributed IPC on the booted nodes'];
  return views.flatMap((v) => [
    `node ${v.node} (${v.transport}): ${v.stats.messagesSent} sent in ${v.stats.blocksSent} block(s), ${v.stats.messagesDelivered} delivered (${v.stats.bytesDelivered} B), acks ${v.stats.acksSent} sent / ${v.stats.acksReceived} received, ${v.inFlight} in flight (most ${v.stats.maxInFlight}), ${v.waitingReplies} waiting for replies, ${v.stats.dropped} dropped, ${v.stats.failed} failed, ${v.forgeries} forged names, NMS ${v.nmsUpdates} updates / ${v.nmsNotifications} notifications`,
    ...v.ports.map((p) => `  port ${p.id}: pid ${p.ownerPid}${p.reply ? ' (reply)' : ''}${p.nms ? ' nms' : ''}, ${p.queued} queued, ${p.receivers} receiving${p.remoteSenders.length > 0 ? `, senders on nodes ${p.remoteSenders.join(',')}` : ''}`),
  ]);
}
