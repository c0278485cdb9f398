import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encode } from '../../kernel/ext/isa.ts';
import { MonitorSession } from '../../monitor/session.ts';
import { formatDump, parseFmt } from '../../monitor/debugger/memory.ts';

async function session(...lines: string[]): Promise<MonitorSession> {
  const s = new MonitorSession();
  for (const l of lines) {
    const out = await s.exec(l);
    if (out.some((x) => x.startsWith('error:'))) throw new Error(`${l}: ${out.join('\n')}`);
  }
  return s;
}

const text = async (s: MonitorSession, line: string) => (await s.exec(line)).join('\n');

/** What a user sees of the machine at one point: time, events, the last kernel steps, registers of the core that took the last one. */
async function fingerprint(s: MonitorSession): Promise<string> {
  const last = s.system.trace.last(1)[0];
  return [s.system.now, s.events, await text(s, 'trace last 5'), last ? await text(s, `info registers ${last.node}.${last.core}`) : ''].join('\n');
}

describe('the monitor: what was broken', () => {
  it('refuses until a time already past, and info job keeps why the machine last stopped', async () => {
    const s = await session('boot --nodes 4', 'load hello', 'until 50us');
    expect(await s.exec('until 10us')).toEqual(['error: until: 10.000 us is in the past (now 50.000 us); goto 10us re-runs the machine to it']);
    expect(s.system.now).toBe(50_000_000);
    expect(await text(s, 'info job')).toMatch(/INCOMPLETE \(simulated time limit reached at 50000 ns\)/);
  });

  it('steps over a syscall without a breakpoint of its own: no stray number, the next break is 1', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'delete');
    const over = await s.exec('over');
    expect(over[0]).toMatch(/^stopped: stepped over to syscall\/exit at /);
    expect(over[1]).toMatch(/syscall\/exit  write = 49/);
    expect(await s.exec('info break')).toEqual(['no breakpoints or watchpoints']);
    expect(await s.exec('break irq/entry')).toEqual(['breakpoint 2: irq/entry']);
  });

  it('still stops over at a breakpoint of the user on the way', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'break console/write');
    expect((await s.exec('over'))[0]).toMatch(/^stopped: breakpoint 2 at /);
  });

  it('says a loaded job has not run yet, in info job', async () => {
    const s = await session('boot --nodes 4', 'load hello');
    expect((await s.exec('info job'))[0]).toMatch(/INCOMPLETE \(loaded; the machine has not run since\)$/);
  });

  it('refuses a breakpoint on a node that does not exist, an unknown syscall or a vector that is not one', async () => {
    const s = await session('boot --nodes 4');
    expect(await s.exec('break * node 99')).toEqual(['error: node 99 is not in the machine (0..5)']);
    expect(await s.exec('break * core 7')).toEqual(['error: core 7 is not in a node (cores 0..1)']);
    expect(await s.exec('break syscall/dispatch syscall wrtie')).toEqual(["error: no syscall 'wrtie' in the table (did you mean 'write'?); see docs/ABI.md"]);
    expect((await s.exec('break irq/entry vector abc'))[0]).toMatch(/^error: vector must be a name \(page-fault, nic-rx.*\) or a number 0..255, got 'abc'$/);
    expect((await s.exec('break * if foo==1'))[0]).toMatch(/^error: condition: 'foo' is neither a register/);
    expect(await s.exec('info break')).toEqual(['no breakpoints or watchpoints']);
    expect(await s.exec('break irq/entry vector 0x50')).toEqual(['breakpoint 1: irq/entry vector 80 (0x50)']);
  });

  it('refuses a breakpoint on a trace path that does not exist, instead of one that never stops', async () => {
    const s = await session('boot --nodes 2');
    expect(await s.exec('break syscal/dispatch')).toEqual(["error: break: no kernel path 'syscal' (did you mean 'syscall'?); the paths are listed in docs/MONITOR.md"]);
    expect(await s.exec('break zz*/entry')).toEqual(["error: break: no kernel path matches 'zz*'; the paths are listed in docs/MONITOR.md"]);
    expect(await s.exec('break syscall')).toEqual(["error: break: 'syscall' names a path, not a step: use PATH/STEP (e.g. syscall/*)"]);
    expect(await s.exec('info break')).toEqual(['no breakpoints or watchpoints']);
    expect(await s.exec('break sys*/dispatch')).toEqual(['breakpoint 1: sys*/dispatch']);
    expect(await s.exec('break */entry')).toEqual(['breakpoint 2: */entry']);
  });

  it('gives a clear message for negative, huge and zero counts', async () => {
    const s = new MonitorSession();
    expect(await s.exec('boot --nodes -4')).toEqual(["error: --nodes must be a whole number from 1 to 4194304, got '-4'"]);
    await s.exec('boot --nodes 2');
    expect(await s.exec('step -3')).toEqual(["error: step N must be a whole number from 1 to 10,000,000, got '-3'"]);
    expect(await s.exec('step 1e9')).toEqual(["error: step N must be a whole number from 1 to 10,000,000, got '1e9'"]);
    expect(await s.exec('next 0')).toEqual(["error: next N must be a whole number from 1 to 100,000, got '0'"]);
  });

  it('refuses a dump longer than 4096 bytes and an address it cannot hold exactly, instead of rounding', async () => {
    const s = await session('boot --nodes 2');
    expect(await s.exec('x 0 0x0 100000000')).toEqual(["error: LEN must be a whole number from 1 to 4,096, got '100000000'"]);
    expect(await s.exec('x 0 0x7fffffffffffffff')).toEqual(['error: ADDR 0x7fffffffffffffff is too large (at most 0x1fffffffffffff)']);
    expect((await s.exec('x 0 0x1fffffffffffff'))[0]).toMatch(/^error: physical 0x1fffffffffffff\+64 is outside node 0's memory/);
    expect((await s.exec('xp/1024xg 0'))[0]).toMatch(/^error: that is 8192 bytes; x and xp show at most 4096/);
  });

  it('shows the TLB, memory map and breakpoints as readable hex tables, not JSON', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue');
    for (const what of ['info tlb', 'info mem', 'info break']) {
      const out = await text(s, what);
      expect(out, what).not.toMatch(/[{}]/);
    }
    expect(await text(s, 'info tlb')).toMatch(/\n\s+\d+\s+\d+\s+0x[0-9a-f]+\s+0x[0-9a-f]+\s+(4K|2M)\s+[US][WR][X-]/);
    expect(await text(s, 'info mem')).toMatch(/0x400000-0x410000\s+0x10000 r-x  text/);
    expect(await text(s, 'info break')).toBe('    1  break syscall/dispatch program hello syscall write, 1 hit(s)');
  });

  it('says ext step off when turning stepping off', async () => {
    const s = await session('boot --nodes 2');
    expect(await s.exec('ext step off')).toEqual(['extension stepping off: handlers run whole again']);
  });

  it('lists the booted nodes right after boot', async () => {
    const s = await session('boot --nodes 2');
    const nodes = await s.exec('info nodes');
    expect(nodes).toHaveLength(3);
    expect(nodes[0]).toMatch(/^node\s+0 \(0,0,0\)  cores idle idle  pids -/);
  });

  it('suggests the command a typo meant', async () => {
    const s = new MonitorSession();
    expect(await s.exec('contineu')).toEqual(["error: unknown command 'contineu' (did you mean 'continue'?) (try 'help')"]);
    expect(await s.exec('frobnicate')).toEqual(["error: unknown command 'frobnicate' (try 'help')"]);
  });
});

