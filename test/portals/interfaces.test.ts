import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { program } from '../../userland/lib/runtime.ts';

// The NIC offers two Portals interfaces: 0 (PTL_IFACE_DEFAULT) and 1, which
// the conformance runtime uses for its barrier so that it never shares an
// NI, portal table entry or event queue with the program's own.
describe('Portals network interfaces', () => {
  it('gives interface 1 NIs of its own, beside those of interface 0, and refuses interface 2', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [1] }, seed: 1 });
    const seen: Record<string, number> = {};
    const prog = program('ifaces', function* (env) {
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const opts = PTL.NI_MATCHING | PTL.NI_PHYSICAL;
      const a = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, opts, PTL.PID_ANY, null);
      const zero = yield* P.PtlNIInit(0, opts, PTL.PID_ANY, null);
      const b = yield* P.PtlNIInit(1, opts, PTL.PID_ANY, null);
      const c = yield* P.PtlNIInit(2, opts, PTL.PID_ANY, null);
      seen.default = a.rc;
      seen.sameAsZero = a.ni === zero.ni ? 1 : 0;
      seen.one = b.rc;
      seen.distinct = a.ni !== b.ni ? 1 : 0;
      seen.two = c.rc;
      // Both take portal table entry 0: they are separate tables.
      const ea = yield* P.PtlEQAlloc(a.ni, 4);
      const eb = yield* P.PtlEQAlloc(b.ni, 4);
      seen.ptA = (yield* P.PtlPTAlloc(a.ni, 0, ea.eq, 0)).rc;
      seen.ptB = (yield* P.PtlPTAlloc(b.ni, 0, eb.eq, 0)).rc;
      // A handle from interface 1 names interface 1's NI.
      seen.owner = (yield* P.PtlNIHandle(eb.eq)).ni === b.ni ? 1 : 0;
      return 0;
    });
    const job = sys.launchDirect(prog, [0], []);
    sys.run({ done: () => sys.jobDone(job) });
    expect(seen).toEqual({ default: PTL.OK, sameAsZero: 1, one: PTL.OK, distinct: 1, two: PTL.ARG_INVALID, ptA: PTL.OK, ptB: PTL.OK, owner: 1 });
  });

  it('answers PtlNIHandle only for a live handle: a freed event queue, or a made-up handle of a live NI, is PTL_ARG_INVALID', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [1] }, seed: 1 });
    const seen: Record<string, number> = {};
    const prog = program('nihandle', function* (env) {
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const a = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
      const e = yield* P.PtlEQAlloc(a.ni, 4);
      seen.live = (yield* P.PtlNIHandle(e.eq)).rc;
      seen.freed = yield* P.PtlEQFree(e.eq);
      seen.afterFree = (yield* P.PtlNIHandle(e.eq)).rc;
      // The next slot of the same NI, never allocated.
      seen.madeUp = (yield* P.PtlNIHandle(e.eq + 1)).rc;
      return 0;
    });
    const job = sys.launchDirect(prog, [0], []);
    sys.run({ done: () => sys.jobDone(job) });
    expect(seen).toEqual({ live: PTL.OK, freed: PTL.OK, afterFree: PTL.ARG_INVALID, madeUp: PTL.ARG_INVALID });
  });
});
