// The monitor and U-Net: a send and a receive stepped through on the NICs,
// and the endpoints' queues as info unet shows them.

import { describe, expect, it } from 'vitest';
import { TRACE_PATHS } from '../../kernel/tracepaths.ts';
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
    for (let i = 0; i < 8; i++) {
      const out = await s.exec('continue');
      steps.push(/unet-nic\/(\S+)/.exec(out.join('\n'))?.[1] ?? out.join(' | '));
    }
    expect(steps).toEqual(['send-fetch', 'send-dma', 'send-writeback', 'recv-demux', 'free-fetch', 'recv-dma', 'recv-writeback', 'doorbell']);
  });

  it('stops at each step the trace path table names, as a stop of its own', async () => {
    const names = /:\s*(.*)$/.exec(TRACE_PATHS['unet-nic'])![1].split(/,\s*/);
    expect(names).toEqual(['doorbell', 'send-fetch', 'send-dma', 'send-writeback', 'recv-demux', 'free-fetch', 'recv-dma', 'recv-writeback']);
    for (const name of names) {
      const s = await session('boot --nodes 2', 'load unet_pingpong -- 0', `break unet-nic/${name}`, 'break unet-nic/*');
      // The first unet-nic stop whose record is this step comes from the step's own breakpoint (1), not the catch-all (2).
      let stop = '';
      for (let i = 0; i < 40 && !stop.includes(`unet-nic/${name} `); i++) stop = (await s.exec('continue')).join('\n');
      expect(stop, name).toMatch(new RegExp(`breakpoint 1 at .*\n.*unet-nic/${name} `));
    }
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
