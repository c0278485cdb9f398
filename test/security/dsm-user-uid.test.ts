// Attack on the user-level DSM: its service thread trusts hdr_data of any put that matches
// portal 3 / match bits 0xd5a0 (its MEs take any initiator and any uid). Can a process of
// ANOTHER job and ANOTHER uid inject a DSM control message?
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

function attacker(kind: number | readonly bigint[], logical: boolean) {
  return program('attacker', function* (env) {
    const P = new Portals(env.cpu, env.mem);
    const [nid, pid] = [Number(env.argv[1]), Number(env.argv[2])];
    yield* env.sys.publish('init', yield* P.PtlInit());
    const n = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | (logical ? PTL.NI_LOGICAL : PTL.NI_PHYSICAL), PTL.PID_ANY, null);
    yield* env.sys.publish('ni', n.rc);
    if (logical) yield* env.sys.publish('setmap', yield* P.PtlSetMap(n.ni, [{ nid, pid }]));
    const buf = yield* env.sys.mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    const md = yield* P.PtlMDBind(n.ni, { start: buf, length: 4096 });
    yield* env.sys.publish('md', md.rc);
    // hdr_data: kind | a<<8 | from<<32 | slot<<48 | mode<<56
    const hdrs = typeof kind === 'number' ? [BigInt(kind) | (1n << 32n)] : kind;
    const target = logical ? { rank: 0 } : { nid, pid };
    for (const hdr of hdrs) {
      yield* env.sys.publish('put', yield* P.PtlPut(md.md, 0, 0, PTL.NO_ACK_REQ, target, 3, 0xd5a0n, 0, 0, hdr));
      yield* env.compute(480_000); // 200 us: let the victim's manager act on it
    }
    yield* env.compute(2_400_000);
    return 0;
  });
}

describe('the user-level DSM, attacked with forged control messages from another job and uid', () => {
  for (const [label, kind, logical] of [
    ['unknown kind 99, logical NI with a forged map', 99, true],
    ['INV_ACK (kind 5) for a page rank 0 does not manage, logical NI with a forged map', 5 | (1 << 8), true],
    // WREQ for page 0 "from rank 1, slot 7", then its ACK: rank 0 (manager and owner) hands page 0 to
    // rank 1's unused inbox slot 7 and drops its own copy; the directory now says rank 1 owns it.
    ['forged WREQ+ACK: the directory moves page 0 to rank 1 (victim killed: granted without contents)', [2n | (0n << 8n) | (1n << 32n) | (7n << 48n), 8n | (0n << 8n) | (1n << 32n)], true],
  ] as const) {
    it(`ignores ${label}`, () => {
      const sys = boot({ nodes: 3, trace: false });
      const v = sys.launchDirect(victim, [0, 1], ['user'], 1000);
      sys.run({ done: () => v.ranks.every((r) => r.process?.results.has('ready')), until: 1e12 });
      const vp = v.ranks[0].process!;
      const a = sys.launchDirect(attacker(kind, logical), [2], [String(0), String(vp.pid)], 1001);
      const stop = sys.run({ done: () => sys.jobDone(v) && sys.jobDone(a), until: 20e12 });
      // The victim must be untouched: both ranks exit 0, rank 1 reads the secret.
      expect(v.ranks.map((r) => r.process!.exitStatus)).toEqual([0, 0]);
      expect(v.ranks[1].process!.results.get('read')).toBe(0x5ec2e7);
      expect(stop.kind).toBe('done');
    });
  }
});
