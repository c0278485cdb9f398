// The process that called rtask_create is killed while the creation is
// still in flight (before any task exists, while the tree is being built,
// once the last answer is on its way): every task of that job is torn down
// on every node afterwards, and nothing of it (task, source template,
// process) remains (first review of #14).

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { imageOf } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { program } from '../../userland/lib/runtime.ts';

const hello = imageOf(APPS.hello);
const NID = 7;
const RANKS = 7;

function creator(algorithm: number, creation: number, paging: number) {
  return program('creator', function* main(env) {
    const { sys, mem } = env;
    const img = yield* mem.alloc(hello.length);
    yield* mem.store(img, hello);
    const b = encodeJobBlock({ jobId: 77, pid: 100, fanout: { kind: 'binomial' }, mode: 'crtc', serviceNid: NID, servicePid: yield* sys.getpid(), initLen: hello.length, timeoutUs: 1e6, startUs: 0, ranges: [{ firstNid: 0, count: RANKS, image: 0 }], images: [{ offset: 0, length: hello.length }], storeBytes: hello.length, argv: ['hello'], envp: [] });
    const blk = yield* mem.alloc(b.length);
    yield* mem.store(blk, b);
    const r = yield* sys.rtaskCreate({ image: img, imageLen: hello.length, block: blk, blockLen: b.length, vmAreas: 4, algorithm, creation, paging, nms: false, threads: 1, timeoutUs: 1e6 });
    yield* sys.publish('created', r.rc);
    yield* sys.nanosleep(1e9);
    return 0;
  });
}

describe('a creator killed while rtask_create is in flight', () => {
  // algorithm (0 ntc, 1 crtc), creation (0 flat, 2 tree), paging (0 flat, 1 tree)
  for (const [name, a, c, p] of [['crtc tree', 1, 2, 1], ['ntc flat', 0, 0, 0]] as const) {
    for (const fraction of [0.05, 0.3, 0.6, 0.95]) {
      it(`leaves no task, template or process of the job on any node (${name}, killed ${fraction * 100} % into the creation)`, () => {
        // How long the whole creation takes, undisturbed.
        const measure = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [NID + 1] }, seed: 1 });
        measure.catalog.register(APPS.hello);
        for (let n = 0; n <= NID; n++) measure.boot(n);
        const m = measure.launchDirect(creator(a, c, p), [NID], [], 2002, { launcher: true });
        measure.run({ done: () => measure.kernel(NID).rtask.sources.has(77), until: 100e12 });
        const t0 = measure.now;
        measure.run({ done: () => m.ranks[0].process!.results.has('created'), until: 100e12 });
        expect(m.ranks[0].process!.results.get('created')).toBe(RANKS);
        const span = measure.now - t0;

        const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [NID + 1] }, seed: 1 });
        sys.catalog.register(APPS.hello);
        for (let n = 0; n <= NID; n++) sys.boot(n);
        const job = sys.launchDirect(creator(a, c, p), [NID], [], 2002, { launcher: true });
        sys.run({ done: () => sys.kernel(NID).rtask.sources.has(77), until: 100e12 });
        sys.run({ until: sys.now + Math.floor(span * fraction) });
        const proc = job.ranks[0].process!;
        expect(proc.results.has('created')).toBe(false);
        sys.kernel(NID).killProcess(proc, 137, 'killed by the test during rtask_create');
        sys.run({ until: sys.now + 20e12 });
        for (let n = 0; n < RANKS; n++) {
          expect(sys.kernel(n).liveProcesses()).toEqual([]);
          const t = sys.kernel(n).rtask.tasks.get(77);
          if (t !== undefined) expect(t.torn).toBe(true);
        }
        expect(sys.kernel(NID).rtask.sources.size).toBe(0);
      });
    }
  }
});
