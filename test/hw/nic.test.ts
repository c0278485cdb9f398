import { describe, expect, it } from 'vitest';
import { Machine } from '../../hw/machine.ts';
import { getProfile } from '../../hw/profile.ts';

function machine(dims = [4, 4]) {
  return new Machine({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims }, seed: 1 });
}

describe('the NIC', () => {
  it('DMAs real bytes from one node\'s memory into another\'s', () => {
    const m = machine();
    const a = m.node(0);
    const b = m.node(15);
    const data = new Uint8Array(10_000).map((_, i) => (i * 7) & 0xff);
    a.memory.write(0x5000, data);
    a.nic.transmit({ dst: 15, header: new Uint8Array([1, 2, 3]), payloadAddr: 0x5000, payloadLen: data.length, cookie: 9 });
    m.engine.runUntilIdle();
    const [h] = b.nic.takeRxHeaders();
    expect(h.src).toBe(0);
    expect([...h.header]).toEqual([1, 2, 3]);
    expect(h.payloadLen).toBe(10_000);
    expect(b.nic.deposit(h.rxId, 0x9000, h.payloadLen)).toBe(true);
    m.engine.runUntilIdle();
    const got = new Uint8Array(10_000);
    b.memory.read(0x9000, got);
    expect(got).toEqual(data);
    expect(b.nic.takeCompletions()).toEqual([expect.objectContaining({ kind: 'rx-done', bytes: 10_000 })]);
    expect(a.nic.takeCompletions()).toEqual([expect.objectContaining({ kind: 'tx-done', cookie: 9 })]);
  });

  it('reads the payload when the DMA runs, so later writes to the buffer do not travel', () => {
    const m = machine();
    const a = m.node(0);
    a.memory.write(0x1000, new Uint8Array([42]));
    a.nic.transmit({ dst: 1, header: new Uint8Array(8), payloadAddr: 0x1000, payloadLen: 1, cookie: 0 });
    m.engine.runUntil(m.profile.values['nic.txSetupPs'] + 1);
    a.memory.write(0x1000, new Uint8Array([99]));
    m.engine.runUntilIdle();
    const b = m.node(1);
    const [h] = b.nic.takeRxHeaders();
    b.nic.deposit(h.rxId, 0x2000, 1);
    m.engine.runUntilIdle();
    expect(b.memory.readU8(0x2000)).toBe(42);
  });

  it('raises the receive interrupt on the configured core when a header arrives', () => {
    const m = machine();
    const b = m.node(1);
    b.nic.irq = { core: 1, rxVector: 0x40, completionVector: 0x41 };
    m.node(0).nic.transmit({ dst: 1, header: new Uint8Array(8), payloadAddr: 0, payloadLen: 0, cookie: 0 });
    m.engine.runUntilIdle();
    expect(b.cores[1].apic.highestIrr()).toBe(0x40);
    expect(b.cores[0].apic.highestIrr()).toBe(-1);
  });

  it('discards a payload the host does not want, writing nothing', () => {
    const m = machine();
    const a = m.node(0);
    a.memory.write(0, new Uint8Array(64).fill(5));
    a.nic.transmit({ dst: 1, header: new Uint8Array(8), payloadAddr: 0, payloadLen: 64, cookie: 0 });
    m.engine.runUntilIdle();
    const b = m.node(1);
    const [h] = b.nic.takeRxHeaders();
    expect(b.nic.discard(h.rxId)).toBe(true);
    expect(b.nic.deposit(h.rxId, 0, 64)).toBe(false);
    m.engine.runUntilIdle();
    expect(b.memory.touchedFrames).toBe(0);
    expect(b.nic.stats.rxDiscarded).toBe(1);
  });

  it('truncates a deposit to the buffer the host offers', () => {
    const m = machine();
    const a = m.node(0);
    a.memory.write(0, new Uint8Array(100).fill(7));
    a.nic.transmit({ dst: 1, header: new Uint8Array(8), payloadAddr: 0, payloadLen: 100, cookie: 0 });
    m.engine.runUntilIdle();
    const b = m.node(1);
    const [h] = b.nic.takeRxHeaders();
    b.nic.deposit(h.rxId, 0x100, 10);
    m.engine.runUntilIdle();
    const got = new Uint8Array(12);
    b.memory.read(0x100, got);
    expect([...got]).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0]);
  });

  it('reports a transmit from outside physical memory as an error completion', () => {
    const m = machine();
    const a = m.node(0);
    a.nic.transmit({ dst: 1, header: new Uint8Array(8), payloadAddr: m.profile.values['memory.bytes'] - 4, payloadLen: 64, cookie: 3 });
    a.nic.transmit({ dst: 999, header: new Uint8Array(8), payloadAddr: 0, payloadLen: 0, cookie: 4 });
    m.engine.runUntilIdle();
    const c = a.nic.takeCompletions();
    expect(c.map((x) => x.kind)).toEqual(['tx-error', 'tx-error']);
    expect(c[1]).toMatchObject({ reason: 'no node 999' });
  });

  it('tells the sender when a message cannot be delivered', () => {
    const m = machine([4]);
    m.network.setNodeDown(3, true);
    m.node(0).nic.transmit({ dst: 3, header: new Uint8Array(8), payloadAddr: 0, payloadLen: 0, cookie: 5 });
    m.engine.runUntilIdle();
    expect(m.node(0).nic.takeCompletions().map((c) => c.kind)).toEqual(['tx-done', 'tx-undeliverable']);
  });

  it('takes longer to move more bytes, at the DMA and link rates', () => {
    const times = [0, 1 << 20].map((len) => {
      const m = machine([2]);
      m.node(0).nic.transmit({ dst: 1, header: new Uint8Array(64), payloadAddr: 0, payloadLen: len, cookie: 0 });
      const b = m.node(1);
      // The host deposits as soon as the header is visible, so receive DMA overlaps the arrival.
      m.engine.runWhile(() => {
        for (const h of b.nic.takeRxHeaders()) b.nic.deposit(h.rxId, 0, len);
        return true;
      });
      return b.nic.takeCompletions()[0].at;
    });
    const seconds = (times[1] - times[0]) / 1e12;
    const rate = (1 << 20) / seconds;
    // Bounded by the slowest stage: 1.5 GB/s injection on redstorm.
    expect(rate).toBeGreaterThan(1.0e9);
    expect(rate).toBeLessThan(1.6e9);
  });
});
