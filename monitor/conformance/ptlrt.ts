// The conformance runner's runtime (the harness's libtest_* calls): a
// rank's rank, the job's size and map, and a barrier. The reference harness
// gets these from MPI or PMI, out of band; here the barrier is Portals
// messages over the simulated network, on interface 1 of the NIC so that it
// never touches the NIs, portal table entries or event queues of interface
// 0 that the script itself allocates and checks.
//
// Barrier: every rank puts "arrived" (match bits 1) to rank 0; rank 0, once
// it has heard from all, puts "released" (match bits 2) to each. Both carry
// the barrier's epoch and the sender's rank in hdr_data, so a fast rank's
// arrival for the next barrier is kept, not confused with this one.

import { PTL } from '../../kernel/portals/defs.ts';
import { Portals } from '../../userland/lib/portals.ts';
import type { U } from '../../userland/lib/ops.ts';
import type { Env } from '../../userland/lib/runtime.ts';

const RT_IFACE = 1;
const ARRIVE = 1n;
const RELEASE = 2n;
const RANK_BITS = 20n;

export class Runtime {
  private epoch = 0;
  /** Messages that came before they were waited for: `${bits}:${epoch}:${rank}`. */
  private readonly early = new Set<string>();
  private rootReady = false;

  private constructor(
    private readonly env: Env,
    private readonly P: Portals,
    readonly rank: number,
    readonly size: number,
    readonly map: { nid: number; pid: number }[],
    private readonly eq: number,
    private readonly md: number,
    private readonly mdEq: number,
  ) {}

  /** Opens the runtime's NI on interface 1. Leaves PtlInit's count as it found it. */
  static *open(env: Env): U<Runtime> {
    const P = new Portals(env.cpu, env.mem);
    const rank = yield* env.sys.getrank();
    const size = yield* env.sys.getsize();
    const map = yield* env.sys.jobMap();
    const ok = (what: string, rc: number) => {
      if (rc !== PTL.OK) throw new Error(`runtime: ${what} returned ${rc}`);
    };
    ok('PtlInit', yield* P.PtlInit());
    const n = yield* P.PtlNIInit(RT_IFACE, PTL.NI_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
    ok('PtlNIInit', n.rc);
    const eq = yield* P.PtlEQAlloc(n.ni, 1024);
    ok('PtlEQAlloc', eq.rc);
    ok('PtlPTAlloc', (yield* P.PtlPTAlloc(n.ni, 0, eq.eq, 0)).rc);
    const buf = yield* env.mem.alloc(64);
    // One persistent entry takes every runtime message; gets on it tell a peer that it is in place.
    const me = yield* P.PtlMEAppend(n.ni, 0, { start: buf, length: 64, options: PTL.ME_OP_PUT | PTL.ME_OP_GET | PTL.ME_EVENT_LINK_DISABLE, match_bits: 0n, ignore_bits: ~0n }, PTL.PRIORITY_LIST, 0);
    ok('PtlMEAppend', me.rc);
    const mdEq = yield* P.PtlEQAlloc(n.ni, 64);
    ok('PtlEQAlloc', mdEq.rc);
    const md = yield* P.PtlMDBind(n.ni, { start: buf, length: 64, options: PTL.MD_EVENT_SEND_DISABLE, eq_handle: mdEq.eq });
    ok('PtlMDBind', md.rc);
    ok('PtlFini', yield* P.PtlFini());
    return new Runtime(env, P, rank, size, map, eq.eq, md.md, mdEq.eq);
  }

  /** Returns once every rank has called barrier() as often as this one. */
  *barrier(): U {
    if (this.size <= 1) return;
    this.epoch++;
    yield* this.P.PtlInit();
    try {
      if (this.rank === 0) {
        for (let r = 1; r < this.size; r++) yield* this.await(ARRIVE, r);
        for (let r = 1; r < this.size; r++) yield* this.send(RELEASE, r);
      } else {
        if (!this.rootReady) yield* this.awaitRoot();
        yield* this.send(ARRIVE, 0);
        yield* this.await(RELEASE, 0);
      }
    } finally {
      yield* this.P.PtlFini();
    }
  }

  private *send(bits: bigint, to: number): U {
    const hdr = (BigInt(this.epoch) << RANK_BITS) | BigInt(this.rank);
    const rc = yield* this.P.PtlPut(this.md, 0, 0, PTL.NO_ACK_REQ, this.map[to], 0, bits, 0, 0, hdr);
    if (rc !== PTL.OK) throw new Error(`runtime: barrier put to rank ${to} returned ${rc}`);
  }

  /** Waits for message `bits` of this epoch from `from`. */
  private *await(bits: bigint, from: number): U {
    const key = (b: bigint, e: number, r: number) => `${b}:${e}:${r}`;
    const want = key(bits, this.epoch, from);
    while (!this.early.delete(want)) {
      const r = yield* this.P.PtlEQWait(this.eq);
      if (r.rc !== PTL.OK || r.event === null) throw new Error(`runtime: barrier wait returned ${r.rc}`);
      const ev = r.event;
      if (ev.type !== PTL.EVENT_PUT) continue;
      const hdr = BigInt.asUintN(64, BigInt(ev.hdr_data));
      this.early.add(key(ev.match_bits, Number(hdr >> RANK_BITS), Number(hdr & ((1n << RANK_BITS) - 1n))));
    }
  }

  /** Rank 0's entry may not exist yet when another rank first needs it: ask with gets until one is answered. */
  private *awaitRoot(): U {
    for (let wait = 10_000; ; wait = Math.min(2 * wait, 1_280_000)) {
      const rc = yield* this.P.PtlGet(this.md, 0, 0, this.map[0], 0, 0n, 0, 0);
      if (rc !== PTL.OK) throw new Error(`runtime: readiness get returned ${rc}`);
      const r = yield* this.P.PtlEQWait(this.mdEq);
      if (r.event?.type === PTL.EVENT_REPLY && r.event.ni_fail_type === PTL.NI_OK) break;
      yield* this.env.sys.nanosleep(wait);
    }
    this.rootReady = true;
  }
}
