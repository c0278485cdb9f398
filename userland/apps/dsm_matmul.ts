// dsm_matmul: C = A x B for n x n doubles in the shared region, blocked:
// each rank fills its block of rows of A and B, then computes its block of
// rows of C, reading B a block of `block` rows at a time (every page of B
// is read-shared by every rank). Rank 0 publishes time_ns (the multiply)
// and checksum (the sum of C). A multiply-add costs `cycles` of compute.
// Usage: margay run dsm_matmul --nodes N -- kernel|user [thread|poll] [n=N] [block=N] [cycles=N]

import { dsmApp } from '../lib/dsm/appkit.ts';

export const matA = (i: number, k: number) => ((i + 2 * k) % 7) - 3;
export const matB = (k: number, j: number) => ((3 * k + j) % 5) - 2;

/** The same product done sequentially: the sum of C (the tests' reference). */
export function matmulReference(n: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) sum += matA(i, k) * matB(k, j);
  return sum;
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
      let sum = 0;
      for (let i = 0; i < n; i++) for (const v of f64(yield* mem.load(C + i * row, row))) sum += v;
      yield* env.sys.publish('time_ns', t);
      yield* env.sys.publish('checksum', sum);
      yield* env.sys.print(`dsm_matmul (${args.label} DSM): ${n}x${n} on ${size} rank(s): ${(t / 1e3).toFixed(1)} us, checksum ${sum}\n`);
    }
    return 0;
  },
});
