// A failed rtask_create (a down node) leaks the source's template objects on
// the source node, and a failed create whose reason buffer is bad also leaves
// the job id registered so it can never be used again. Any process can do
// this, over and over (it only needs to name itself as the launcher).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { RTASK } from '../../kernel/abi.ts';
import { imageOf } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { program } from '../../userland/lib/runtime.ts';

const img = imageOf(APPS.cor_touch); // ~1.3 MB of initialised data: the source's objects are big

function block(serviceNid: number, servicePid: number, jobId: number): Uint8Array {
  return encodeJobBlock({ jobId, pid: 100, fanout: { kind: 'binomial' }, mode: 'crtc', serviceNid, servicePid, initLen: img.length, timeoutUs: 1e6, startUs: 0, ranges: [{ firstNid: 0, count: 2, image: 0 }], images: [{ offset: 0, length: img.length }], storeBytes: img.length, argv: ['cor_touch'], envp: [] });
}

const E = (e: keyof typeof ERRNO) => -ERRNO[e];

describe('a failed remote task creation', () => {
  it('frees the template objects and the job id of a creation that failed', () => {
    const NID = 2;
    const mk = (fails: number, badReason: boolean) => program('rtask_fail', function* main(env) {
      const { sys, mem } = env;
      const pid = yield* sys.getpid();
      const im = yield* mem.alloc(img.length);
      yield* mem.store(im, img);
      const args = yield* mem.alloc(8 * RTASK.ARG_WORDS);
      const reason = yield* mem.alloc(256);
      function* create(jobId: number, reasonVa: number): Generator<any, number, any> {
        const b = block(NID, pid, jobId);
        const bva = yield* mem.alloc(b.length);
        yield* mem.store(bva, b);
        const words: [number, number][] = [
          [RTASK.W_IMAGE, im], [RTASK.W_IMAGE_LEN, img.length], [RTASK.W_BLOCK, bva], [RTASK.W_BLOCK_LEN, b.length],
          [RTASK.W_VM_AREAS, 3], [RTASK.W_ALGORITHM, 1], [RTASK.W_CREATION, 0], [RTASK.W_PAGING, 0], [RTASK.W_NMS, 0],
          [RTASK.W_THREADS, 1], [RTASK.W_TIMEOUT_US, 100_000], [RTASK.W_REASON, reasonVa], [RTASK.W_REASON_LEN, 256],
        ];
        for (const [i, v] of words) yield* mem.storeU64(args + 8 * i, v);
        return yield* sys.raw(SYS.rtask_create, args);
      }
      for (let i = 0; i < fails; i++) yield* sys.publish(`fail_${i}`, yield* create(10 + i, reason));
      if (!badReason) return 0;
      // The same failure with a reason buffer the kernel cannot write, then the same job id again.
      yield* sys.publish('bad_reason', yield* create(20, 0x10));
      yield* sys.publish('again', yield* create(20, reason));
      return 0;
    });
    const go = (fails: number, badReason: boolean) => {
      const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
      sys.machine.network.setNodeDown(1, true); // rank 1's node is down: every creation fails
      sys.catalog.register(APPS.cor_touch);
      const k = sys.kernel(NID);
      const job = sys.launchDirect(mk(fails, badReason), [NID], [], 1000, { launcher: true });
      sys.run({ done: () => sys.jobDone(job), until: 100e12 });
      sys.run({ until: sys.now + 1e12 });
      return { sys, k, job };
    };
    const used0 = go(0, false).k.phys.usedBytes;
    const used5 = go(5, false).k.phys.usedBytes;
    const { k, job } = go(5, true);
    const r = Object.fromEntries(job.ranks[0].process!.results);
    for (let i = 0; i < 5; i++) expect(r[`fail_${i}`]).toBe(E('EIO'));
    // Expected: five failed creations leave no kernel memory behind once the process exited (seen: ~6.6 MB, the template objects).
    expect(used5).toBe(used0);
    expect(r.bad_reason).toBe(E('EFAULT'));
    // Expected: the job id of a failed creation is free again.
    expect(r.again).toBe(E('EIO'));
    // Expected: after the process exited, nothing of its failed creations is left on its node.
    expect(k.rtask.sources.size).toBe(0);
  });
});
