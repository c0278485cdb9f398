// The NIC re-checks a message's channel at every step after it demultiplexed it (review 13, finding 2): a
// channel closed, or opened afresh with a new tag, while a message of it is still on its way through the
// receive engine gets none of its data. Driven on the NIC directly, stopping at the step named.

import { describe, expect, it } from 'vitest';
import { Machine } from '../../hw/machine.ts';
import { getProfile } from '../../hw/profile.ts';
import { UNET_DESC, UNET_FREE, UNET_HDR, UNET_STATUS, unetQueues } from '../../hw/unet/layout.ts';
import type { PhysicalMemory } from '../../hw/memory.ts';

const ENTRIES = 8;
const SEG = 64 * 1024;
const BUF = 2048;
const Q = unetQueues(ENTRIES);
const BUFFERS = Math.ceil(Q.buffers / 64) * 64;

function machine(dims = [4]) {
  return new Machine({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims }, seed: 1 });
}

/** A user's view of one endpoint: its memory, its counters, and the NIC that serves it. */
class Ep {
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
function connect(a: Ep, chan: number, b: Ep, chanB: number, tagAtA: number, tagAtB: number) {
  a.m.node(a.node).nic.unet.setChannel(a.id, chan, { peerNode: b.node, txTag: tagAtB, rxTag: tagAtA });
  b.m.node(b.node).nic.unet.setChannel(b.id, chanB, { peerNode: a.node, txTag: tagAtA, rxTag: tagAtB });
}

const bytes = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 31 + seed) & 0xff);


/** a (node 0) sends one 2000-byte message to b (node 2); the run stops once b's NIC has ended step `stopAfter`, then `between` runs. */
function closeDuring(stopAfter: string, between: (b: Ep) => void) {
  const m = machine();
  const a = new Ep(m, 0, 1, 0x100000);
  const b = new Ep(m, 2, 1, 0x200000);
  connect(a, 0, b, 3, 11, 22);
  const nic = m.node(2).nic.unet;
  const steps: string[] = [];
  nic.onStep = (_ep, step) => steps.push(step);
  a.mem.write(a.pa + BUFFERS, bytes(2000, 5));
  a.send(0, BUFFERS, 2000);
  m.engine.runWhile(() => !steps.includes(stopAfter));
  between(b);
  m.engine.runUntilIdle();
  return { got: b.take(), freeHead: b.word(UNET_HDR.FREE_HEAD), forged: nic.stats.forged, steps };
}

describe('a channel closed while one of its messages is in the receiving NIC', () => {
  it('gets nothing when it closes between the demultiplexing and the free-buffer fetch, and keeps its buffers', () => {
    const r = closeDuring('recv-demux', (b) => b.m.node(2).nic.unet.clearChannel(b.id, 3));
    expect(r.got).toEqual([]);
    expect(r.freeHead).toBe(0);
    expect(r.forged).toBe(1);
  });

  it('gets the taken buffer back with no data (CHANNEL_CLOSED) when it is opened afresh while the data moves', () => {
    const r = closeDuring('free-fetch', (b) => {
      const nic = b.m.node(2).nic.unet;
      nic.clearChannel(b.id, 3);
      nic.setChannel(b.id, 3, { peerNode: 0, txTag: 44, rxTag: 33 }); // the owner's new open: a new tag
    });
    expect(r.freeHead).toBe(1);
    expect(r.got.map(({ chan, offset, len, status }) => ({ chan, offset, len, status }))).toEqual([{ chan: 3, offset: BUFFERS + ENTRIES * BUF, len: 0, status: UNET_STATUS.CHANNEL_CLOSED }]);
    expect(r.forged).toBe(1);
  });

  it('still gets a message whose channel was left alone', () => {
    const r = closeDuring('free-fetch', () => {});
    expect(r.got.map(({ len, status }) => ({ len, status }))).toEqual([{ len: 2000, status: UNET_STATUS.OK }]);
    expect(r.got[0].data).toEqual(bytes(2000, 5));
    expect(r.forged).toBe(0);
  });
});
