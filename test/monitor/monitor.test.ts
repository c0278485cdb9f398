import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MonitorSession } from '../../monitor/session.ts';

function script(lines: string[]) {
  const file = join(mkdtempSync(join(tmpdir(), 'margay-')), 'script.txt');
  writeFileSync(file, lines.join('\n') + '\n');
  const r = spawnSync(process.execPath, ['bin/margay.js', 'monitor', '--script', file], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('the plain-text monitor', () => {
  it('runs a script unattended: boot, break in the job loader, inspect, continue to the end', () => {
    const r = script(['boot --nodes 4', 'load hello --fanout tree:2', 'break jobload/create node 2', 'continue', 'info ps 2', 'next 2', 'delete', 'continue', 'info job', 'quit']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\(margay\) boot --nodes 4\nbooted redstorm .*: 6 nodes \(service node 5\)/);
    expect(r.out).toMatch(/stopped: breakpoint 1 at .*\n .*node 2 core 0 .*jobload\/create  pid 100 init uid 1000/);
    expect(r.out).toMatch(/node 2 pid 100 init rank 2 alive/);
    expect(r.out).toMatch(/stopped: job finished/);
    expect(r.out).toMatch(/hello on 4 rank\(s\).*load two-phase over tree:2: COMPLETED/);
    expect(r.out).toMatch(/rank 3 \(node 3, pid 100\): exit 0/);
  });

  it('stops a script at the first error with exit code 1', () => {
    const r = script(['boot --nodes 2', 'info regs 9.0', 'quit']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/error: node 9 is not in the machine/);
  });

  it('steps events, shows registers, TLB and APIC of a core, and dumps memory', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 2 --cores 2');
    await s.exec('load hello');
    expect((await s.exec('step 5'))[0]).toMatch(/^5 event\(s\), now /);
    await s.exec('break syscall/dispatch syscall write');
    expect((await s.exec('continue'))[0]).toMatch(/stopped: breakpoint 1/);
    const regs = (await s.exec('info regs 0.0')).join('\n');
    expect(regs).toMatch(/rax=0000000000000001/);
    expect((await s.exec('info tlb 0.0'))[0]).toMatch(/entries, hits \d+, misses \d+/);
    expect((await s.exec('info apic 0.1')).join('\n')).toMatch(/pending \(irr\): .*\n  in service \(isr\): /);
    expect((await s.exec('x 0/100 0x400000 16'))[0]).toMatch(/^\s+0x400000  6d 61 72 67 61 79 2d 74 65 78 74 20 32 00 68 65  margay-text 2.he/);
    expect(await s.exec('frobnicate')).toEqual(["error: unknown command 'frobnicate' (try 'help')"]);
  });

  it('steps an extension handler instruction by instruction and shows its disassembly and registers', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 7 --cores 1');
    expect(await s.exec('ext step on')).toEqual(['extension stepping on: each instruction is a kernel step (break ext/insn to stop on one)']);
    await s.exec('load bcast -- ext');
    await s.exec('break ext/insn');
    const stop = await s.exec('continue');
    expect(stop[0]).toMatch(/stopped: breakpoint 1/);
    expect(stop[1]).toMatch(/ext\/insn  ext \d+ 0: /);
    const node = Number(/node (\d+) core/.exec(stop[1])![1]);
    const list = (await s.exec('ext list')).join('\n');
    const id = Number(new RegExp(`node ${node} ext (\\d+)`).exec(list)![1]);
    const shown = await s.exec(`ext show ${node} ${id}`);
    expect(shown[0]).toMatch(/^r0=0x[0-9a-f]+ r1=0x[0-9a-f]+ .* r10=0x/);
    expect(shown.filter((l) => l.startsWith('=>'))).toHaveLength(1);
    await s.exec('delete');
    expect((await s.exec('next'))[0]).toMatch(/ext\/insn|ext\/run/);
  });

  it('exports the trace as Perfetto JSON', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 3');
    await s.exec('run hello');
    const file = join(mkdtempSync(join(tmpdir(), 'margay-')), 'trace.json');
    const r = await s.exec(`export trace ${file}`);
    expect(r[0]).toMatch(/^wrote .*trace\.json: \d+ events \(\d+ kernel steps, \d+ messages\)$/);
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    expect(doc.traceEvents.some((e: { ph: string }) => e.ph === 's')).toBe(true);
  });

  it('sends app status and app kill to a running job', async () => {
    const s = new MonitorSession();
    await s.exec('boot --nodes 3');
    await s.exec('load tlbstale');
    await s.exec('until 300us');
    const st = await s.exec('status');
    expect(st[0]).toBe('3 of 3 node(s) answered');
    const kill = await s.exec('kill');
    expect(kill[0]).toMatch(/3 of 3 node\(s\) answered/);
  });
});
