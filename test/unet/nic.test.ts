// U-Net on the NIC, programmed directly as the kernel would: descriptors
// and doorbells are plain memory writes, as a user's stores are.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UNET_DESC, UNET_FLAG, UNET_FREE, UNET_HDR, UNET_LIMITS, UNET_STATUS } from '../../hw/unet/layout.ts';
import { BUF, BUFFERS, ENTRIES, Ep, Q, SEG, bytes, connect, machine } from './nicharness.ts';

describe('U-Net endpoints on the NIC', () => {
  it('sends a message from the segment on a doorbell store and delivers it into a free buffer of the peer, with no host involvement', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 2, 1, 0x200000);
    connect(a, 0, b, 3, 11, 22);
    a.mem.write(a.pa + BUFFERS, bytes(1500, 7));
    a.send(0, BUFFERS, 1500);
    m.engine.runUntilIdle();
    const [got] = b.take();
    expect(got).toMatchObject({ chan: 3, len: 1500, status: UNET_STATUS.OK });
    expect(got.data).toEqual(bytes(1500, 7));
    expect(a.word(UNET_HDR.SEND_HEAD)).toBe(1);
    expect(a.sendStatus(0)).toBe(UNET_STATUS.OK);
    // No interrupt: the host was never told.
    expect(m.node(2).cores[0].apic.highestIrr()).toBe(-1);
  });

  it('demultiplexes by tag: each endpoint receives only the messages of its own channels', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b1 = new Ep(m, 1, 1, 0x200000);
    const b2 = new Ep(m, 1, 2, 0x300000);
    connect(a, 0, b1, 0, 5, 6);
    connect(a, 1, b2, 4, 7, 8);
    a.mem.write(a.pa + BUFFERS, new Uint8Array([1]));
    a.mem.write(a.pa + BUFFERS + BUF, new Uint8Array([2]));
    a.send(1, BUFFERS + BUF, 1);
    a.send(0, BUFFERS, 1);
    a.send(1, BUFFERS + BUF, 1);
    m.engine.runUntilIdle();
    expect(b1.take().map((r) => [r.chan, r.data[0]])).toEqual([[0, 1]]);
    expect(b2.take().map((r) => [r.chan, r.data[0]])).toEqual([[4, 2], [4, 2]]);
  });

  it('delivers the messages of a channel in the order they were sent, whatever their sizes', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 3, 1, 0x200000);
    connect(a, 0, b, 0, 1, 2);
    const sizes = [2000, 0, 1, 1999, 64, 0, 2048, 3];
    const seen: number[] = [];
    let sent = 0;
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < sizes.length; i++) {
        a.mem.write(a.pa + BUFFERS + i * BUF, bytes(sizes[i], sent));
        a.mem.writeU8(a.pa + BUFFERS + i * BUF, sent & 0xff);
        a.send(0, BUFFERS + i * BUF, Math.max(1, sizes[i]));
        sent++;
      }
      m.engine.runUntilIdle();
      for (const r of b.take()) {
        seen.push(r.data[0]);
        b.postFree(r.offset, BUF);
      }
    }
    expect(seen).toEqual(Array.from({ length: sent }, (_, i) => i));
  });

  it('refuses bad descriptors with a status and sends nothing: closed channel, buffer outside the segment, too long, unknown flags', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 1, 1, 0x200000);
    connect(a, 0, b, 0, 1, 2);
    // A secret just past the segment: a descriptor reaching for it must not send it.
    a.mem.write(a.pa + SEG, new TextEncoder().encode('NEIGHBOUR SECRET'));
    a.send(5, BUFFERS, 10);
    a.send(0, SEG - 8, 16);
    a.send(0, 0xfffffff0, 0x20);
    a.send(0, BUFFERS, UNET_LIMITS.MAX_MESSAGE + 1);
    a.send(0, BUFFERS, 4, 0x80);
    a.send(0, BUFFERS, 4);
    m.engine.runUntilIdle();
    expect([0, 1, 2, 3, 4, 5].map((i) => a.sendStatus(i))).toEqual([
      UNET_STATUS.BAD_CHANNEL,
      UNET_STATUS.BAD_BUFFER,
      UNET_STATUS.BAD_BUFFER,
      UNET_STATUS.TOO_LONG,
      UNET_STATUS.BAD_FLAGS,
      UNET_STATUS.OK,
    ]);
    expect(m.node(0).nic.unet.endpoint(1)!.stats.badDescriptors).toBe(5);
    expect(b.take().map((r) => r.len)).toEqual([4]);
  });

  it('drops a message whose tag the receiving NIC never gave that sender (forged, or another channel\'s) and counts it', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 1, 1, 0x200000);
    const c = new Ep(m, 2, 1, 0x300000);
    connect(a, 0, b, 0, 1, 2);
    // c's NIC is told to stamp tag 2 (the tag b gave a) and tag 99 (given to nobody).
    m.node(2).nic.unet.setChannel(1, 0, { peerNode: 1, txTag: 2, rxTag: 50 });
    m.node(2).nic.unet.setChannel(1, 1, { peerNode: 1, txTag: 99, rxTag: 51 });
    c.mem.write(c.pa + BUFFERS, new TextEncoder().encode('FORGED'));
    c.send(0, BUFFERS, 6);
    c.send(1, BUFFERS, 6);
    m.engine.runUntilIdle();
    expect(b.take()).toEqual([]);
    expect(m.node(1).nic.unet.stats.forged).toBe(2);
  });

  it('counts a message dropped on a full receive queue in DROPS, and posts NO_BUFFER when no free buffer is queued', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 1, 1, 0x200000, ENTRIES, 2);
    connect(a, 0, b, 0, 1, 2);
    for (let i = 0; i < ENTRIES + 3; i++) {
      a.send(0, BUFFERS, 8);
      m.engine.runUntilIdle();
    }
    // Two buffers: two messages land; the next six get NO_BUFFER; then the queue is full.
    const statuses = [];
    expect(b.word(UNET_HDR.DROPS)).toBe(3);
    for (const r of b.take()) statuses.push(r.status);
    expect(statuses).toEqual([1, 1, 5, 5, 5, 5, 5, 5]);
    expect(m.node(1).nic.unet.endpoint(1)!.stats).toMatchObject({ received: 2, noBuffer: 6, recvFull: 3 });
  });

  it('direct access lands the data at the offset the sender names inside the receiver\'s direct-access area, and drops one outside it and tells the sender (DIRECT_REFUSED)', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 1, 1, 0x200000);
    connect(a, 0, b, 0, 1, 2);
    b.words(UNET_HDR.DIRECT_BASE, 0x9000, 0x1000);
    a.mem.write(a.pa + 0x8000, bytes(300, 3));
    a.send(0, 0x8000, 300, UNET_FLAG.DIRECT, 0x9000);
    a.send(0, 0x8000, 300, UNET_FLAG.DIRECT, SEG - 100);
    a.send(0, 0x8000, 300, UNET_FLAG.DIRECT, 0x9000 + 0x1000 - 299);
    a.send(0, 0x8000, 300, UNET_FLAG.DIRECT, 0x8f00);
    m.engine.runUntilIdle();
    const got = new Uint8Array(300);
    b.mem.read(b.pa + 0x9000, got);
    expect(got).toEqual(bytes(300, 3));
    // Only the deposit inside the area reaches the receiver; the rest are dropped and counted there...
    expect(b.take().map((r) => [r.status, r.offset, r.len])).toEqual([[UNET_STATUS.OK, 0x9000, 300]]);
    expect(m.node(1).nic.unet.endpoint(1)!.stats.directRefused).toBe(3);
    expect(b.mem.readU8(b.pa + SEG)).toBe(0);
    expect(b.mem.readU8(b.pa + 0x9000 + 0x1000)).toBe(0);
    expect(b.mem.readU8(b.pa + 0x8fff)).toBe(0);
    // ...and each sender learns which deposit was refused, in its own receive queue, with no data.
    const told = a.take();
    expect(told.map((r) => [r.chan, r.status, r.offset, r.len])).toEqual(Array(3).fill([0, UNET_STATUS.DIRECT_REFUSED, UNET_LIMITS.NO_OFFSET, 0]));
    expect(told.map((_, i) => a.word(Q.recv + i * UNET_DESC.SIZE + UNET_DESC.ROFFSET))).toEqual([SEG - 100, 0x9000 + 0x1000 - 299, 0x8f00]);
  });

  it('refuses every direct deposit to a segment whose owner has declared no direct-access area, and never one into the header or the queues', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 1, 1, 0x200000);
    connect(a, 0, b, 0, 1, 2);
    a.mem.write(a.pa + 0x8000, bytes(64, 5));
    a.send(0, 0x8000, 64, UNET_FLAG.DIRECT, 0x9000);
    m.engine.runUntilIdle();
    // An area that covers the whole segment still leaves the header and queues closed.
    b.words(UNET_HDR.DIRECT_BASE, 0, SEG);
    a.send(0, 0x8000, 64, UNET_FLAG.DIRECT, 0);
    a.send(0, 0x8000, 64, UNET_FLAG.DIRECT, Q.recv);
    m.engine.runUntilIdle();
    expect(b.take()).toEqual([]);
    expect(a.take().map((r) => r.status)).toEqual(Array(3).fill(UNET_STATUS.DIRECT_REFUSED));
    expect(b.word(UNET_HDR.SEND_TAIL)).toBe(0);
    expect(b.word(Q.recv)).toBe(0);
  });

  it('stops reading and writing a segment the moment its endpoint is destroyed', () => {
    const m = machine();
    const a = new Ep(m, 0, 1, 0x100000);
    const b = new Ep(m, 1, 1, 0x200000);
    connect(a, 0, b, 0, 1, 2);
    a.mem.write(a.pa + BUFFERS, bytes(1000, 1));
    a.send(0, BUFFERS, 1000);
    // The message is on its way when b's endpoint goes, and b's frames are given to someone else.
    m.engine.runUntil(m.engine.now + 1_000_000);
    m.node(1).nic.unet.destroyEndpoint(1);
    b.mem.zero(b.pa, SEG);
    m.engine.runUntilIdle();
    const after = new Uint8Array(SEG);
    b.mem.read(b.pa, after);
    expect(after.every((x) => x === 0)).toBe(true);
    expect(m.node(1).nic.unet.stats.forged + m.node(1).nic.unet.stats.deadEndpoint).toBe(1);
  });

  it('never throws in the host, whatever a user writes into its descriptors and queue words (seeded fuzz)', () => {
    const word = fc.oneof(fc.constantFrom(0, 1, 7, 8, 0xffffffff, 0x7fffffff, SEG, SEG - 1, BUFFERS, UNET_LIMITS.MAX_MESSAGE + 1), fc.nat(0xffffffff));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(4), fc.array(word, { minLength: 6, maxLength: 6 })), { minLength: 1, maxLength: 12 }), (ops) => {
        const m = machine([2]);
        const a = new Ep(m, 0, 1, 0x100000);
        const b = new Ep(m, 1, 1, 0x200000);
        connect(a, 0, b, 0, 1, 2);
        connect(b, 1, a, 1, 3, 4);
        for (const [what, w] of ops) {
          const ep = w[0] & 1 ? a : b;
          if (what === 0) ep.words(Q.send + (w[1] % ENTRIES) * UNET_DESC.SIZE, w[1] % 3, w[2] & 3, w[3], w[4], w[5], 0);
          else if (what === 1) ep.words(UNET_HDR.SEND_TAIL + 4 * (w[1] % 6), w[2]);
          else if (what === 2) ep.words(Q.free + (w[1] % ENTRIES) * UNET_FREE.SIZE, w[2], w[3]);
          else if (what === 3) ep.send(w[1] % 3, w[2] % (SEG + 10), w[3] % 3000, w[4] & 1, w[5] % (SEG + 10));
          else ep.words(UNET_HDR.SEND_TAIL, w[2]);
          m.engine.runUntilIdle(100_000);
        }
        m.engine.runUntilIdle(100_000);
        const s = m.node(1).nic.unet.stats;
        expect(s.received).toBeLessThanOrEqual(m.node(0).nic.unet.stats.sent);
      }),
      { seed: 13, numRuns: 150 },
    );
  });
});
