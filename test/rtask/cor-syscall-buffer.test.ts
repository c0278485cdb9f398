// A remote task passes a pointer into its (not yet touched) initialised data
// to a system call: the kernel's copyin sees the copy-on-reference page
// unmapped and answers -EFAULT, where the same program works under every
// other load mode. The kernel's user-copy path does not take the
// copy-on-reference fault a user load would.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { program } from '../../userland/lib/runtime.ts';

const data = new TextEncoder().encode('hello from data\n'.padEnd(4096, ' '));
const prog = program('cor_write', function* main(env) {
  const rc = yield* env.sys.raw(SYS.write, 1, env.dataVa, 16);
  yield* env.sys.publish('write_rc', rc);
  return rc === 16 ? 0 : 100 + Math.min(50, -rc); // exit 100+errno when the write fails
}, { data, dataBytes: data.length, textBytes: 4096 });

describe('a syscall buffer in a copy-on-reference page', () => {
  for (const load of ['two-phase', 'crtc'] as const) {
    it(`write(1, data, 16) from the data segment returns 16 (${load})`, () => {
      const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
      const job = launch(sys, { load, fanout: { kind: 'binomial' }, programs: [prog], map: [{ firstNid: 0, count: 2, image: 0 }], argv: [], timeoutUs: 1e6, rtask: load === 'crtc' ? DEFAULT_RTASK : undefined });
      sys.run({ done: () => sys.jobDone(job), until: 100e12 });
      expect(job.yod?.exitStatus).toBe(0);
    });
  }
});
