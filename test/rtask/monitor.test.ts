// Remote tasking in the monitor: a crtc job can be stepped to a
// copy-on-reference fault, and `info rtask` shows the source, the tasks and
// their VM objects.

import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';

describe('remote tasking in the monitor', () => {
  it('stops at a copy-on-reference fault and shows the tasks, their pagers and objects in info rtask', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 4 --profile paragon');
    expect(await s.exec('load cor_touch --load crtc --ranks 3 --algorithm warp')).toEqual(["error: --algorithm must be ntc or crtc, got 'warp'"]);
    await s.exec('load cor_touch --load crtc --ranks 3 -- pages=2');
    await s.exec('break cor/fault');
    expect((await s.exec('continue')).join('\n')).toMatch(/cor\/fault/);
    const info = (await s.exec('info rtask')).join('\n');
    expect(info).toMatch(/job 1 source: source, crtc tree, tree paging/);
    expect(info).toMatch(/job 1 rank 1 pid 100: running, crtc tree, tree paging, pages from node \d+/);
    expect(info).toMatch(/job 1 rank 2 pid 100: \w+, crtc tree, tree paging, pages from node 0/);
    expect(info).toMatch(/area 1 \(data\): \d+\/320 page\(s\) resident/);
    await s.exec('delete');
    await s.exec('continue');
    const after = (await s.exec('info rtask 0')).join('\n');
    expect(after).toMatch(/node 0: 1 task\(s\) created here, 2 copy-on-reference fault\(s\), 2 page\(s\) fetched, 2 served/);
  }, 60_000);

  it('names a crtc job by its remote-tasking choices, as margay run does, in the job line and info job', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 4 --profile paragon');
    const line = (await s.exec('load hello --load crtc --creation flat --algorithm ntc --vm-areas 5')).join('\n');
    expect(line).toMatch(/crtc over flat \(ntc algorithm, flat paging, nms off, 5 VM areas, dipc\)$/);
    expect(line).not.toMatch(/binomial/);
    await s.exec('continue');
    expect((await s.exec('info job')).join('\n')).toMatch(/load crtc over flat \(ntc algorithm, flat paging, nms off, 5 VM areas, dipc\)/);
  }, 60_000);

  it('lets continue run the tear-down that follows a finished crtc job, until nothing is left', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 4 --profile paragon');
    await s.exec('load hello --load crtc --creation tree --paging tree');
    expect((await s.exec('continue')).join('\n')).toMatch(/stopped: job finished/);
    expect((await s.exec('info rtask')).join('\n')).toMatch(/tearing down|ended/);
    expect((await s.exec('continue')).join('\n')).toMatch(/stopped: nothing left to do/);
    expect(await s.exec('info rtask')).toEqual(['no remote tasks on the booted nodes']);
  }, 60_000);

  it('loads and runs a program directly (no loader) with --load direct, as margay run does', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 3 --profile paragon');
    expect(await s.exec('load hello --load direct --fanout tree:2')).toEqual(["error: --fanout is the loader's tree (--load two-phase or one-phase); remote tasking takes --creation"]);
    expect((await s.exec('run ipc_rpc --load direct --ranks 2 -- 3')).join('\n')).toMatch(/job \d+: ipc_rpc directly on 2 rank\(s\)/);
    const job = (await s.exec('info job')).join('\n');
    expect(job).toMatch(/COMPLETED/);
  }, 60_000);
});
