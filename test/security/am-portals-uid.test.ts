// Active Messages over Portals: the receive rings are appended on portal
// table entry 0 with no uid (PTL_UID_ANY) and no source restriction. A
// process of ANOTHER uid, outside the job, builds a logical NI whose map
// points at the victim's rank 0 and puts a hand-made AM header there with
// the AM match bits. The victim's AM layer then runs it as one of its own:
// a STORE writes the attacker's bytes at an address the attacker chose, and
// a REQUEST runs the victim's handler with the attacker's arguments.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { amStart } from '../../userland/lib/am/am.ts';
import { AM_BITS, amOverPortals } from '../../userland/lib/am/portals.ts';
import { AM_HEADER_BYTES, AM_KIND } from '../../userland/lib/am/wire.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { program } from '../../userland/lib/runtime.ts';
import { OWNED, SECRET, includes, spawn, waitFor } from '../security/attack.ts';

function amHeader(kind: number, handler: number, src: number, args: bigint[], dataLen: number) {
  const b = new Uint8Array(AM_HEADER_BYTES);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, kind);
  dv.setUint8(1, args.length);
  dv.setUint16(2, handler, true);
  dv.setUint32(4, src, true);
  dv.setUint32(8, dataLen, true);
  args.forEach((a, i) => dv.setBigInt64(16 + 8 * i, a, true));
  return b;
}

describe('Active Messages over Portals, attacked from another uid', () => {
  it('refuses a uid-2 process outside the job: no bytes written into a uid-1000 rank, none of its handlers run', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
    const s = { secretVa: 0, victimPid: 0, ready: false, attacked: false, after: new Uint8Array(0) as Uint8Array, seen: [] as string[] };
    const victim = program('victim', function* (env) {
      const t = yield* amOverPortals(env);
      const am = yield* amStart(env, t, [
        function* h0(token, ...args) {
          s.seen.push(`h0 src=${token.src} args=${JSON.stringify(args)}`);
        },
      ]);
      if (t.rank !== 0) {
        yield* waitFor(env, () => s.attacked);
        return 0;
      }
      const buf = yield* env.mem.alloc(64);
      yield* env.mem.store(buf, SECRET);
      s.secretVa = buf;
      s.ready = true;
      for (let i = 0; i < 400 && !s.attacked; i++) {
        yield* am.poll();
        yield* env.compute(2000);
      }
      for (let i = 0; i < 50; i++) { yield* am.poll(); yield* env.compute(2000); }
      s.after = yield* env.mem.load(buf, 64);
      return 0;
    });
    const job = sys.launchDirect(victim, [0, 1], [], 1000);
    const attacker = spawn(sys, 2, 2, 'attacker', function* (env) {
      yield* waitFor(env, () => s.ready);
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_LOGICAL, PTL.PID_ANY, null);
      const mapRc = yield* P.PtlSetMap(ni, [{ nid: 0, pid: job.ranks[0].process!.pid }]);
      const { eq } = yield* P.PtlEQAlloc(ni, 64);
      yield* P.PtlPTAlloc(ni, 0, eq, 0);
      const put = function* (bytes: Uint8Array) {
        const buf = yield* env.mem.alloc(bytes.length);
        yield* env.mem.store(buf, bytes);
        const { md } = yield* P.PtlMDBind(ni, { start: buf, length: bytes.length, eq_handle: eq });
        return yield* P.PtlPut(md, 0, bytes.length, PTL.NO_ACK_REQ, { rank: 0 } as never, 0, AM_BITS, 0, 0, 0);
      };
      const store = new Uint8Array(AM_HEADER_BYTES + OWNED.length);
      store.set(amHeader(AM_KIND.STORE, 0, 1, [BigInt(s.secretVa), 666n], OWNED.length));
      store.set(OWNED, AM_HEADER_BYTES);
      const rc1 = yield* put(store);
      const rc2 = yield* put(amHeader(AM_KIND.REQUEST, 0, 1, [31337n], 0));
      s.seen.push(`attacker: setmap ${mapRc} put ${rc1} ${rc2}`);
      yield* env.sys.nanosleep(100_000);
      s.attacked = true;
    });
    sys.run({ until: 1e12, done: () => sys.jobDone(job) && !attacker.alive });
    // The attack really happened (its puts were accepted by its own NI) and the victim saw nothing of it.
    expect(s.seen).toContain('attacker: setmap 0 put 0 0');
    expect(includes(s.after, OWNED)).toBe(false);
    expect(s.seen.filter((x) => x.startsWith('h0'))).toEqual([]);
  });
});
