// dsm_matmul: C = A x B for n x n doubles in the shared region, blocked:
// each rank fills its block of rows of A and B, then computes its block of
// rows of C, reading B a block of `block` rows at a time (every page of B
// is read-shared by every rank). Rank 0 publishes time_ns (the multiply)
// and checksum (a hash of C's elements in row order: checksumRow). A multiply-add costs `cycles` of compute.
// Usage: margay run dsm_matmul --nodes N -- kernel|user [thread|poll] [n=N] [block=N] [cycles=N]

import { dsmApp } from '../lib/dsm/appkit.ts';

export const matA = (i: number, k: number) => ((i + 2 * k) % 7) - 3;
export const matB = (k: number, j: number) => ((3 * k + j) % 5) - 2;

/** The checksum's modulus (2^31 - 1, prime) and base: products stay below 2^53, exact in a double. */
const HASH_P = 2147483647;
const HASH_B = 1000003;

/**
 * The checksum of C so far, `h`, carried over one more row: a polynomial hash
 * of C's elements in row order, each weighted by a power of the base (mod a
 * prime). A plain sum missed a row block that was never written whenever the
 * block's true sum is zero (every block for n = 10), and a sum weighted by
 * (i*n+j+1) missed some too; this misses one only if the block's polynomial
 * vanishes mod the prime. C's elements are integers (A and B are).
 */
export function checksumRow(h: number, row: ArrayLike<number>): number {
  for (let j = 0; j < row.length; j++) h = (h * HASH_B + (((row[j] % HASH_P) + HASH_P) % HASH_P)) % HASH_P;
  return h;
}

/** The same product done sequentially, and its checksum (the tests' reference). */
export function matmulReference(n: number): number {
  let h = 0;
  for (let i = 0; i < n; i++) {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) row[j] += matA(i, k) * matB(k, j);
    h = checksumRow(h, row);
  }
  return h;
}

export default dsmApp('dsm_matmul', {
  params: {
    n: { def: 48, min: 2, max: 512, doc: 'matrix side' },
    block: { def: 8, min: 1, max: 512, doc: 'rows of B per block' },
    cycles: { def: 2, min: 0, max: 1e6, doc: 'compute cycles per multiply-add' },
  },
  bytes: (p) => 3 * p.n * p.n * 8,
  *body({ env, dsm, p, rank, size, args }) {
    const { mem } = env;
    const n = p.n;
    const row = n * 8;
    const [A, B, C] = [0, 1, 2].map((m) => dsm.base + m * n * row);
    const lo = Math.floor((n * rank) / size);
    const hi = Math.floor((n * (rank + 1)) / size);
    for (let i = lo; i < hi; i++) {
      yield* mem.store(A + i * row, new Uint8Array(Float64Array.from({ length: n }, (_, k) => matA(i, k)).buffer));
      yield* mem.store(B + i * row, new Uint8Array(Float64Array.from({ length: n }, (_, j) => matB(i, j)).buffer));
    }
    yield* dsm.barrier();
    const t0 = yield* env.sys.clockNs();
    const f64 = (b: Uint8Array) => new Float64Array(b.buffer, b.byteOffset, n);
    const acc = Array.from({ length: hi - lo }, () => new Float64Array(n));
    const a = [];
    for (let i = lo; i < hi; i++) a.push(f64(yield* mem.load(A + i * row, row)));
    for (let kb = 0; kb < n; kb += p.block) {
      for (let k = kb; k < Math.min(n, kb + p.block); k++) {
        const b = f64(yield* mem.load(B + k * row, row));
        for (let i = 0; i < hi - lo; i++) for (let j = 0; j < n; j++) acc[i][j] += a[i][k] * b[j];
        yield* env.compute(p.cycles * (hi - lo) * n);
      }
    }
    for (let i = lo; i < hi; i++) yield* mem.store(C + i * row, new Uint8Array(acc[i - lo].buffer));
    yield* dsm.barrier();
    if (rank === 0) {
      const t = (yield* env.sys.clockNs()) - t0;
      let h = 0;
      for (let i = 0; i < n; i++) h = checksumRow(h, f64(yield* mem.load(C + i * row, row)));
      yield* env.sys.publish('time_ns', t);
      yield* env.sys.publish('checksum', h);
      yield* env.sys.print(`dsm_matmul (${args.label} DSM): ${n}x${n} on ${size} rank(s): ${(t / 1e3).toFixed(1)} us, checksum ${h}\n`);
    }
    return 0;
  },
});
