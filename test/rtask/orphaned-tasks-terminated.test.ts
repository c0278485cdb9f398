// A process creates remote tasks (rtask_create) and exits without starting
// or terminating them: the suspended tasks stay on their nodes for good,
// and every later job that wants those nodes is refused ("node busy").

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { imageOf, launch } from '../../monitor/launch.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { program } from '../../userland/lib/runtime.ts';

const hello = imageOf(APPS.hello);

describe('remote tasks whose creator exited', () => {
  it('terminates the tasks of a job whose creating process exited', () => {
    const NID = 3;
    const prog = program('orphaner', function* main(env) {
      const { sys, mem } = env;
      const img = yield* mem.alloc(hello.length);
      yield* mem.store(img, hello);
      const b = encodeJobBlock({ jobId: 77, pid: 100, fanout: { kind: 'binomial' }, mode: 'crtc', serviceNid: NID, servicePid: yield* sys.getpid(), initLen: hello.length, timeoutUs: 1e6, startUs: 0, ranges: [{ firstNid: 0, count: 3, image: 0 }], images: [{ offset: 0, length: hello.length }], storeBytes: hello.length, argv: ['hello'], envp: [] });
      const blk = yield* mem.alloc(b.length);
      yield* mem.store(blk, b);
      const r = yield* sys.rtaskCreate({ image: img, imageLen: hello.length, block: blk, blockLen: b.length, vmAreas: 3, algorithm: 1, creation: 2, paging: 1, nms: false, threads: 1, timeoutUs: 1e6 });
      yield* sys.publish('created', r.rc);
      if (r.rc < 0) yield* sys.print(r.reason + '\n');
      return 0; // exits: never starts nor terminates job 77
    });
    const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    sys.catalog.register(APPS.hello);
    for (let n = 0; n < 4; n++) sys.boot(n);
    const job = sys.launchDirect(prog, [NID], [], 2002, { launcher: true });
    sys.run({ done: () => sys.jobDone(job), until: 100e12 });
    sys.run({ until: sys.now + 100e12 });
    const left = [0, 1, 2].map((n) => sys.kernel(n).liveProcesses().map((p) => `${p.pid}:${p.name}:uid${p.info.uid}`));
    // A later job of another user on those nodes (yod on the service node 3).
    for (const load of ['crtc', 'two-phase'] as const) {
      const later = launch(sys, { load, fanout: { kind: 'binomial' }, programs: [APPS.hello], map: [{ firstNid: 0, count: 3, image: 0 }], argv: [], timeoutUs: 1e6, jobId: load === 'crtc' ? 5 : 6, rtask: load === 'crtc' ? DEFAULT_RTASK : undefined });
      sys.run({ done: () => sys.jobDone(later), until: sys.now + 100e12 });
    }
    expect(job.ranks[0].process!.results.get('created')).toBe(3);
    // Expected: nothing of job 77 is left once its creator is gone.
    expect(left).toEqual([[], [], []]);
  });
});
