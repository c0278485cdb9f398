// Issue 10, items 8-10: no user program crashes the host or oopses the
// kernel. Each case is an attack that used to end in a host exception or a
// kernel oops (the caller killed with "kernel oops"); now it gets an error
// code, or the run ends cleanly at the end of simulated time.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getProfile, withOverrides } from '../../hw/profile.ts';
import { MAX_TIME_PS } from '../../hw/time.ts';
import { type StopReason, System } from '../../system/system.ts';
import { buildReport } from '../../monitor/report.ts';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { attachExtension } from '../../userland/lib/ext.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { type Env, type Main, program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

const U64_MAX = 2n ** 64n - 1n;

function machine(nodes = 1, overrides: Record<string, number> = {}) {
  const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': 1, ...overrides }, 'test');
  return new System({ profile, shape: { kind: 'mesh', dims: [nodes] }, seed: 1 });
}

function oopses(sys: System): number {
  return sys.bootedKernels().reduce((n, k) => n + k.stats.oopses, 0);
}

/** Runs `main` on node 0 (of `nodes`) until it exits or the run stops; what it returned, the stop, the oops count. */
function attack(main: Main, opts: { nodes?: number; overrides?: Record<string, number>; until?: number } = {}) {
  const sys = machine(opts.nodes ?? 1, opts.overrides);
  const job = sys.launchDirect(program('attack', main), [0], []);
  const stop: StopReason = sys.run({ done: () => sys.jobDone(job), until: opts.until });
  const p = job.ranks[0].process!;
  return { sys, job, stop, p, results: Object.fromEntries(p.results), oopses: oopses(sys) };
}

function* openNi(env: Env) {
  const P = new Portals(env.cpu, env.mem);
  yield* P.PtlInit();
  const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
  const { eq } = yield* P.PtlEQAlloc(ni, 64);
  yield* P.PtlPTAlloc(ni, 0, eq, 0);
  return { P, ni, eq };
}

const big = (v: bigint) => v as unknown as number;

describe('the end of simulated time (issue 10, item 8)', () => {
  it('ends a run cleanly, with a stop that says so, when a computation would end past the last picosecond', () => {
    const { stop, p, oopses: n } = attack(function* (env) {
      yield* env.compute(3e13);
      return 0;
    });
    expect(stop.kind).toBe('end-of-time');
    expect(n).toBe(0);
    expect(p.exitStatus).toBeNull();
  });

  it('gives a run report that says the run reached the end of simulated time', () => {
    const { sys, job, stop } = attack(function* (env) {
      yield* env.compute(3e13);
      return 0;
    });
    const report = buildReport(sys, job, stop, null, 0);
    expect(report.job.stop).toMatch(/reached the end of simulated time/);
    expect(report.job.status).toBe('incomplete');
    expect(report.kernel.oopses).toBe(0);
  });

  it('still runs everything that happens before the end of time', () => {
    const { stop, results } = attack(function* (env) {
      yield* env.sys.publish('before', 1);
      yield* env.compute(3e13);
      yield* env.sys.publish('after', 1);
      return 0;
    });
    expect(stop.kind).toBe('end-of-time');
    expect(results).toEqual({ before: 1 });
  });
});

