// Distributed IPC as a user meets it in the monitor: a null RPC can be
// stepped through its transport steps, `info ipc` shows each node's
// transport and ports, and `margay run ipc_rpc` publishes the figures.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';

describe('distributed IPC in the monitor and the CLI', () => {
  it('stops where NORMA delivers a message and shows the transport and the ports in info ipc', async () => {
    const s0 = new MonitorSession();
    expect(await s0.exec('boot --nodes 2 --transport tcp')).toEqual(["error: --transport must be norma or dipc, got 'tcp'"]);
    const s = new MonitorSession();
    await s.exec('boot --nodes 2 --profile paragon --transport norma');
    await s.exec('load ipc_rpc --ranks 2 -- 2');
    await s.exec('break ipc/deliver');
    expect((await s.exec('continue')).join('\n')).toMatch(/ipc\/deliver/);
    const info = (await s.exec('info ipc')).join('\n');
    expect(info).toMatch(/node \d+ \(norma\): \d+ sent in \d+ block\(s\)/);
    await s.exec('delete');
    await s.exec('continue');
    const steps = new Set(s.system.trace.last().filter((r) => r.path === 'ipc').map((r) => r.step));
    for (const st of ['send', 'receive', 'ack', 'deliver', 'port-send', 'lookup']) expect(steps).toContain(st);
  }, 60_000);

  it('runs ipc_rpc from the CLI and publishes the null RPC figures (DIPC, the default transport)', () => {
    // `margay run --transport norma|dipc` is wired by the remote-tasking branch (h-crtc); the monitor's boot takes it here.
    const ok = spawnSync(process.execPath, ['bin/margay.js', 'run', 'ipc_rpc', '--load', 'direct', '--nodes', '2', '--profile', 'paragon', '--json', '--', '3'], { encoding: 'utf8', timeout: 120_000 });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/"local_rpc_ns": 3\d{5},/);
    expect(ok.stdout).toMatch(/"remote_rpc_ns": 12\d{5}/);
  }, 60_000);
});
