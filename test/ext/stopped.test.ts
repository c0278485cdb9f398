// Issue 10, item 6: a handler stopped by its budget (or a fault) has no side
// effects: its granted region is left as it was, its queued puts are never
// sent, and what it costs is the same on both engines.
import { describe, expect, it } from 'vitest';
import { getProfile, withOverrides } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { attachExtension, extensionStats } from '../../userland/lib/ext.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { program } from '../../userland/lib/runtime.ts';

// Adds 5 to region[0] (helper and store), forwards a put to rank 0, then (when
// the first payload word is 1) spins until the budget stops it.
const HANDLER = `mov %r6, %r1
mov %r7, %r3
mov %r1, %r3
mov %r2, 5
call 4
stdw [%r7+8], 9
mov %r1, 0
mov %r2, 0
mov %r3, 0
mov %r4, %r6
mov %r5, 8
call 2
ldxdw %r8, [%r6+64]
jne %r8, 1, done
spin:
add %r8, 1
jne %r8, 0, spin
done:
mov %r0, 0
exit`;

function scenario(engine: 'interp' | 'jit', word: bigint) {
  const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': 1 }, 'test');
  const sys = new System({ profile, shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = true;
  const seen: { region: bigint[]; stats?: { runs: number; forwards: number; faults: number; insns: number }; arrivals: number } = { region: [], arrivals: 0 };
  const target = program('target', function* (env) {
    const P = new Portals(env.cpu, env.mem);
    yield* P.PtlInit();
    const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
    const { eq } = yield* P.PtlEQAlloc(ni, 64);
    yield* P.PtlPTAlloc(ni, 0, eq, 0);
    const buf = yield* env.mem.alloc(256);
    const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: 256, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
    const region = yield* env.mem.alloc(64);
    const r = yield* attachExtension(env, { code: HANDLER, format: 'asm', entry: le.handle, region, regionLen: 64, payloadMax: 8, engine });
    if (!r.ok) throw new Error(r.reason);
    yield* env.compute(24_000_000);
    seen.region = [yield* env.mem.loadU64(region), yield* env.mem.loadU64(region + 8)];
    seen.stats = yield* extensionStats(env, r.id);
  });
  const sender = program('sender', function* (env) {
    const P = new Portals(env.cpu, env.mem);
    yield* P.PtlInit();
    const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
    const { eq } = yield* P.PtlEQAlloc(ni, 64);
    yield* P.PtlPTAlloc(ni, 0, eq, 0);
    const inbox = yield* env.mem.alloc(64);
    yield* P.PtlLEAppend(ni, 0, { start: inbox, length: 64, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
    const src = yield* env.mem.alloc(8);
    const { md } = yield* P.PtlMDBind(ni, { start: src, length: 8 });
    yield* env.sys.nanosleep(1_000_000);
    yield* env.mem.storeU64(src, word);
    yield* P.PtlPut(md, 0, 8, PTL.NO_ACK_REQ, { nid: 1, pid: 1 }, 0, 0n, 0, 0, 0);
    yield* env.sys.nanosleep(20_000_000);
    for (let e = yield* P.PtlEQGet(eq); e.rc === PTL.OK; e = yield* P.PtlEQGet(eq)) if (e.event!.type === PTL.EVENT_PUT) seen.arrivals++;
  });
  sys.kernel(1).spawn(target, { rank: 0, jobSize: 1, uid: 1, argv: ['t'], envp: [] });
  sys.kernel(0).spawn(sender, { rank: 0, jobSize: 1, uid: 1, argv: ['s'], envp: [] });
  sys.run({ until: 1e12 });
  const run = sys.trace.last().filter((r) => r.node === 1 && r.path === 'ext' && r.step === 'run');
  return { ...seen, runs: run.map((r) => ({ t: r.t, detail: r.detail })) };
}

describe('an extension handler', () => {
  it('that finishes keeps its region updates and sends its forwarded put', () => {
    const s = scenario('interp', 2n);
    expect(s.region).toEqual([5n, 9n]);
    expect(s.stats).toMatchObject({ runs: 1, forwards: 1, faults: 0 });
    expect(s.arrivals).toBe(1);
  });

  it('stopped by its budget leaves its region untouched and sends nothing', () => {
    for (const engine of ['interp', 'jit'] as const) {
      const s = scenario(engine, 1n);
      expect(s.region).toEqual([0n, 0n]);
      expect(s.stats).toMatchObject({ runs: 1, forwards: 0, faults: 1, insns: 100_000 });
      expect(s.arrivals).toBe(0);
      expect(s.runs[0].detail).toMatch(/stopped at the 100000-instruction budget; message dropped, no side effects/);
    }
  });

  it('stopped by its budget costs the same time on either engine', () => {
    expect(scenario('jit', 1n).runs).toEqual(scenario('interp', 1n).runs);
  });
});
