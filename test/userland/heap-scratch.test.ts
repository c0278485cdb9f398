// The library's own scratch memory (a timespec for nanosleep or
// clock_gettime, the text of a print, a publish's name, the job map) goes
// back to the heap when the call returns, so where a program's buffers land
// depends on what it allocated, not on how often it slept or printed. SPMD
// code names a peer's buffer by its own address (Active Messages, Split-C):
// a rank that retried an open more often than its peer must still lay its
// buffers out the same (the fan-out matrix found am_pingpong hanging on 8
// ranks over flat when it did not).

import { expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { program } from '../../userland/lib/runtime.ts';

it('lays out a buffer at the same address however many library calls came before it', () => {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [2] }, seed: 1 });
  sys.trace.enabled = false;
  const seen: number[] = [];
  for (const calls of [0, 1, 7]) {
    sys.kernel(0).spawn(
      program(`scratch${calls}`, function* (env) {
        const first = yield* env.mem.alloc(64);
        for (let i = 0; i < calls; i++) {
          yield* env.sys.nanosleep(1000);
          yield* env.sys.clockNs();
          yield* env.sys.print(`call ${i} of ${calls}\n`);
          yield* env.sys.publish(`calls_${i}`, i);
          yield* env.sys.jobMap();
        }
        seen.push((yield* env.mem.alloc(4096)) - first);
        return 0;
      }),
      { rank: 0, jobSize: 1, uid: 1, argv: ['s'], envp: [] },
    );
  }
  sys.run({ until: 1e12 });
  expect(seen).toEqual([64, 64, 64]);
});
