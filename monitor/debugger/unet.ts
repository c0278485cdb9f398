// info unet [N]: the U-Net endpoints of a node as the NIC sees them: owner,
// segment, the six queue counters read from the segment, channels with
// their tags, and the NIC's drop counters.

import { UNET_HDR } from '../../hw/unet/layout.ts';
import type { MonitorSession } from '../session.ts';
import { int } from './words.ts';

export const UNET_INFO = {
  usage: 'unet [N]',
  run(s: MonitorSession, args: string[]): string[] {
    const node = args[0] === undefined ? s.cur.node : s.checkNode(int(args[0], 'node'));
    const k = s.system.kernel(node);
    const nic = k.node.nic.unet;
    const mem = k.node.memory;
    const eps = k.unet.all().map((e) => {
      const hw = nic.endpoint(e.id);
      const w = (off: number) => mem.readU32(e.segPa + off);
      const q = { sendTail: w(UNET_HDR.SEND_TAIL), sendHead: w(UNET_HDR.SEND_HEAD), recvTail: w(UNET_HDR.RECV_TAIL), recvHead: w(UNET_HDR.RECV_HEAD), freeTail: w(UNET_HDR.FREE_TAIL), freeHead: w(UNET_HDR.FREE_HEAD), drops: w(UNET_HDR.DROPS) };
      const channels = [...e.channels.entries()].map(([chan, c]) => ({ chan, peer: c.peer, rxTag: c.rxTag, txTag: c.txTag }));
      return { pid: e.owner.pid, handle: e.handle, nicId: e.id, va: e.va, bytes: e.len, pa: e.segPa, entries: e.entries, upcall: e.upcall, queues: q, channels, stats: hw?.stats ?? null };
    });
    s.data = { node, endpoints: eps, nic: nic.stats };
    const lines = [`  U-Net on node ${node}: ${eps.length} endpoint(s); NIC sent ${nic.stats.sent}, received ${nic.stats.received}, forged/unknown tags dropped ${nic.stats.forged}, to gone endpoints ${nic.stats.deadEndpoint}, control ${nic.stats.control}`];
    for (const e of eps) {
      const q = e.queues;
      lines.push(`  pid ${e.pid} endpoint ${e.handle}: ${e.bytes} B at 0x${e.va.toString(16)} (phys 0x${e.pa.toString(16)}), ${e.entries} slots${e.upcall ? ', upcall on' : ''}`);
      lines.push(`    send ${(q.sendTail - q.sendHead) >>> 0} queued (tail ${q.sendTail}, head ${q.sendHead}); receive ${(q.recvTail - q.recvHead) >>> 0} waiting (tail ${q.recvTail}, head ${q.recvHead}); free ${(q.freeTail - q.freeHead) >>> 0} buffers; drops ${q.drops}`);
      if (e.stats) lines.push(`    sent ${e.stats.sent} (${e.stats.sentBytes} B), received ${e.stats.received} (${e.stats.receivedBytes} B), bad descriptors ${e.stats.badDescriptors}, no buffer ${e.stats.noBuffer}, receive queue full ${e.stats.recvFull}`);
      for (const c of e.channels) lines.push(`    chan ${c.chan} -> node ${c.peer.nid} pid ${c.peer.pid} endpoint ${c.peer.ep} chan ${c.peer.chan}: receive tag ${c.rxTag}, send tag ${c.txTag ?? '(opening)'}`);
    }
    return lines;
  },
};
