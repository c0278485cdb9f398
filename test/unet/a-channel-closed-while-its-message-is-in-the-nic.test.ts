// The NIC re-checks a message's channel at every step after it demultiplexed it (review 13, finding 2): a
// channel closed, or opened afresh with a new tag, while a message of it is still on its way through the
// receive engine gets none of its data. Driven on the NIC directly, stopping at the step named.

import { describe, expect, it } from 'vitest';
import { UNET_HDR, UNET_STATUS } from '../../hw/unet/layout.ts';

import { BUF, BUFFERS, ENTRIES, Ep, bytes, connect, machine } from './nicharness.ts';


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