describe('calls that used to oops the kernel get an error code (issue 10, item 9)', () => {
  it('refuses ptl_ni_init with a limit of 2^53 or more without an oops', () => {
    const { results, oopses: n } = attack(function* (env) {
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const r = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, { max_pt_index: 2 ** 53, max_eqs: big(U64_MAX) }, { actual: true });
      yield* env.sys.publish('rc', r.rc);
      yield* env.sys.publish('max_pt_index', r.actual.max_pt_index);
      return 0;
    });
    expect(n).toBe(0);
    // Limits ask for at most what the implementation grants: a huge one is granted its maximum.
    expect(results.rc).toBe(PTL.OK);
    expect(results.max_pt_index).toBeGreaterThan(0);
    expect(results.max_pt_index).toBeLessThan(2 ** 20);
  });

  it('waits in PtlEQPoll with a timeout near 2^32 ms until the end of time, without an oops', () => {
    const { stop, oopses: n } = attack(function* (env) {
      const { P, eq } = yield* openNi(env);
      yield* P.PtlEQPoll([eq], 2 ** 32 - 2);
      return 0;
    });
    expect(n).toBe(0);
    expect(stop.kind).toBe('end-of-time');
  });

  it('waits in PtlCTPoll with a timeout near 2^32 ms until the end of time, without an oops', () => {
    const { stop, oopses: n } = attack(function* (env) {
      const { P, ni } = yield* openNi(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      yield* P.PtlCTPoll([ct], [1], 2 ** 32 - 2);
      return 0;
    });
    expect(n).toBe(0);
    expect(stop.kind).toBe('end-of-time');
  });

  it('returns from PtlCTPoll with a timeout near 2^32 ms when another thread bumps the counter', () => {
    const { results, oopses: n } = attack(function* (env) {
      const { P, ni } = yield* openNi(env);
      const { ct } = yield* P.PtlCTAlloc(ni);
      const h = yield* env.spawn(function* (e2) {
        yield* e2.compute(1e5);
        yield* new Portals(e2.cpu, e2.mem).PtlCTInc(ct, 1, 0);
      });
      const r = yield* P.PtlCTPoll([ct], [1], 2 ** 32 - 2);
      yield* env.sys.publish('rc', r.rc);
      yield* env.join(h);
      return 0;
    });
    expect(n).toBe(0);
    expect(results.rc).toBe(PTL.OK);
  });

  it('waits in lwk_kmsg_recv with a huge timeout until the end of time, without an oops', () => {
    const { stop, oopses: n } = attack(function* (env) {
      const buf = yield* env.mem.alloc(4096);
      yield* env.sys.kmsgRecv(buf, 4096, Number.MAX_SAFE_INTEGER);
      return 0;
    });
    expect(n).toBe(0);
    expect(stop.kind).toBe('end-of-time');
  });

  it('refuses ptl_put with remote offset 2^64-1 with a PTL code', () => {
    const { results, oopses: n } = attack(
      function* (env) {
        const { P, ni, eq } = yield* openNi(env);
        const buf = yield* env.mem.alloc(64);
        const { md } = yield* P.PtlMDBind(ni, { start: buf, length: 64, options: 0, eq_handle: eq, ct_handle: PTL.CT_NONE });
        const rc = yield* P.PtlPut(md, 0, 8, PTL.NO_ACK_REQ, { nid: 1, pid: 1 }, 0, 0n, big(U64_MAX), 0, 0);
        yield* env.sys.publish('rc', rc);
        return 0;
      },
      { nodes: 2, until: 1e12 },
    );
    expect(n).toBe(0);
    expect(results.rc).toBe(PTL.ARG_INVALID);
  });

  it('refuses ptl_fetch_atomic with put offset 2^64-1 on an MD spanning two regions', () => {
    const { results, oopses: n } = attack(
      function* (env) {
        const { P, ni, eq } = yield* openNi(env);
        const hi = yield* env.sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        const lo = yield* env.sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (lo + 4096 !== hi) throw new Error('the two mappings are not adjacent');
        const { md } = yield* P.PtlMDBind(ni, { start: lo, length: 8192, options: 0, eq_handle: eq, ct_handle: PTL.CT_NONE });
        const rc = yield* P.PtlFetchAtomic(md, 0, md, big(U64_MAX), 8, { nid: 1, pid: 1 }, 0, 0n, 0, 0, 0, PTL.SUM, PTL.UINT64_T);
        yield* env.sys.publish('rc', rc);
        return 0;
      },
      { nodes: 2, until: 1e12 },
    );
    expect(n).toBe(0);
    expect(results.rc).toBe(PTL.ARG_INVALID);
  });

  it('refuses ext_attach of an ELF whose code section is NOBITS with an offset past the file', () => {
    const elf = new Uint8Array(readFileSync(new URL('../fixtures/handler.o', import.meta.url)));
    const dv = new DataView(elf.buffer);
    const shoff = Number(dv.getBigUint64(40, true));
    const shnum = dv.getUint16(60, true);
    let code = -1;
    for (let i = 0; i < shnum; i++) if ((Number(dv.getBigUint64(shoff + 64 * i + 8, true)) & 4) !== 0 && dv.getBigUint64(shoff + 64 * i + 32, true) > 0n) code = i;
    expect(code).toBeGreaterThan(0);
    dv.setUint32(shoff + 64 * code + 4, 8, true); // SHT_NOBITS
    dv.setBigUint64(shoff + 64 * code + 24, BigInt(elf.length + 4096), true);
    const { results, oopses: n } = attack(
      function* (env) {
        const { P, ni } = yield* openNi(env);
        const buf = yield* env.mem.alloc(256);
        const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: 256, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
        const region = yield* env.mem.alloc(64);
        const r = yield* attachExtension(env, { code: elf, format: 'elf', entry: le.handle, region, regionLen: 64, payloadMax: 8 });
        yield* env.sys.publish('errno', r.ok ? 0 : r.errno);
        return 0;
      },
      { until: 1e12 },
    );
    expect(n).toBe(0);
    expect(results.errno).toBe(ERRNO.EINVAL);
  });

  it('refuses mmap of the last free page with ENOMEM when it needs a new page table', () => {
    const { results, oopses: n } = attack(
      function* (env) {
        const rw = PROT_READ | PROT_WRITE;
        const anon = MAP_PRIVATE | MAP_ANONYMOUS;
        // Take every free frame, biggest pieces first.
        let last = -1;
        for (let size = 1 << 30; size >= 4096; size /= 2) {
          for (;;) {
            const va = yield* env.sys.mmap(0, size, rw, anon);
            if (va < 0) break;
            if (size === 4096) last = va;
          }
        }
        if (last < 0) throw new Error('no 4 KiB page was left to free');
        yield* env.sys.munmap(last, 4096);
        // One free frame; a page far from every mapping needs new page tables too.
        const r = yield* env.sys.mmap(0x6000_0000_0000, 4096, rw, anon | MAP_FIXED);
        yield* env.sys.publish('mmap', r);
        const again = yield* env.sys.mmap(0, 4096, rw, anon);
        yield* env.sys.publish('again', again > 0 ? 1 : again);
        return 0;
      },
      { overrides: { 'memory.bytes': 1 << 24 }, until: 1e12 },
    );
    expect(n).toBe(0);
    expect(results.mmap).toBe(-ERRNO.ENOMEM);
    // The refused call gave its frame back: the last page can still be mapped where tables exist.
    expect(results.again).toBe(1);
  });

  it('lets clone near the end of time succeed or fail with an error code, never an oops', () => {
    const { oopses: n, stop } = attack(function* (env) {
      // Get within half a quantum (10 ms) of the last picosecond, then clone onto the same core.
      const hz = 2.4e9;
      const cycles = Math.floor(((MAX_TIME_PS - 5e9) * hz) / 1e12);
      yield* env.compute(cycles);
      const h = yield* env.spawn(function* (e2) {
        yield* e2.compute(1e6);
      });
      yield* env.sys.publish('tid', h.tid);
      yield* env.compute(1e6);
      return 0;
    });
    expect(n).toBe(0);
    expect(['done', 'end-of-time']).toContain(stop.kind);
  });
});

describe('a failed clone (issue 10, item 10)', () => {
  it('leaves no thread behind when the parent-tid pointer is bad, so the process can exit', () => {
    const { stop, p, results, oopses: n } = attack(function* (env) {
      const stack = yield* env.mem.alloc(65536);
      const r = yield* env.sys.raw(SYS.clone, 0x100 | 0x10000 | 0x100000, stack + 65536, 0x10, 0, 0);
      yield* env.sys.publish('clone', r);
      // exit, not exit_group: the process ends with its last thread.
      yield* env.sys.exit(0);
    }, { until: 1e12 });
    expect(n).toBe(0);
    expect(results.clone).toBe(-ERRNO.EFAULT);
    expect(stop.kind).toBe('done');
    expect(p.exitStatus).toBe(0);
    expect(p.threads.filter((t) => t.state !== 'dead')).toEqual([]);
  });
});
