import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { APPS } from '../../userland/apps/index.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

function twoNodes() {
  return new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
}

function* open(env: Env) {
  const P = new Portals(env.cpu, env.mem);
  yield* P.PtlInit();
  const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
  const { eq } = yield* P.PtlEQAlloc(ni, 64);
  yield* P.PtlPTAlloc(ni, 0, eq, 0);
  return { P, ni, eq };
}

function* buffer(env: Env, bytes: number, fill: number) {
  const va = yield* env.sys.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  yield* env.mem.store(va, new Uint8Array(bytes).fill(fill));
  return va;
}

describe('the Portals data path', () => {
  it('goes user MD -> trap -> NIC -> mesh -> receive interrupt -> match -> DMA -> event', () => {
    const sys = twoNodes();
    sys.trace.enabled = true;
    const job = sys.launchDirect(APPS.pingpong, [0, 1], ['64']);
    sys.run({ done: () => sys.jobDone(job) });
    const steps = sys.trace.last().map((r) => `${r.node}:${r.path}/${r.step}`);
    const send = steps.lastIndexOf('0:portals/send');
    const rest = steps.slice(send);
    const order = ['1:irq/entry', '1:portals/match', '1:portals/completion', '1:portals/event'].map((s) => rest.indexOf(s));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('publishes latency and bandwidth near Red Storm\'s published figures', () => {
    const sys = twoNodes();
    const job = sys.launchDirect(APPS.pingpong, [0, 1], ['0', '1048576']);
    sys.run({ done: () => sys.jobDone(job) });
    const r = Object.fromEntries(job.ranks[0].process!.results);
    expect(r.zero_byte_latency_ns).toBeGreaterThan(2000);
    expect(r.zero_byte_latency_ns).toBeLessThan(6000);
    expect(r.bandwidth_MBps).toBeGreaterThan(950);
    expect(r.bandwidth_MBps).toBeLessThan(1200);
  });

  it('never writes outside the matched entry, whatever the offsets and lengths', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6000 }), fc.integer({ min: 0, max: 8000 }), fc.integer({ min: 0, max: 9000 }), (leLen, putLen, roff) => {
        const sys = twoNodes();
        const GUARD = 4096;
        let result: number[] = [];
        const target = program('target', function* (env) {
          const { P, ni, eq } = yield* open(env);
          const region = yield* buffer(env, GUARD + leLen + GUARD, 0xee);
          yield* P.PtlLEAppend(ni, 0, { start: region + GUARD, length: leLen, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
          yield* env.sys.publish('ready', 1);
          const ev = yield* P.PtlEQWait(eq);
          const bytes = yield* env.mem.load(region, GUARD + leLen + GUARD);
          result = [ev.event!.mlength, ev.event!.remote_offset, ...bytes];
        });
        const initiator = program('initiator', function* (env) {
          const { P, ni } = yield* open(env);
          const src = yield* buffer(env, Math.max(putLen, 1), 0x5a);
          const { md } = yield* P.PtlMDBind(ni, { start: src, length: Math.max(putLen, 1) });
          yield* env.sys.nanosleep(200_000);
          yield* P.PtlPut(md, 0, putLen, PTL.NO_ACK_REQ, { nid: 1, pid: 1 }, 0, 0n, roff, 0, 0);
          yield* env.sys.nanosleep(2_000_000);
        });
        sys.kernel(1).spawn(target, { rank: 0, jobSize: 1, uid: 1, argv: ['t'], envp: [] });
        sys.kernel(0).spawn(initiator, { rank: 0, jobSize: 1, uid: 1, argv: ['i'], envp: [] });
        sys.run({ until: 50e9 });
        const [mlength, moffset, ...bytes] = result;
        const want = roff > leLen ? 0 : Math.min(putLen, leLen - roff);
        expect(mlength).toBe(want);
        bytes.forEach((b, i) => {
          const inside = i >= GUARD + moffset && i < GUARD + moffset + mlength;
          expect(b, `byte ${i}`).toBe(inside ? 0x5a : 0xee);
        });
      }),
      { numRuns: 25 },
    );
  });

  it('drops a message for an entry of another uid and counts a permission violation', () => {
    const sys = twoNodes();
    const results: number[] = [];
    const target = program('target', function* (env) {
      const { P, ni } = yield* open(env);
      const buf = yield* buffer(env, 64, 0);
      yield* P.PtlLEAppend(ni, 0, { start: buf, length: 64, uid: 2000, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
      yield* env.sys.nanosleep(5_000_000);
      results.push((yield* P.PtlNIStatus(ni, PTL.SR_PERMISSION_VIOLATIONS)).status, (yield* env.mem.load(buf, 1))[0]);
    });
    const initiator = program('initiator', function* (env) {
      const { P, ni, eq } = yield* open(env);
      const src = yield* buffer(env, 64, 9);
      const { md } = yield* P.PtlMDBind(ni, { start: src, length: 64, eq_handle: eq });
      yield* env.sys.nanosleep(1_000_000);
      yield* P.PtlPut(md, 0, 64, PTL.ACK_REQ, { nid: 1, pid: 1 }, 0, 0n, 0, 0, 0);
      for (;;) {
        const ev = yield* P.PtlEQWait(eq);
        if (ev.event!.type === PTL.EVENT_ACK) {
          results.push(ev.event!.ni_fail_type);
          break;
        }
      }
    });
    sys.kernel(1).spawn(target, { rank: 0, jobSize: 1, uid: 2000, argv: ['t'], envp: [] });
    sys.kernel(0).spawn(initiator, { rank: 0, jobSize: 1, uid: 1000, argv: ['i'], envp: [] });
    sys.run({ until: 50e9 });
    expect(results.sort()).toEqual([0, 1, PTL.NI_PERM_VIOLATION].sort());
  });

  it('answers bad handles with PTL_ARG_INVALID and a bad argument block with -EFAULT', () => {
    const sys = twoNodes();
    const got: number[] = [];
    sys.launchDirect(
      program('bad', function* (env) {
        const { P, ni } = yield* open(env);
        got.push(yield* P.PtlPut(0x12345678, 0, 8, PTL.NO_ACK_REQ, { nid: 0, pid: 1 }, 0, 0n, 0, 0, 0));
        got.push((yield* P.PtlPTAlloc(ni, 0, PTL.EQ_NONE, 9999)).rc);
        got.push((yield* P.PtlMDBind(ni, { start: 0x10, length: 64 })).rc);
        got.push(yield* env.sys.raw(SYS.ptl_put, 0x10));
        got.push(yield* env.sys.raw(SYS.ptl_md_release, 0));
      }),
      [0],
      [],
    );
    sys.run({ until: 1e12 });
    expect(got).toEqual([PTL.ARG_INVALID, PTL.ARG_INVALID, PTL.ARG_INVALID, -ERRNO.EFAULT, PTL.ARG_INVALID]);
  });
});
