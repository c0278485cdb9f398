// Syscall arguments are checked by their declared ABI type before any
// handler runs (kernel/syscalls/context.ts): whichever call and argument,
// a value that does not fit the type gets that type's error, never a
// handler's misreading of it and never an oops.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getProfile, withOverrides } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { System } from '../../system/system.ts';
import { type ArgType, SYSCALLS } from '../../kernel/syscalls/table.ts';
import { program } from '../../userland/lib/runtime.ts';

const REFUSED: Partial<Record<ArgType, { values: readonly bigint[]; errno: number }>> = {
  size: { values: [2n ** 53n, 2n ** 63n, 2n ** 64n - 1n], errno: ERRNO.EINVAL },
  offset: { values: [2n ** 53n, 2n ** 64n - 1n], errno: ERRNO.EINVAL },
  int: { values: [2n ** 53n, 2n ** 63n, 2n ** 64n - 2n ** 60n], errno: ERRNO.EINVAL },
  timeout: { values: [2n ** 53n, 2n ** 64n - 2n ** 60n], errno: ERRNO.EINVAL },
  ptr: { values: [2n ** 47n, 2n ** 63n, 2n ** 64n - 1n], errno: ERRNO.EFAULT },
  fd: { values: [2n ** 31n, 2n ** 40n, 2n ** 64n - 2n ** 31n - 1n], errno: ERRNO.EBADF },
  flags: { values: [2n ** 32n, 2n ** 64n - 1n], errno: ERRNO.EINVAL },
};

const CASES = SYSCALLS.flatMap((s) =>
  s.args.flatMap(([, type], i) => {
    const r = REFUSED[type];
    return r === undefined ? [] : r.values.map((v) => ({ nr: s.nr, name: s.name, i, v, errno: r.errno }));
  }),
);

describe('syscall arguments checked by their ABI type', () => {
  it('refuses every argument that does not fit its declared type with that type\'s errno, for every call', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(CASES, { minLength: 1, maxLength: 40 }), (cases) => {
        const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': 1 }, 'test');
        const sys = new System({ profile, shape: { kind: 'mesh', dims: [1] }, seed: 1 });
        const got: number[] = [];
        const job = sys.launchDirect(
          program('args', function* (env) {
            for (const c of cases) {
              const args: bigint[] = [0n, 0n, 0n, 0n, 0n, 0n];
              args[c.i] = c.v;
              got.push(yield* env.sys.raw(c.nr, ...args));
            }
            return 0;
          }),
          [0],
          [],
        );
        sys.run({ done: () => sys.jobDone(job), until: 1e12 });
        expect(sys.kernel(0).stats.oopses).toBe(0);
        expect(job.ranks[0].process!.exitStatus).toBe(0);
        expect(got).toEqual(cases.map((c) => -c.errno));
      }),
      { seed: 10, numRuns: 25 },
    );
  });
});
