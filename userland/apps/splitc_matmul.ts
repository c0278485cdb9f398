// splitc_matmul: the blocked matrix multiply of the Active Messages paper
// (seed 001), in Split-C style. With P ranks and m columns per rank, the
// matrices are n x n with n = P*m; rank r owns columns r*m..r*m+m-1 of A, B
// and C. C_r = sum over k of A_k (rank k's columns of A, fetched with
// split-phase gets) times the k-th m x m block of B_r. Each rank starts with
// its own block and goes round the ring, so no rank is everyone's first
// target. With overlap, the get of the next block is started before the
// multiply of this one (double buffering); without, each block is fetched,
// waited for, then multiplied.
//
// Fraction of peak = (time of the same P steps with every block already
// local: the rank's own block P times) / (time of the P steps with the
// gets). The multiply charges
// CYCLES_PER_MAC cycles per multiply-add (a reasoned estimate of a
// scalar double-precision inner loop: docs/KERNEL-BYPASS.md), plus the
// loads of the block, and polls every POLL_CYCLES so that a rank busy
// multiplying answers the gets of the others (polling Active Messages run
// handlers only when the receiver polls). Results: peak_fraction_m<m> and
// peak_fraction_m<m>_nooverlap (rank 0's, 0..1), verified = 1 when every
// rank's C matched the product computed directly.
// Arguments: [unet | portals] [overlap | nooverlap] [m values].

import type { U } from '../lib/ops.ts';
import { amOverPortals } from '../lib/am/portals.ts';
import { type SplitC, splitcStart } from '../lib/am/splitc.ts';
import { amOverUnet } from '../lib/am/unet.ts';
import { type Env, program } from '../lib/runtime.ts';

const DEFAULT_M = [4, 8, 16, 32];
export const CYCLES_PER_MAC = 2;
/** How often the multiply polls for messages, in cycles. */
export const POLL_CYCLES = 5000;

const a = (i: number, j: number) => ((i * 7 + j * 3) % 11) - 5;
const b = (i: number, j: number) => ((i * 5 + j) % 7) - 3;

export default program('splitc_matmul', function* main(env) {
  const { sys } = env;
  let args = env.argv.slice(1);
  const transportName = args[0] === 'portals' || args[0] === 'unet' ? args[0] : 'unet';
  if (args[0] === transportName) args = args.slice(1);
  const modes = args[0] === 'overlap' ? [true] : args[0] === 'nooverlap' ? [false] : [true, false];
  if (args[0] === 'overlap' || args[0] === 'nooverlap') args = args.slice(1);
  const ms = args.length > 0 ? args.map(Number) : DEFAULT_M;
  if (ms.some((m) => !Number.isSafeInteger(m) || m < 1 || m > 256)) {
    yield* sys.print('splitc_matmul: arguments are [unet|portals] [overlap|nooverlap] then block widths m from 1 to 256\n', 2);
    return 2;
  }
  const P = yield* sys.getsize();
  if (P > 256 || P * Math.max(...ms) > 4096) {
    yield* sys.print(`splitc_matmul: n = ranks * m must stay at most 4096 (here ${P} ranks)\n`, 2);
    return 2;
  }
  const transport = transportName === 'unet' ? yield* amOverUnet(env, { entries: 256 }) : yield* amOverPortals(env, { ringBytes: 1 << 20 });
  const sc = yield* splitcStart(env, transport);
  let verified = 1;
  for (const m of ms) {
    for (const overlap of modes) {
      const r = yield* multiply(env, sc, m, overlap);
      if (!r.ok) verified = 0;
      if (sc.rank === 0) {
        const key = `peak_fraction_m${m}${overlap ? '' : '_nooverlap'}`;
        yield* sys.publish(key, Math.round(r.fraction * 1000) / 1000);
        yield* sys.print(`m ${String(m).padStart(4)}  n ${String(P * m).padStart(5)}  ${overlap ? 'overlap   ' : 'no overlap'}  ${(r.fraction * 100).toFixed(1).padStart(5)} % of peak  (${r.elapsedNs} ns; AM over ${transport.name})\n`);
      }
    }
  }
  if (sc.rank === 0) yield* sys.publish('verified', verified);
  if (!verified) yield* sys.print(`rank ${sc.rank}: C differs from the product computed directly\n`, 2);
  yield* sc.barrier();
  // Messages refused as malformed (none in a run of this app; the report shows if any were).
  yield* sys.publish('am_dropped', sc.am.stats.dropped);
  yield* sc.am.flush();
  return verified ? 0 : 1;
});