describe('the monitor as a debugger', () => {
  it('has a current CPU that info registers, x and page use; info registers N shows every core', async () => {
    const s = await session('boot --nodes 2 --cores 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue');
    expect(await s.exec('cpu 0.0')).toEqual(['current cpu 0.0: kernel, running pid 100 tid 2 (hello)']);
    expect(await text(s, 'info registers')).toMatch(/rax=0000000000000001 .* rdx=0000000000000031/);
    const all = await s.exec('info registers 0');
    expect(all.filter((l) => /^cpu 0\.\d:$/.test(l))).toEqual(['cpu 0.0:', 'cpu 0.1:']);
    expect(await s.exec('cpu 0.5')).toEqual(['error: node 0 has cores 0..1, not 5']);
    expect(await s.exec('cpu 1.0 pid 7')).toEqual(['error: no live process 7 on node 1']);
  });

  it('examines virtual memory with x/NFU in every format and unit, and physical memory with xp', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0');
    expect(await s.exec('x/s 0x400000')).toEqual(['      0x400000: "margay-text 2"']);
    expect(await s.exec('x/2xg 0x400000')).toEqual(['      0x400000: 0x742d79616772616d 0x6568003220747865']);
    expect(await s.exec('x/4xb 0x400000')).toEqual(['      0x400000: 0x6d 0x61 0x72 0x67']);
    expect(await s.exec('x/2xw 0x400000')).toEqual(['      0x400000: 0x6772616d 0x742d7961']);
    expect(await s.exec('x/1xh 0x400000')).toEqual(['      0x400000: 0x616d']);
    expect(await s.exec('x/3c 0x400000')).toEqual(["      0x400000: 'm' 'a' 'r'"]);
    expect((await s.exec('x/1ub 0x400000'))[0]).toMatch(/: +109$/);
    expect(await s.exec('set mem 0x410000 -2 w')).toEqual(['error: -2 does not fit in 4 byte(s)']);
    await s.exec('set mem 0x410000 0xfffffffe w');
    expect((await s.exec('x/1dw 0x410000'))[0]).toMatch(/: +-2$/);
    expect((await s.exec('x/1uw 0x410000'))[0]).toMatch(/: +4294967294$/);
    const pa = /physical (0x[0-9a-f]+)/.exec(await text(s, 'page 0x410000'))![1];
    expect((await s.exec(`xp/1xw ${pa}`))[0]).toMatch(/: 0xfffffffe$/);
    expect(await s.exec('x/1xg 0x7f0000000000')).toEqual(['error: user address 0x7f0000000000 is not readable in pid 100 (hello) on node 0']);
    expect((await s.exec('x/1q 0'))[0]).toMatch(/^error: unknown format 'q'/);
  });

  it('decodes instructions with x/i (eBPF, the ISA of extension handlers)', () => {
    const bytes = encode([{ op: 0xb7, dst: 0, src: 0, off: 0, imm: 7 }, { op: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
    expect(formatDump(0x1000, bytes, parseFmt('/2i'))).toEqual(['        0x1000: mov %r0, 7', '        0x1008: exit']);
  });

  it('translates an address the way the dump reads it: x of a virtual byte equals xp of its page walk (property)', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(0x400000, 0x410000, 0x600000, 0x7fffffc00000), fc.integer({ min: 0, max: 4095 }), async (base, off) => {
        const va = base + off;
        const walk = await text(s, `page 0x${va.toString(16)}`);
        const pa = /-> physical (0x[0-9a-f]+)/.exec(walk)![1];
        const v = (await s.exec(`x/1xb 0x${va.toString(16)}`))[0].split(': ')[1];
        const p = (await s.exec(`xp/1xb ${pa}`))[0].split(': ')[1];
        expect(v).toBe(p);
      }),
      { seed: 18, numRuns: 60 },
    );
  });

  it('walks the page tables level by level and says where a translation stops', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0');
    const ok = await s.exec('page 0x400000');
    expect(ok.map((l) => l.trim().split(' ')[0])).toEqual(['pid', 'PML4', 'PDPT', 'PD', 'PT', '0x400000']);
    expect(ok[5]).toMatch(/0x400000 -> physical 0x[0-9a-f]+ \(4 KiB page\)/);
    expect((await s.exec('page 0x600000'))[4]).toMatch(/\(2 MiB page\)/);
    expect((await s.exec('gva2gpa 0x123456789000')).at(-1)).toMatch(/no translation \(not present at the (PML4|PDPT|PD|PT) level\)/);
  });

  it('shows the local APIC, the vector table and IPIs by name', async () => {
    const s = await session('boot --nodes 2 --cores 2', 'load hello', 'until 60us', 'cpu 0.0');
    const lapic = await text(s, 'info lapic');
    expect(lapic).toMatch(/local APIC of cpu 0\.0: tpr 0x0\n  pending \(irr\): .*\n  in service \(isr\): .*\n  timer: .*\n  IPIs: sent \d+, received \d+\n  accepted: .*nic-rx \d+/);
    const pic = await s.exec('info pic');
    expect(pic.slice(1).map((l) => l.trim().split(/\s+/)[1])).toEqual(['page-fault', 'nic-rx', 'nic-completion', 'unet', 'apic-timer', 'xcall', 'reschedule', 'spurious']);
    expect(await text(s, 'info ipi')).toMatch(/IPIs on node 0: \d+ in flight .*\n  core 0: sent \d+, received \d+, pending /);
  });

  it('tells init and the app apart by program name though both are pid 100', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch node 0 program init');
    const init = await s.exec('continue');
    expect(init[0]).toMatch(/^stopped: breakpoint 1/);
    expect(init[1]).toMatch(/node 0 core \d pid 100  syscall\/dispatch/);
    expect(s.system.kernel(0).processes.get(100)!.name).toBe('init');
    await s.exec('delete');
    await s.exec('break syscall/dispatch node 0 program hello');
    const app = await s.exec('continue');
    expect(app[0]).toMatch(/^stopped: breakpoint 2/);
    expect(s.system.kernel(0).processes.get(100)!.name).toBe('hello');
  });

  it('stops only when the condition holds, not when disabled, and after its ignore count', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello if rax==1');
    const c = await s.exec('continue');
    expect(c[1]).toMatch(/syscall\/dispatch  write$/);
    await s.exec('disable 1');
    expect((await s.exec('continue'))[0]).toMatch(/^stopped: job finished/);
    const t = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello', 'ignore 1 2');
    await t.exec('continue');
    expect((await t.exec('info break'))[0]).toBe('    1  break syscall/dispatch program hello, 3 hit(s)');
    const u = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello', 'condition 1 detail~getsize');
    expect((await u.exec('continue'))[1]).toMatch(/lwk_getsize$/);
    expect(await u.exec('condition 1')).toEqual(['breakpoint 1 is unconditional']);
  });

  it('stops after the kernel step during which a watched span changed, virtual or physical', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall lwk_getrank', 'continue', 'cpu 0.0', 'delete');
    expect(await s.exec('watch 0x600000 256')).toEqual(['watchpoint 2: virtual 0x600000 in pid 100 hello (node 0 physical 0x5600000, 256 B)']);
    const hit = await s.exec('continue');
    expect(hit[0]).toMatch(/^stopped: watchpoint 2 \(virtual 0x600000 in pid 100 hello\) changed at/);
    expect(await s.exec('x/s 0x600000')).toEqual(['      0x600000: "hello from rank 0 of 2 on node 0 core 0, pid 100\\x0a"']);
    await s.exec('delete');
    await s.exec('watch phys 0x5600000 8');
    expect((await s.exec('continue'))[0]).toMatch(/^stopped: watchpoint 3 \(physical 0x5600000\) changed/);
  });

  it('stops after the kernel step that read a watched span (watch read), and not for the debugger\'s own looks', async () => {
    // hello's message is written into its buffer, then the write syscall's copyin reads it.
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0', 'delete');
    expect(await s.exec('watch read 0x600000 8')).toEqual(['watchpoint 2: read virtual 0x600000 in pid 100 hello (node 0 physical 0x5600000, 8 B)']);
    await s.exec('x/s 0x600000'); // the debugger's look is not a read by the machine
    const hit = await s.exec('continue');
    expect(hit[0]).toMatch(/^stopped: watchpoint 2 \(virtual 0x600000 in pid 100 hello\) was read at/);
    expect(hit[1]).toMatch(/node 0 core 0 pid 100 {2}uaccess\/copyin {2}0x600000 49 B$/);
    expect(await s.exec('info break')).toEqual([expect.stringMatching(/^ {4}2 {2}watch read virtual 0x600000 in pid 100 hello: node 0 physical 0x5600000\.\.0x5600008, 1 hit\(s\)$/)]);
    // A (change) watch on the same span does not stop for that read: its next stop is elsewhere.
    const t = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0', 'delete', 'watch 0x600000 8');
    expect((await t.exec('continue'))[1] ?? '').not.toMatch(/uaccess\/copyin {2}0x600000/);
  });

  it('stops for a read or a write of a watched span with watch access', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall lwk_getrank', 'continue', 'cpu 0.0', 'delete');
    expect(await s.exec('watch access 0x600000 8')).toEqual(['watchpoint 2: access virtual 0x600000 in pid 100 hello (node 0 physical 0x5600000, 8 B)']);
    expect((await s.exec('continue'))[0]).toMatch(/^stopped: watchpoint 2 \(virtual 0x600000 in pid 100 hello\) was accessed at/);
    await s.exec('delete');
    expect((await s.exec('continue'))[0]).toMatch(/^stopped: job finished/);
  });

  it('writes registers and memory with set, and stop ends a running continue', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0');
    expect(await s.exec('set rbx 0x1234')).toEqual(['cpu 0.0 rbx = 0x1234']);
    expect(await text(s, 'info registers')).toMatch(/rbx=0000000000001234/);
    expect(await s.exec('set phys 0x1000 0xbeef h')).toEqual(['node 0 physical 0x1000 = 0xbeef (2 B)']);
    expect(await s.exec('xp/1xh 0x1000')).toEqual(['        0x1000: 0xbeef']);
    expect(await s.exec('set rip')).toEqual(["error: rip must be a number (decimal or 0x hex), got ''"]);
    expect(await s.exec('stop')).toEqual([expect.stringMatching(/^not running: the machine is stopped at /)]);
    const big = await session('boot --nodes 64', 'load hello');
    const running = big.exec('continue');
    expect(await big.exec('stop')).toEqual(['stopping']);
    expect((await running)[0]).toMatch(/^stopped: by stop at .* \(event 10000\)$/);
    expect((await big.exec('info job'))[0]).toMatch(/INCOMPLETE \(stopped by the user at /);
  });
});

