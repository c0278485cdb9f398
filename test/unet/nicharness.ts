// A user's view of U-Net endpoints programmed straight on the NIC, as a
// kernel and a user's stores would: the harness the NIC-level tests share.

import { Machine } from '../../hw/machine.ts';
import type { PhysicalMemory } from '../../hw/memory.ts';
import { getProfile } from '../../hw/profile.ts';
import { UNET_DESC, UNET_FREE, UNET_HDR, UNET_STATUS, unetQueues } from '../../hw/unet/layout.ts';

export const ENTRIES = 8;
export const SEG = 64 * 1024;
export const BUF = 2048;
export const Q = unetQueues(ENTRIES);
export const BUFFERS = Math.ceil(Q.buffers / 64) * 64;

export function machine(dims = [4]) {
  return new Machine({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims }, seed: 1 });
}

/** A user's view of one endpoint: its memory, its counters, and the NIC that serves it. */
export class Ep {
  sendTail = 0;
  recvHead = 0;
  freeTail = 0;
  constructor(
    readonly m: Machine,
    readonly node: number,
    readonly id: number,
    readonly pa: number,
    entries = ENTRIES,
    freeBuffers = ENTRIES,
  ) {
    m.node(node).nic.unet.createEndpoint({ id, segPa: pa, segLen: SEG, entries, upcall: false, owner: id });
    for (let i = 0; i < freeBuffers; i++) this.postFree(BUFFERS + (ENTRIES + i) * BUF, BUF);
  }
  get mem(): PhysicalMemory {
    return this.m.node(this.node).memory;
  }
  words(at: number, ...v: number[]) {
    const b = new Uint8Array(v.length * 4);
    v.forEach((x, i) => new DataView(b.buffer).setUint32(i * 4, x >>> 0, true));
    this.mem.write(this.pa + at, b);
  }
  word(at: number) {
    return this.mem.readU32(this.pa + at);
  }
  postFree(offset: number, len: number) {
    this.words(Q.free + (this.freeTail % ENTRIES) * UNET_FREE.SIZE, offset, len);
    this.words(UNET_HDR.FREE_TAIL, ++this.freeTail);
  }
  /** Writes a descriptor and rings the doorbell. */
  send(chan: number, offset: number, len: number, flags = 0, roffset = 0) {
    this.words(Q.send + (this.sendTail % ENTRIES) * UNET_DESC.SIZE, chan, flags, offset, len, roffset, UNET_STATUS.PENDING);
    this.words(UNET_HDR.SEND_TAIL, ++this.sendTail);
  }
  sendStatus(n: number) {
    return this.word(Q.send + (n % ENTRIES) * UNET_DESC.SIZE + UNET_DESC.STATUS);
  }
  /** Received descriptors not yet consumed, consuming them (not re-posting buffers). */
  take(): { chan: number; offset: number; len: number; status: number; data: Uint8Array }[] {
    const out = [];
    while (this.word(UNET_HDR.RECV_TAIL) !== this.recvHead) {
      const at = Q.recv + (this.recvHead % ENTRIES) * UNET_DESC.SIZE;
      const d = { chan: this.word(at + UNET_DESC.CHAN), offset: this.word(at + UNET_DESC.OFFSET), len: this.word(at + UNET_DESC.LEN), status: this.word(at + UNET_DESC.STATUS) };
      const data = new Uint8Array(d.len);
      if (d.len > 0) this.mem.read(this.pa + d.offset, data);
      out.push({ ...d, data });
      this.words(UNET_HDR.RECV_HEAD, ++this.recvHead);
    }
    return out;
  }
}

/** Channel `chan` of a to channel `chanB` of b, with tags as two kernels would assign them. */
export function connect(a: Ep, chan: number, b: Ep, chanB: number, tagAtA: number, tagAtB: number) {
  a.m.node(a.node).nic.unet.setChannel(a.id, chan, { peerNode: b.node, txTag: tagAtB, rxTag: tagAtA });
  b.m.node(b.node).nic.unet.setChannel(b.id, chanB, { peerNode: a.node, txTag: tagAtA, rxTag: tagAtB });
}

export const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);