/** One multiply of n x n matrices, n = P*m; returns rank's fraction of peak and whether C was right. */
function* multiply(env: Env, sc: SplitC, m: number, overlap: boolean): U<{ fraction: number; elapsedNs: number; ok: boolean }> {
  const P = sc.size;
  const r = sc.rank;
  const n = P * m;
  const blockBytes = n * m * 8;
  // The same addresses on every rank (SPMD): A's columns, then two fetch buffers.
  const aOwn = yield* sc.alloc(blockBytes);
  const bufs = [yield* sc.alloc(blockBytes), yield* sc.alloc(blockBytes)];
  const aBlock = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) aBlock[i * m + j] = a(i, r * m + j);
  yield* env.mem.store(aOwn, new Uint8Array(aBlock.buffer));
  // B's columns of this rank (n x m), kept here as the multiply's second operand.
  const bCols = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) bCols[i * m + j] = b(i, r * m + j);
  const local = yield* steps(env, sc, m, false, aOwn, bufs, bCols, true);
  const real = yield* steps(env, sc, m, overlap, aOwn, bufs, bCols, false);
  let ok = true;
  for (let i = 0; i < n && ok; i += Math.max(1, n >> 3)) {
    for (let j = 0; j < m; j++) {
      let want = 0;
      for (let t = 0; t < n; t++) want += a(i, t) * b(t, r * m + j);
      if (real.c[i * m + j] !== want) ok = false;
    }
  }
  // Nobody may still be fetching from this rank's block when it goes.
  yield* sc.barrier();
  for (const va of [aOwn, ...bufs]) yield* sc.free(va, blockBytes);
  return { fraction: local.ns / real.ns, elapsedNs: real.ns, ok };
}

/** The P block steps of C_r = A x B_r, timed from a barrier; `localOnly` multiplies the own block every time (the peak). */
function* steps(env: Env, sc: SplitC, m: number, overlap: boolean, aOwn: number, bufs: readonly number[], bCols: Float64Array, localOnly: boolean): U<{ ns: number; c: Float64Array }> {
  const P = sc.size;
  const r = sc.rank;
  const n = P * m;
  const blockBytes = n * m * 8;
  const c = new Float64Array(n * m);
  yield* sc.barrier();
  const begin = yield* env.sys.clockNs();
  const source = (k: number) => (localOnly ? r : (r + k) % P);
  const where = (k: number) => (source(k) === r ? aOwn : bufs[k % 2]);
  if (overlap && P > 1 && !localOnly) yield* sc.get({ rank: source(1), addr: aOwn }, bufs[1], blockBytes);
  for (let k = 0; k < P; k++) {
    if (!overlap && source(k) !== r) {
      yield* sc.get({ rank: source(k), addr: aOwn }, where(k), blockBytes);
      yield* sc.sync();
    }
    if (overlap && k + 1 < P && !localOnly) {
      // Block k is here (the sync at the end of the last step); start fetching k+1 while multiplying k.
      if (k + 1 > 1) yield* sc.get({ rank: source(k + 1), addr: aOwn }, where(k + 1), blockBytes);
    }
    const bytes = yield* env.mem.load(where(k), blockBytes);
    const ak = new Float64Array(bytes.buffer, bytes.byteOffset, n * m);
    const q = source(k);
    for (let i = 0; i < n; i++) {
      for (let t = 0; t < m; t++) {
        const x = ak[i * m + t];
        const brow = (q * m + t) * m;
        for (let j = 0; j < m; j++) c[i * m + j] += x * bCols[brow + j];
      }
    }
    // The multiply polls every POLL_CYCLES (the peak run does not): a rank busy multiplying still answers the gets aimed at it.
    for (let left = n * m * m * CYCLES_PER_MAC; left > 0; left -= POLL_CYCLES) {
      yield* env.compute(Math.min(left, POLL_CYCLES));
      if (!localOnly && left > POLL_CYCLES) yield* sc.am.poll();
    }
    if (overlap) yield* sc.sync();
  }
  const ns = (yield* env.sys.clockNs()) - begin;
  return { ns, c };
}