describe('reverse execution by re-running from boot', () => {
  it('reverse-step comes back to exactly the machine it left (time, events, trace, registers)', async () => {
    const s = await session('boot --nodes 4', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'delete');
    const before = await fingerprint(s);
    await s.exec('step 25');
    const after = await fingerprint(s);
    expect((await s.exec('reverse-step 25'))[0]).toMatch(/^now at .* \(event \d+\)$/);
    expect(await fingerprint(s)).toBe(before);
    await s.exec('step 25');
    expect(await fingerprint(s)).toBe(after);
  });

  it('goto an event count lands where running forward to it does (property, seeded)', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'goto 900');
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 900 }), async (k) => {
        await s.exec(`goto ${k}`);
        const back = await fingerprint(s);
        const fresh = await session('boot --nodes 2', 'load hello', `goto ${k}`);
        expect(back).toBe(await fingerprint(fresh));
      }),
      { seed: 18, numRuns: 6 },
    );
  });

  it('reverse-continue goes back to the previous breakpoint hit, and goto TIME to a time', async () => {
    const s = await session('boot --nodes 4', 'load hello', 'break syscall/dispatch program hello syscall write');
    const first = await s.exec('continue');
    await s.exec('continue');
    const back = await s.exec('reverse-continue');
    expect(back[0]).toMatch(/^back at the hit before: /);
    expect(back[1]).toBe(first[1]);
    expect(s.lastRecord()).toMatchObject({ path: 'syscall', step: 'dispatch', detail: 'write' });
    expect(await s.exec('goto 5us')).toEqual([expect.stringMatching(/^now at 5\.000 us \(event \d+\)$/), expect.stringMatching(/re-ran \d+ events from boot/)]);
    expect(s.system.now).toBe(5_000_000);
  });

  it('makes the core that hit a breakpoint the current CPU (found by a newcomer: x then read node 0)', async () => {
    const s = await session('boot --nodes 4', 'load hello', 'break jobload/create node 2');
    expect((await s.exec('continue'))[0]).toMatch(/^stopped: breakpoint 1 /);
    expect(s.cur).toEqual({ node: 2, core: 0 });
    expect((await s.exec('x/1xg 0x400000'))[0]).toMatch(/^ +0x400000: /);
  });

  it('reverse-continue goes back to the previous watchpoint hit too', async () => {
    // The write syscall's copyin reads hello's buffer on node 0: go past it, then back to it.
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0', 'delete', 'watch read 0x600000 8');
    const hit = await s.exec('continue');
    expect(hit[0]).toMatch(/^stopped: watchpoint 2 .* was read at/);
    await s.exec('step 50');
    const back = await s.exec('reverse-continue');
    expect(back[0]).toMatch(/^back at the hit before: /);
    expect(back[1]).toBe(hit[1]);
    expect(s.lastRecord()).toMatchObject({ path: 'uaccess', step: 'copyin' });
  });

  it('replays inputs at the event counts they ran at: a set survives going back to after it, not to before it', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'goto 500', 'set phys 0x2000 0x77 b', 'step 100');
    await s.exec('reverse-step 50');
    expect(await s.exec('xp/1xb 0x2000')).toEqual(['        0x2000: 0x77']);
    await s.exec('goto 400');
    expect(await s.exec('xp/1xb 0x2000')).toEqual(['        0x2000: 0x00']);
  });

  it('records the inputs as a script that replays to the same machine', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'margay-')), 'rec.txt');
    const s = await session('boot --nodes 2', 'load hello', 'step 300', 'cpu 1.0', 'set rax 5', 'step 200', `record ${file}`);
    const t = await session(`replay ${file}`);
    expect(await fingerprint(t)).toBe(await fingerprint(s));
    expect(await text(t, 'info registers 1.0')).toBe(await text(s, 'info registers 1.0'));
  });
});

describe('--json', () => {
  it('answers each command with one object: command, ok, output, data', async () => {
    const s = await session('boot --nodes 2', 'load hello', 'break syscall/dispatch program hello syscall write', 'continue', 'cpu 0.0');
    const regs = await s.execJson('info registers');
    expect(regs).toMatchObject({ command: 'info registers', ok: true, data: { node: 0, core: 0, registers: { rax: '0x1' } } });
    const bad = await s.execJson('x/1xg 0x7f0000000000');
    expect(bad).toMatchObject({ ok: false, error: 'user address 0x7f0000000000 is not readable in pid 100 (hello) on node 0' });
    expect(JSON.parse(JSON.stringify(await s.execJson('info tlb')))).toMatchObject({ ok: true, data: { capacity: 512 } });
  });
});
