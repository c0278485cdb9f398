import { describe, expect, it } from 'vitest';
import { APPS } from '../../userland/apps/index.ts';
import { boot } from './helpers.ts';

describe('the control and inspection API', () => {
  it('steps one event at a time', () => {
    const sys = boot();
    sys.launchDirect(APPS.hello, [0], []);
    const before = sys.engine.fired;
    expect(sys.step()).toBe(true);
    expect(sys.engine.fired).toBe(before + 1);
  });

  it('runs to the next trace record', () => {
    const sys = boot();
    sys.launchDirect(APPS.hello, [0], []);
    const a = sys.next()!;
    const b = sys.next()!;
    expect(`${a.path}/${a.step}`).toBe('sched/switch');
    expect(b.t).toBeGreaterThan(a.t);
  });

  it('stops at a breakpoint on a syscall name and shows where', () => {
    const sys = boot({ trace: false });
    const job = sys.launchDirect(APPS.hello, [0], []);
    const bp = sys.addBreakpoint({ syscall: 'getpid' });
    const stop = sys.run({ done: () => sys.jobDone(job) });
    expect(stop.kind).toBe('breakpoint');
    if (stop.kind !== 'breakpoint') return;
    expect(stop.breakpoint.id).toBe(bp.id);
    expect(stop.record).toMatchObject({ node: 0, core: 0, pid: 1, path: 'syscall', step: 'dispatch', detail: 'getpid' });
    // rax still holds the number while the call is in flight.
    expect(sys.inspect.registers(0, 0).rax).toBe(39n);
    expect(sys.inspect.cpuView(0, 0)).toMatchObject({ mode: 'kernel', current: { pid: 1, tid: 1 } });
    // Continue to the end.
    sys.breakpoints.clear();
    expect(sys.run({ done: () => sys.jobDone(job) }).kind).toBe('done');
  });

  it('stops at a glob over path/step, filtered by core', () => {
    const sys = boot({ cores: 2 });
    const job = sys.launchDirect(APPS.tlbstale, [0], []);
    sys.addBreakpoint({ pattern: 'xcall/*', core: 1 });
    const stop = sys.run({ done: () => sys.jobDone(job) });
    expect(stop.kind === 'breakpoint' && `${stop.record.path}/${stop.record.step}@${stop.record.core}`).toBe('xcall/run@1');
  });

  it('summarises the booted nodes', () => {
    const sys = boot({ nodes: 4 });
    const job = sys.launchDirect(APPS.hello, [0, 2], []);
    sys.run({ done: () => sys.jobDone(job) });
    expect(sys.inspect.nodesView().map((n) => [n.node, n.coords, n.cores, n.processes])).toEqual([
      [0, [0], ['idle', 'idle'], []],
      [2, [2], ['idle', 'idle'], []],
    ]);
  });

  it('runs until a time and reports it', () => {
    const sys = boot();
    sys.launchDirect(APPS.sysexercise, [0], []);
    const stop = sys.run({ until: 5_000_000 });
    expect(stop).toEqual({ kind: 'time', time: 5_000_000 });
    expect(sys.now).toBe(5_000_000);
  });

  it('shows processes, regions, TLBs, APICs and memory', () => {
    const sys = boot({ cores: 2 });
    const job = sys.launchDirect(APPS.hello, [0], ['x']);
    sys.addBreakpoint({ syscall: 'write' });
    sys.run({ done: () => sys.jobDone(job) });
    const [ps] = sys.inspect.processes(0);
    expect(ps).toMatchObject({ pid: 1, name: 'hello', alive: true, threads: [{ tid: 1, core: 0, state: 'running' }] });
    expect(ps.regions.map((r) => r.kind)).toEqual(['text', 'data', 'bss', 'heap', 'stack']);
    expect(ps.regions.find((r) => r.kind === 'heap')!.pageSize).toBe(2 * 1024 * 1024);
    const tlb = sys.inspect.tlbView(0, 0);
    expect(tlb.entries.length).toBeGreaterThan(0);
    expect(tlb.entries.every((e) => e.asid === 1)).toBe(true);
    expect(sys.inspect.apicView(0, 0)).toMatchObject({ isr: [], nmiPending: false });
    // argv[1] is on the stack: read it through the process's page tables.
    const stackTop = ps.regions.find((r) => r.kind === 'stack')!.end;
    const text = new TextDecoder().decode(sys.inspect.virtual(0, 1, stackTop - 64, 64));
    expect(text).toContain('hello\0x\0MARGAY_RANK=0\0');
    expect(() => sys.inspect.virtual(0, 1, 0x10, 8)).toThrow(/not readable/);
  });
});
