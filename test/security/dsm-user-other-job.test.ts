// User-level DSM, attacked by a process of ANOTHER job of the SAME uid (its
// puts pass the entries' uid check). The service thread takes the sender's
// rank from the event (initiator_nid on a logical NI). The sending kernel's
// header carries the sender's rank in ITS OWN job, so the attacker, rank 1 of
// its job, was taken for the victim's rank 1 and drove its protocol (a WREQ
// then an ACK for page 0: the victim's real rank 1 later read a stale page or
// hung). Now the receiving kernel reports the initiator's rank in the
// target's own map (kernel/portals/ranks.ts): the attacker is PTL_RANK_ANY
// there, not a member, and its messages are dropped.
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/abi.gen.ts';
import { openDsm } from '../../userland/lib/dsm/api.ts';
import { Portals } from '../../userland/lib/portals.ts';
import { PTL } from '../../userland/lib/portals.gen.ts';
import { program } from '../../userland/lib/runtime.ts';
import { boot } from '../kernel/helpers.ts';

const victim = program('victim', function* (env) {
  const rank = yield* env.sys.getrank();
  const dsm = yield* openDsm(env, 'user', 2 * 4096);
  if (rank === 0) yield* env.mem.storeU64(dsm.base, 0x5ec2e7n); // page 0, managed and owned by rank 0
  yield* dsm.barrier();
  yield* env.sys.publish('ready', 1);
  yield* env.compute(24_000_000); // 10 ms: the attacker strikes now
  if (rank === 1) yield* env.sys.publish('read', Number(yield* env.mem.loadU64(dsm.base)));
  yield* dsm.barrier();
  yield* dsm.detach();
  return 0;
});

// Rank 1 of its own job (same uid as the victim): its puts carry srcRank 1.
const attacker = program('attacker', function* (env) {
  const rank = yield* env.sys.getrank();
  if (rank !== 1) return 0;
  const P = new Portals(env.cpu, env.mem);
  const [nid, pid] = [Number(env.argv[1]), Number(env.argv[2])];
  yield* P.PtlInit();
  const n = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_LOGICAL, PTL.PID_ANY, null);
  yield* P.PtlSetMap(n.ni, [{ nid, pid }]); // "rank 0" = the victim's rank 0
  const buf = yield* env.sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  const md = yield* P.PtlMDBind(n.ni, { start: buf, length: 4096 });
  // WREQ page 0 "from rank 1", slot 7, then its ACK (hdr_data: kind | a<<8 | from<<32 | slot<<48 | mode<<56).
  for (const hdr of [2n | (0n << 8n) | (1n << 32n) | (7n << 48n), 8n | (0n << 8n) | (1n << 32n) | (7n << 48n)]) {
    yield* env.sys.publish('put', yield* P.PtlPut(md.md, 0, 0, PTL.NO_ACK_REQ, { rank: 0 }, 3, 0xd5a0n, 0, 0, hdr));
    yield* env.compute(480_000);
  }
  yield* env.compute(2_400_000);
  return 0;
});

describe('the user DSM, attacked by another job of the same uid', () => {
  it('does not let a rank of another job act as the victim job\'s rank 1', () => {
    const sys = boot({ nodes: 4, trace: false });
    const v = sys.launchDirect(victim, [0, 1], ['user'], 1000);
    sys.run({ done: () => v.ranks.every((r) => r.process?.results.has('ready')), until: 1e12 });
    const vp = v.ranks[0].process!;
    const a = sys.launchDirect(attacker, [2, 3], [String(0), String(vp.pid)], 1000);
    const stop = sys.run({ done: () => sys.jobDone(v) && sys.jobDone(a), until: 20e12 });
    expect(v.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
    expect(v.ranks[1].process!.results.get('read')).toBe(0x5ec2e7);
    expect(stop.kind).toBe('done');
  });
});
