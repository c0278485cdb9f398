// dsm_jacobi: Jacobi relaxation on an n x n grid of doubles in the shared
// region (two grids, swapped every iteration). The top edge is held at 100,
// the other edges at 0; each rank updates a block of rows and reads the
// rows next to its block, which other ranks wrote (the pages at the block
// edges move every iteration). A barrier ends each iteration. Rank 0
// publishes time_ns (the iterations), ns_per_iteration and checksum (the sum of
// the final grid, x 1000 rounded). Every point costs `cycles` of compute.
// Usage: margay run dsm_jacobi --nodes N -- kernel|user [thread|poll] [n=N] [iterations=N] [cycles=N]

import { dsmApp } from '../lib/dsm/appkit.ts';

/** Rows [lo, hi) of the interior rows 1..n-2 that `rank` of `size` updates. */
export function jacobiRows(n: number, rank: number, size: number): [number, number] {
  const interior = n - 2;
  const lo = 1 + Math.floor((interior * rank) / size);
  const hi = 1 + Math.floor((interior * (rank + 1)) / size);
  return [lo, hi];
}

/** The same relaxation done sequentially (the tests' reference). */
export function jacobiReference(n: number, iterations: number): number {
  let a = new Float64Array(n * n);
  let b = new Float64Array(n * n);
  for (let j = 0; j < n; j++) a[j] = b[j] = 100;
  for (let it = 0; it < iterations; it++) {
    for (let i = 1; i < n - 1; i++) for (let j = 1; j < n - 1; j++) b[i * n + j] = 0.25 * (a[(i - 1) * n + j] + a[(i + 1) * n + j] + a[i * n + j - 1] + a[i * n + j + 1]);
    [a, b] = [b, a];
  }
  return Math.round(a.reduce((s, v) => s + v, 0) * 1000);
}

export default dsmApp('dsm_jacobi', {
  params: {
    n: { def: 64, min: 4, max: 512, doc: 'grid side' },
    iterations: { def: 10, min: 1, max: 10_000, doc: 'sweeps of the grid' },
    cycles: { def: 40, min: 0, max: 1e6, doc: 'compute cycles per point' },
  },
  bytes: (p) => 2 * p.n * p.n * 8,
  *body({ env, dsm, p, rank, size, args }) {
    const { mem } = env;
    const n = p.n;
    const row = n * 8;
    const grid = [dsm.base, dsm.base + n * row];
    if (rank === 0) {
      const top = new Float64Array(n).fill(100);
      for (const g of grid) yield* mem.store(g, new Uint8Array(top.buffer));
    }
    const [lo, hi] = jacobiRows(n, rank, size);
    const f64 = (b: Uint8Array) => new Float64Array(b.buffer, b.byteOffset, n);
    yield* dsm.barrier();
    const t0 = yield* env.sys.clockNs();
    for (let it = 0; it < p.iterations; it++) {
      const [src, dst] = it % 2 === 0 ? grid : [grid[1], grid[0]];
      for (let i = lo; i < hi; i++) {
        const up = f64(yield* mem.load(src + (i - 1) * row, row));
        const mid = f64(yield* mem.load(src + i * row, row));
        const down = f64(yield* mem.load(src + (i + 1) * row, row));
        const out = new Float64Array(n);
        for (let j = 1; j < n - 1; j++) out[j] = 0.25 * (up[j] + down[j] + mid[j - 1] + mid[j + 1]);
        yield* env.compute(p.cycles * (n - 2));
        yield* mem.store(dst + i * row, new Uint8Array(out.buffer));
      }
      yield* dsm.barrier();
    }
    if (rank === 0) {
      const t = (yield* env.sys.clockNs()) - t0;
      const fin = grid[p.iterations % 2];
      let sum = 0;
      for (let i = 0; i < n; i++) for (const v of f64(yield* mem.load(fin + i * row, row))) sum += v;
      yield* env.sys.publish('time_ns', t);
      yield* env.sys.publish('ns_per_iteration', Math.round(t / p.iterations));
      yield* env.sys.publish('checksum', Math.round(sum * 1000));
      yield* env.sys.print(`dsm_jacobi (${args.label} DSM): ${n}x${n}, ${p.iterations} iterations on ${size} rank(s): ${(t / 1e3).toFixed(1)} us, checksum ${Math.round(sum * 1000)}\n`);
    }
    return 0;
  },
});
