// The monitor and U-Net: a send and a receive stepped through on the NICs,
// and the endpoints' queues as info unet shows them.

import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';

async function session(...lines: string[]): Promise<MonitorSession> {
  const s = new MonitorSession();
  for (const l of lines) {
    const out = await s.exec(l);
    if (out.some((x) => x.startsWith('error:'))) throw new Error(`${l}: ${out.join('\n')}`);
  }
  return s;
}

describe('the monitor with U-Net', () => {
  it('stops at every NIC step of a user message with break unet-nic/*, from the doorbell to the receive write-back', async () => {
    const s = await session('boot --nodes 2', 'load unet_pingpong -- 0', 'break unet-nic/doorbell', 'continue', 'delete', 'break unet-nic/*');
    const steps: string[] = [];
    for (let i = 0; i < 7; i++) {
      const out = await s.exec('continue');
      steps.push(/unet-nic\/(\S+)/.exec(out.join('\n'))?.[1] ?? out.join(' | '));
    }
    // The fetch's end and the DMA's start are one event: the stop shows the fetch (trace last 2 shows both).
    expect(steps).toEqual(['send-fetch', 'send-writeback', 'recv-demux', 'free-fetch', 'recv-dma', 'recv-writeback', 'doorbell']);
  });

  it('shows a node\'s endpoints with their queue counters, channels and tags, and refuses a node that does not exist', async () => {
    const s = await session('boot --nodes 2', 'load unet_pingpong -- 0', 'break unet-nic/recv-writeback', 'continue', 'continue');
    const out = (await s.exec('info unet 1')).join('\n');
    expect(out).toMatch(/U-Net on node 1: 1 endpoint\(s\)/);
    expect(out).toMatch(/pid \d+ endpoint 1: \d+ B at 0x[0-9a-f]+ \(phys 0x[0-9a-f]+\), 8 slots/);
    expect(out).toMatch(/chan 0 -> node 0 pid \d+ endpoint 1 chan 0: receive tag \d+, send tag \d+/);
    expect(out).toMatch(/receive \d+ waiting/);
    expect((await s.exec('info unet 99'))[0]).toMatch(/^error: /);
  });
});
