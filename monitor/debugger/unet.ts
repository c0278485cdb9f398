// info unet [N]: the U-Net endpoints of a node as the NIC sees them: owner,
// segment, the queue counters read from the segment, channels with their
// tags, and the NIC's drop counters (read through system/inspect.ts).

import type { MonitorSession } from '../session.ts';
import { int } from './words.ts';

export const UNET_INFO = {
  usage: 'unet [N]',
  run(s: MonitorSession, args: string[]): string[] {
    const node = args[0] === undefined ? s.cur.node : s.checkNode(int(args[0], 'node'));
    const v = s.system.inspect.unetView(node);
    s.data = v;
    const n = v.nic;
    const lines = [`  U-Net on node ${node}: ${v.endpoints.length} endpoint(s); NIC sent ${n.sent}, received ${n.received}, forged/unknown tags dropped ${n.forged}, to gone endpoints ${n.deadEndpoint}, control ${n.control}`];
    for (const e of v.endpoints) {
      const q = e.queues;
      lines.push(`  pid ${e.pid} endpoint ${e.handle}: ${e.bytes} B at 0x${e.va.toString(16)} (phys 0x${e.pa.toString(16)}), ${e.entries} slots${e.upcall ? ', upcall on' : ''}`);
      lines.push(`    send ${(q.sendTail - q.sendHead) >>> 0} queued (tail ${q.sendTail}, head ${q.sendHead}); receive ${(q.recvTail - q.recvHead) >>> 0} waiting (tail ${q.recvTail}, head ${q.recvHead}); free ${(q.freeTail - q.freeHead) >>> 0} buffers; drops ${q.drops}`);
      if (e.stats) lines.push(`    sent ${e.stats.sent} (${e.stats.sentBytes} B), received ${e.stats.received} (${e.stats.receivedBytes} B), bad descriptors ${e.stats.badDescriptors}, no buffer ${e.stats.noBuffer}, receive queue full ${e.stats.recvFull}, direct deposits refused ${e.stats.directRefused}`);
      for (const c of e.channels) lines.push(`    chan ${c.chan} -> node ${c.peer.nid} pid ${c.peer.pid} endpoint ${c.peer.ep} chan ${c.peer.chan}: receive tag ${c.rxTag}, send tag ${c.txTag ?? '(opening)'}`);
    }
    return lines;
  },
};
