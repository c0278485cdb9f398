// Distributed IPC as a user meets it in the monitor: a null RPC can be
// stepped through its transport steps, `info ipc` shows each node's
// transport and ports, and `margay run ipc_rpc` publishes the figures.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';

describe('distributed IPC in the monitor and the CLI', () => {
  it('stops where NORMA delivers a message and shows the transport and the ports in info ipc', async () => {
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

  it('runs ipc_rpc from the CLI with --transport and refuses an unknown transport with a usage error', () => {
    const ok = spawnSync(process.execPath, ['bin/margay.js', 'run', 'ipc_rpc', '--load', 'direct', '--nodes', '2', '--profile', 'paragon', '--transport', 'dipc', '--json', '--', '3'], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/"local_rpc_ns": 3\d{5},/);
    const bad = spawnSync(process.execPath, ['bin/margay.js', 'run', 'ipc_rpc', '--transport', 'tcp'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--transport must be norma or dipc/);
  }, 60_000);
});
