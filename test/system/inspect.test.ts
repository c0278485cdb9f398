// The inspection API hands out plain data: numbers, strings, booleans,
// bigints, arrays, byte copies and plain objects, never a kernel object the
// monitor could walk (or change) behind the API's back.

import { describe, expect, it } from 'vitest';
import { APPS } from '../../userland/apps/index.ts';
import { boot } from '../kernel/helpers.ts';

/** Paths inside `v` that hold something other than plain data. */
function notPlain(v: unknown, path = '$', seen = new Set<unknown>()): string[] {
  if (v === null || ['number', 'string', 'boolean', 'bigint', 'undefined'].includes(typeof v)) return [];
  if (v instanceof Uint8Array) return [];
  if (typeof v !== 'object') return [`${path}: ${typeof v}`];
  if (seen.has(v)) return [];
  seen.add(v);
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== Array.prototype) return [`${path}: ${proto?.constructor?.name ?? 'null prototype'}`];
  return Object.entries(v as object).flatMap(([k, x]) => notPlain(x, `${path}.${k}`, seen));
}

describe('system/inspect: what the monitor reads', () => {
  it('answers every read with plain data, mid-run and at the end', () => {
    const sys = boot({ nodes: 8, trace: false });
    const job = sys.launchDirect(APPS.hello, [0, 1], []);
    sys.addBreakpoint({ syscall: 'getpid' });
    expect(sys.run({ done: () => sys.jobDone(job) }).kind).toBe('breakpoint');
    const i = sys.inspect;
    const pid = i.liveProcesses(0)[0].pid;
    const reads = {
      nodes: i.nodesView(),
      node: i.nodeView(0),
      activity: [i.activity(0), i.activity(5)],
      cpu: i.cpuView(0, 0),
      registers: i.registers(0, 0),
      tlb: i.tlbView(0, 0),
      apic: i.apicView(0, 0),
      processes: i.processes(),
      live: i.liveProcess(0, pid),
      running: i.runningProcess(0, 0),
      portals: i.portalsView(0),
      extensions: i.extensions(),
      kernels: i.kernelStats(),
      translate: i.translate(0, pid, 0x400000),
      memory: i.virtual(0, pid, 0x400000, 16),
    };
    expect(notPlain(reads)).toEqual([]);
    // The checker itself tells a kernel object apart.
    expect(notPlain({ k: sys.kernel(0) })).toEqual(['$.k: Kernel']);
    expect(reads.running?.pid).toBe(pid);
    expect(reads.activity[0]).toMatchObject({ booted: true, kernelMode: true });
    expect(reads.activity[1].booted).toBe(false);
    sys.breakpoints.clear();
    sys.run({ done: () => sys.jobDone(job) });
    expect(notPlain(i.processes())).toEqual([]);
    expect(i.kernelStats().map((k) => k.stats.syscalls).every((n) => n > 0)).toBe(true);
  });

  it('names the process it cannot find instead of handing out nothing', () => {
    const sys = boot({ trace: false });
    sys.launchDirect(APPS.hello, [0], []);
    expect(() => sys.inspect.liveProcess(0, 999)).toThrow('no live process 999 on node 0');
    expect(() => sys.inspect.registers(0, 99)).toThrow('node 0 has no core 99');
  });

  it('does not boot a kernel to look at it', () => {
    const sys = boot({ nodes: 8, trace: false });
    expect(sys.inspect.booted(3)).toBe(false);
    expect(sys.inspect.activity(3).booted).toBe(false);
    expect(sys.inspect.booted(3)).toBe(false);
  });
});
