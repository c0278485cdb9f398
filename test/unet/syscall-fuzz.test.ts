// Whatever a process puts in the registers of the U-Net set-up calls --
// negative, huge, past the address space, another process's numbers -- it
// gets 0, a handle or a -errno back, and goes on running (seeded, bounded).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ERRNO, SYS } from '../../userland/lib/abi.gen.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { unetCreate } from '../../userland/lib/unet.ts';
import { runMain } from '../kernel/helpers.ts';

const CALLS = [SYS.unet_create, SYS.unet_destroy, SYS.unet_open, SYS.unet_close, SYS.unet_wait] as const;
const ERRNOS = new Set<number>(Object.values(ERRNO));

describe('the U-Net set-up calls', () => {
  it('answer any register values with a result or a -errno, never a host exception (seeded fuzz, 400 calls)', () => {
    const N = 400;
    const rcs: number[] = [];
    const { p, sys } = runMain(
      function* (env) {
        // Rank 1 only gives node 1 a kernel to send OPENs to.
        if ((yield* env.sys.getrank()) !== 0) return 0;
        const ep = yield* unetCreate(env, { entries: 4, bufBytes: 64 });
        const pid = yield* env.sys.getpid();
        const pool = yield* env.sys.mmap(0, 64 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        // Per call and argument, values that mean something here (segments, entries, flags, handles,
        // channels, this node and pid), beside ones that cannot mean anything.
        const wild = fc.oneof(
          fc.constantFrom<number | bigint>(-1, 2 ** 31, 2 ** 32, 2 ** 53, 2 ** 47, ep.va + 4096, ep.va - 4096, 2n ** 63n - 1n, 2n ** 64n - 1n, -(2n ** 63n)),
          fc.integer({ min: -1000, max: 100_000 }),
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
        );
        const arg = (...good: number[]) => fc.oneof({ arbitrary: fc.constantFrom(...good), weight: 6 }, { arbitrary: wild, weight: 1 });
        const handle = arg(0, 1, 2, 3, 4);
        const chan = arg(0, 1, 2, 255, 256);
        const args: Record<number, fc.Arbitrary<(number | bigint)[]>> = {
          [SYS.unet_create]: fc.tuple(arg(pool, pool + 8 * 4096, pool + 16 * 4096, pool + 100, ep.va), arg(4096, 8192, 16384, 4097, 0), arg(1, 4, 16, 0, 1025), arg(0, 1, 2, 3, 4), arg(0), arg(0)),
          [SYS.unet_destroy]: fc.tuple(arg(2, 3, 4, 9), arg(0), arg(0), arg(0), arg(0), arg(0)),
          [SYS.unet_open]: fc.tuple(handle, chan, arg(0, 1, 2, 7), arg(pid, pid + 1, 0, 9999), handle, chan),
          [SYS.unet_close]: fc.tuple(handle, chan, arg(0), arg(0), arg(0), arg(0)),
          [SYS.unet_wait]: fc.tuple(handle, fc.integer({ min: 0, max: 1000 }), arg(0), arg(0), arg(0), arg(0)),
        };
        const call = fc.constantFrom(...CALLS).chain((nr) => args[nr].map((a) => [nr, a] as const));
        for (const [nr, regs] of fc.sample(call, { seed: 13, numRuns: N })) {
          // (unet_wait's timeout stays short: with none, a wait on an upcall endpoint would wait for ever.)
          rcs.push(yield* env.sys.raw(nr, ...regs));
        }
        return 0;
      },
      { ranks: 2 },
    );
    expect(p.exitStatus).toBe(0);
    expect(rcs).toHaveLength(N);
    const bad = rcs.filter((r) => r < 0 && !ERRNOS.has(-r));
    expect(bad).toEqual([]);
    // The fuzz reached past the argument checks: some calls succeeded, and several errnos came back.
    expect(rcs.filter((r) => r >= 0).length).toBeGreaterThan(0);
    expect(new Set(rcs.filter((r) => r < 0)).size).toBeGreaterThanOrEqual(5);
    expect(sys.kernel(0).stats.syscalls).toBeGreaterThan(N);
  });
});
