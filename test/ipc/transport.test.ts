import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NIC_HEADER_BYTES } from '../../kernel/nicwire.ts';
import { inKernel, machine, us } from './helpers.ts';

const PAGE = 4096;

/** Sends `sizes` as posts from node 0 to `service` on node 1 (one after another from one path); returns the sizes in arrival order. */
function postAll(transport: 'norma' | 'dipc', sizes: readonly number[]) {
  const sys = machine({ nodes: 2, transport });
  const got: number[][] = [];
  sys.kernel(1).ipc.serve('seq', function* (req) {
    got.push([req.words[0], req.payload?.len ?? 0]);
  });
  inKernel(sys, 0, function* () {
    for (let i = 0; i < sizes.length; i++) yield* sys.kernel(0).ipc.post(1, 'seq', [i], sizes[i] > 0 ? { bytes: new Uint8Array(sizes[i]) } : null);
  });
  sys.run({ until: 1e13 });
  return { sys, got };
}

describe('the kernel-to-kernel transport', () => {
  for (const transport of ['norma', 'dipc'] as const) {
    it(`delivers the messages of one stream between two nodes in the order they were sent, whatever their sizes (${transport})`, () => {
      fc.assert(
        fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40 * PAGE })), { minLength: 1, maxLength: 8 }), (sizes) => {
          const { got } = postAll(transport, sizes);
          expect(got).toEqual(sizes.map((s, i) => [i, s]));
        }),
        { seed: 14, numRuns: 12 },
      );
    });
  }

  it('NORMA sends a long message one page at a time, each block acknowledged before the next', () => {
    const { sys } = postAll('norma', [10 * PAGE]);
    const t = sys.kernel(0).ipc.transport.stats;
    expect(t.blocksSent).toBe(10);
    expect(t.acksReceived).toBe(10);
    const { sys: sys4 } = (() => {
      const s = machine({ nodes: 2, transport: 'norma', overrides: { 'ipc.norma.windowPages': 4 }, trace: true });
      s.kernel(1).ipc.serve('seq', function* () {});
      inKernel(s, 0, () => s.kernel(0).ipc.post(1, 'seq', [0], { bytes: new Uint8Array(10 * PAGE) }));
      s.run({ until: 1e13 });
      return { sys: s };
    })();
    expect(sys4.kernel(0).ipc.transport.stats.blocksSent).toBe(3);
    // Stop-and-wait: on the sender, sends and acks alternate.
    const order = sys4.trace
      .last()
      .filter((r) => r.node === 0 && r.path === 'ipc' && (r.step === 'send' || r.step === 'ack'))
      .map((r) => r.step);
    expect(order).toEqual(['send', 'ack', 'send', 'ack', 'send', 'ack']);
  });

  it('DIPC sends a window of large blocks before waiting', () => {
    const sys = machine({ nodes: 2, transport: 'dipc', trace: true });
    sys.kernel(1).ipc.serve('seq', function* () {});
    const block = sys.kernel(0).ipc.transport.p.blockBytes;
    const window = sys.kernel(0).ipc.transport.p.windowBlocks;
    inKernel(sys, 0, () => sys.kernel(0).ipc.post(1, 'seq', [0], { bytes: new Uint8Array((window + 2) * block) }));
    sys.run({ until: 1e13 });
    const order = sys.trace
      .last()
      .filter((r) => r.node === 0 && r.path === 'ipc' && (r.step === 'send' || r.step === 'ack'))
      .map((r) => r.step);
    expect(order.slice(0, window)).toEqual(new Array(window).fill('send'));
    expect(order.filter((s) => s === 'send')).toHaveLength(window + 2);
    expect(order.filter((s) => s === 'ack')).toHaveLength(window + 2);
  });

  it('DIPC overlaps messages to the same node that NORMA sends one after another', () => {
    const time = (transport: 'norma' | 'dipc') => {
      const sys = machine({ nodes: 2, transport });
      let done = 0;
      let last = 0;
      for (const s of ['a', 'b', 'c', 'd']) {
        sys.kernel(1).ipc.serve(s, function* (req) {
          yield* req.reply([]);
        });
      }
      inKernel(sys, 0, function* () {
        for (const s of ['a', 'b', 'c', 'd'])
          yield* sys.kernel(0).ipc.request(1, s, [], { bytes: new Uint8Array(8 * PAGE) }, function* () {
            done++;
            last = sys.now;
          });
      });
      sys.run({ until: 1e13 });
      expect(done).toBe(4);
      return { last, inFlight: sys.kernel(0).ipc.transport.stats.maxInFlight };
    };
    const norma = time('norma');
    const dipc = time('dipc');
    expect(norma.inFlight).toBe(1);
    expect(dipc.inFlight).toBeGreaterThanOrEqual(4);
    expect(dipc.last).toBeLessThan(norma.last / 2);
  });

  it('NORMA still overlaps messages to different nodes', () => {
    const sys = machine({ nodes: 5, transport: 'norma' });
    for (let n = 1; n < 5; n++) sys.kernel(n).ipc.serve('x', function* () {});
    inKernel(sys, 0, function* () {
      for (let n = 1; n < 5; n++) yield* sys.kernel(0).ipc.post(n, 'x', [], { bytes: new Uint8Array(4 * PAGE) });
    });
    sys.run({ until: 1e13 });
    expect(sys.kernel(0).ipc.transport.stats.maxInFlight).toBe(4);
  });

  it('drops and counts malformed transport messages from the wire instead of throwing', () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: 22, maxLength: 22 }), fc.nat(3 * PAGE), fc.nat(9), (words, payloadLen, type) => {
        const sys = machine({ nodes: 2, transport: 'dipc' });
        let served = 0;
        sys.kernel(1).ipc.serve('x', function* () {
          served++;
        });
        const header = new Uint8Array(NIC_HEADER_BYTES);
        const dv = new DataView(header.buffer);
        dv.setBigInt64(0, 10n, true);
        words.forEach((w, i) => dv.setBigInt64(8 * (i + 1), w, true));
        if (type < 4) dv.setBigInt64(8, BigInt(type), true);
        sys.kernel(0).node.nic.transmit({ dst: 1, header, payloadAddr: 0, payloadLen, cookie: 1 });
        sys.run({ until: 1e12 });
        const k1 = sys.kernel(1);
        expect(k1.stats.oopses).toBe(0);
        expect(served).toBe(0);
        expect(k1.ipc.transport.stats.dropped + k1.ipc.transport.stats.acksSent + (type === 2 || type === 3 ? 1 : 0)).toBeGreaterThan(0);
      }),
      { seed: 14, numRuns: 60 },
    );
  });

  it('drops a reply to a request that was never made', () => {
    const sys = machine({ nodes: 2, transport: 'dipc' });
    // Node 1's kernel is made to post a forged "reply" (op 2) for request 1 to node 0.
    inKernel(sys, 1, () => sys.kernel(1).ipc.transport.send(0, 0, [2, 0, 1, 99], null, function* () {}));
    sys.run({ until: 1e12 });
    expect(sys.kernel(0).ipc.transport.stats.dropped).toBe(1);
    expect(sys.kernel(0).stats.oopses).toBe(0);
  });

  it('reaches most of the link bandwidth with DIPC and far less with NORMA on the Paragon', () => {
    const rate = (transport: 'norma' | 'dipc') => {
      const sys = machine({ nodes: 2, transport });
      let end = 0;
      sys.kernel(1).ipc.serve('bulk', function* (req) {
        yield* req.reply([]);
      });
      const bytes = 2 * 1024 * 1024;
      let start = 0;
      inKernel(sys, 0, function* () {
        start = sys.now;
        yield* sys.kernel(0).ipc.request(1, 'bulk', [], { bytes: new Uint8Array(bytes) }, function* () {
          end = sys.now;
        });
      });
      sys.run({ until: 1e13 });
      return bytes / us(end - start); // bytes per us = MB/s
    };
    const dipc = rate('dipc');
    const norma = rate('norma');
    expect(dipc).toBeGreaterThan(2 * norma);
    expect(dipc).toBeLessThan(175);
  });
});
