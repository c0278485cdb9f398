// The user DSM can be stepped through in the monitor: its fault is the
// kernel's upcall to the handler, then the handler's system calls.

import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';

describe('the user DSM in the monitor', () => {
  it('stops at the fault upcall, then at the request put and the mprotect that installs the page', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 2');
    await s.exec('load dsm_counter --ranks 2 -- user increments=2');
    await s.exec('break fault/upcall');
    expect((await s.exec('continue')).join('\n')).toMatch(/pid 100 +fault\/upcall  handler 0x/);
    await s.exec('delete');
    await s.exec('break portals/send');
    expect((await s.exec('continue')).join('\n')).toMatch(/portals\/send/);
    await s.exec('delete');
    await s.exec('break mm/mprotect');
    expect((await s.exec('continue')).join('\n')).toMatch(/mm\/mprotect  0x500000000000 1 page\(s\)/);
  }, 60_000);
});
