// Seeded, bounded fuzz of the user DSM's message handling: a rank of the job
// sends random and mutated protocol messages (every kind, known and unknown,
// with random pages, slots, modes and a forged `from`) into another rank's
// DSM portal while that rank serves. The target never dies and counts what it
// dropped; a correct job running beside them on other nodes still passes the
// SC checker.

import { describe, expect, it } from 'vitest';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { rng } from '../../userland/lib/dsm/litmus.ts';
import { checkerPages, runChecker } from '../../userland/lib/dsm/sccheck.ts';
import { PTL } from '../../userland/lib/portals.ts';
import { barrier, setup } from '../../userland/lib/ptlapp.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

const DSM_PT = 3;
const CTL_BITS = 0xd5a0n;
const DATA_BITS = 0xd5a1n;
const MESSAGES = 400;

describe('the user DSM under random and mutated messages', () => {
  it('keeps the target rank alive, drops and counts the bad messages, and a correct job beside it passes the SC checker', () => {
    const sys = boot({ nodes: 5, trace: false });
    const target = program('dsmu-fuzz', function* (env) {
      const rank = yield* env.sys.getrank();
      if (rank === 1) {
        // The attacker: a member of the job (so its puts pass the entries' uid check), sending what it likes.
        const app = yield* setup(env, 4096);
        yield* barrier(env, app);
        const next = rng(0xf15);
        const word = (bits: number) => BigInt(Math.floor(next() * 2 ** bits));
        for (let i = 0; i < MESSAGES; i++) {
          // Half the messages mutate a well-formed one (a known kind, a small page, a valid slot); half are random words.
          const hdr =
            next() < 0.5
              ? BigInt(1 + Math.floor(next() * 16)) | (word(2) << 8n) | (word(1) << 32n) | (word(4) << 48n) | (word(2) << 56n)
              : BigInt.asUintN(64, (word(32) << 32n) | word(32));
          const data = next() < 0.2;
          const rc = yield* app.P.PtlPut(app.md, 0, data ? 4096 : 0, PTL.NO_ACK_REQ, { rank: 0 }, DSM_PT, data ? DATA_BITS : CTL_BITS, data ? 4096 * Math.floor(next() * 16) : 0, 0, hdr);
          if (rc !== PTL.OK) throw new Error(`put ${i} failed: ${rc}`);
          yield* env.compute(Math.floor(next() * 20_000));
        }
        yield* env.sys.publish('sent', MESSAGES);
        return 0;
      }
      const dsm = yield* openDsm(env, 'user', 4 * 4096);
      // The target computes while its service thread takes the messages. (It touches no page: a member may
      // legitimately take its pages away and never give them back, which ends it with an error naming that member.)
      yield* env.compute(10_000_000);
      yield* env.sys.publish('dropped', (yield* dsm.stats()).dropped ?? -1);
      return 0;
    });
    const checker = program('dsmu-fuzz-checker', function* (env) {
      const rank = yield* env.sys.getrank();
      const size = yield* env.sys.getsize();
      const ops = 60;
      const dsm = yield* openDsm(env, 'user', checkerPages(size, ops) * 4096);
      const r = yield* runChecker(env, dsm, rank, size, { ops, locations: 8, writePercent: 30, seed: 15, maxDelayCycles: 2000 });
      if (r !== null) {
        yield* env.sys.publish('operations', r.operations);
        yield* env.sys.publish('violations', r.violations + r.impossibleReads);
      }
      yield* dsm.detach();
      return 0;
    });
    const attacked = sys.launchDirect(target, [0, 1], []);
    const beside = sys.launchDirect(checker, [2, 3, 4], []);
    const stop = sys.run({ done: () => sys.jobDone(attacked) && sys.jobDone(beside), until: 100e12 });
    expect(stop.kind).toBe('done');
    const [victim, attacker] = attacked.ranks.map((r) => r.process!);
    expect(attacker.results.get('sent')).toBe(MESSAGES);
    expect([victim.exitStatus, victim.exitReason]).toEqual([0, null]);
    expect(victim.results.get('dropped')).toBeGreaterThan(MESSAGES / 2);
    const zero = beside.ranks[0].process!;
    expect(beside.ranks.map((r) => r.process!.exitReason)).toEqual([null, null, null]);
    expect(zero.results.get('operations')).toBe(3 * 60);
    expect(zero.results.get('violations')).toBe(0);
    for (const r of beside.ranks) expect(r.process!.exitStatus).toBe(0);
  }, 60_000);
});
