// Active Messages over Portals, attacked by a process of ANOTHER job of the
// SAME uid: its puts pass the rings' uid check. It is rank 1 of its own job,
// builds a logical NI whose map points at the victim's rank 0, and puts a
// hand-made STORE (bytes at an address it chose) and a REQUEST (the victim's
// handler with its arguments), both claiming to come from rank 1. The
// receiving kernel reports the initiator's rank in the victim's own map
// (kernel/portals/ranks.ts): the attacker is in no rank of it, and the AM
// layer takes no message from outside its job (nor one whose header names
// another sender than the kernel saw).
import { describe, expect, it } from 'vitest';
import { amStart } from '../../userland/lib/am/am.ts';
import { AM_BITS, amOverPortals } from '../../userland/lib/am/portals.ts';
import { AM_HEADER_BYTES, AM_KIND, encodeHeader } from '../../userland/lib/am/wire.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';
import { OWNED, SECRET, includes, waitFor } from './attack.ts';

describe('Active Messages over Portals, attacked by another job of the same uid', () => {
  it('runs no handler and writes no byte for a rank of another job posing as rank 1', () => {
    const sys = boot({ nodes: 4, trace: false });
    const s = { secretVa: 0, ready: false, attacked: false, after: new Uint8Array(0) as Uint8Array, seen: [] as string[] };
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
      for (let i = 0; i < 50; i++) {
        yield* am.poll();
        yield* env.compute(2000);
      }
      s.after = yield* env.mem.load(buf, 64);
      return 0;
    });
    const job = sys.launchDirect(victim, [0, 1], [], 1000);
    const attacker = program('attacker', function* (env) {
      if ((yield* env.sys.getrank()) !== 1) return 0;
      yield* waitFor(env, () => s.ready);
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_LOGICAL, PTL.PID_ANY, null);
      const mapRc = yield* P.PtlSetMap(ni, [{ nid: 0, pid: job.ranks[0].process!.pid }, { nid: 0, pid: job.ranks[0].process!.pid }]);
      const { eq } = yield* P.PtlEQAlloc(ni, 64);
      const put = function* (bytes: Uint8Array) {
        const buf = yield* env.mem.alloc(bytes.length);
        yield* env.mem.store(buf, bytes);
        const { md } = yield* P.PtlMDBind(ni, { start: buf, length: bytes.length, eq_handle: eq });
        return yield* P.PtlPut(md, 0, bytes.length, PTL.NO_ACK_REQ, { rank: 0 }, 0, AM_BITS, 0, 0, 0);
      };
      const store = new Uint8Array(AM_HEADER_BYTES + OWNED.length);
      store.set(encodeHeader({ kind: AM_KIND.STORE, handler: 0, src: 1, dataLen: OWNED.length, args: [s.secretVa, 666] }));
      store.set(OWNED, AM_HEADER_BYTES);
      const rc1 = yield* put(store);
      const rc2 = yield* put(encodeHeader({ kind: AM_KIND.REQUEST, handler: 0, src: 1, dataLen: 0, args: [31337] }));
      s.seen.push(`attacker: setmap ${mapRc} put ${rc1} ${rc2}`);
      yield* env.sys.nanosleep(100_000);
      s.attacked = true;
      return 0;
    });
    const other = sys.launchDirect(attacker, [2, 3], [], 1000);
    const stop = sys.run({ until: 1e12, done: () => sys.jobDone(job) && sys.jobDone(other) });
    expect(stop.kind).toBe('done');
    // The attack really happened (its puts were accepted by its own NI) and the victim saw nothing of it.
    expect(s.seen).toContain('attacker: setmap 0 put 0 0');
    expect(includes(s.after, OWNED)).toBe(false);
    expect(s.seen.filter((x) => x.startsWith('h0'))).toEqual([]);
    expect(job.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
  });
});
