// The remote-tasking calls refuse bad arguments with -errno and act only for
// the process that created a job: a job id is not a capability anyone can use.

import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { imageOf, launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { program } from '../../userland/lib/runtime.ts';
import { DEFAULT_RTASK } from '../../userland/lib/rtask.ts';
import type { RtaskCreate } from '../../userland/lib/sys.ts';

const hello = imageOf(APPS.hello);

function block(serviceNid: number, servicePid: number): Uint8Array {
  return encodeJobBlock({ jobId: 7, pid: 100, fanout: { kind: 'binomial' }, mode: 'crtc', serviceNid, servicePid, initLen: hello.length, timeoutUs: 1e6, startUs: 0, ranges: [{ firstNid: 0, count: 2, image: 0 }], images: [{ offset: 0, length: hello.length }], storeBytes: hello.length, argv: ['hello'], envp: [] });
}

/** Runs `prog` directly on node `nid` as a job launcher (as yod is) and returns what it published. */
function runOn(sys: System, prog: ReturnType<typeof program>, nid: number): Map<string, number> {
  sys.catalog.register(APPS.hello);
  const job = sys.launchDirect(prog, [nid], [], 1000, { launcher: true });
  sys.run({ done: () => sys.jobDone(job), until: 10e12 });
  return job.ranks[0].process!.results;
}

describe('the remote-tasking calls', () => {
  it('refuse bad arguments with -errno, never a host error', () => {
    const prog = program('rtask_bad', function* main(env) {
      const { sys, mem } = env;
      const img = yield* mem.alloc(hello.length);
      yield* mem.store(img, hello);
      const mine = block(yield* sys.getnid(), yield* sys.getpid());
      const blk = yield* mem.alloc(mine.length);
      yield* mem.store(blk, mine);
      const base: RtaskCreate = { image: img, imageLen: hello.length, block: blk, blockLen: mine.length, vmAreas: 3, algorithm: 1, creation: 2, paging: 1, nms: false, threads: 4, timeoutUs: 1000 };
      const tries: Record<string, Partial<RtaskCreate>> = {
        vm_areas: { vmAreas: 2 },
        too_many_areas: { vmAreas: 5000 },
        algorithm: { algorithm: 9 },
        creation: { creation: 3 },
        paging_without_tree: { creation: 0, paging: 1 },
        threads: { threads: 0 },
        image_ptr: { image: 0x10 },
        image_len: { imageLen: 0 },
        garbage_image: { image: blk, imageLen: mine.length },
        block_len: { blockLen: 3 },
        huge: { imageLen: 2 ** 60 },
      };
      for (const [name, t] of Object.entries(tries)) yield* sys.publish(name, (yield* sys.rtaskCreate({ ...base, ...t })).rc);
      yield* sys.publish('bad_args_ptr', yield* sys.raw(550, 8));
      yield* sys.publish('start_unknown', yield* sys.rtaskStart(99));
      yield* sys.publish('terminate_unknown', yield* sys.rtaskTerminate(99));
      yield* sys.publish('start_huge', yield* sys.raw(551, 2n ** 62n));
      // The block names node 2 pid 1 as the launcher; this process is someone else.
      const other = block(yield* sys.getnid(), 999);
      yield* mem.store(blk, other);
      yield* sys.publish('not_launcher', (yield* sys.rtaskCreate(base)).rc);
      return 0;
    });
    const r = runOn(new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [3] }, seed: 1 }), prog, 2);
    const E = (e: keyof typeof ERRNO) => -ERRNO[e];
    expect(Object.fromEntries(r)).toEqual({
      vm_areas: E('EINVAL'),
      too_many_areas: E('EINVAL'),
      algorithm: E('EINVAL'),
      creation: E('EINVAL'),
      paging_without_tree: E('EINVAL'),
      threads: E('EINVAL'),
      image_ptr: E('EFAULT'),
      image_len: E('EINVAL'),
      garbage_image: E('ENOEXEC'),
      block_len: E('EINVAL'),
      huge: E('EINVAL'),
      bad_args_ptr: E('EFAULT'),
      start_unknown: E('ESRCH'),
      terminate_unknown: E('ESRCH'),
      start_huge: E('EINVAL'),
      not_launcher: E('EPERM'),
    });
  });

  it('let no other process start or terminate a job it did not create', () => {
    const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [4] }, seed: 1 });
    const job = launch(sys, { load: 'crtc', fanout: { kind: 'binomial' }, programs: [APPS.cor_touch], map: [{ firstNid: 0, count: 3, image: 0 }], argv: ['pages=1', 'sleep_us=100000'], timeoutUs: 1e6, rtask: DEFAULT_RTASK });
    sys.run({ done: () => job.yod!.results.has('yod_go_at_ns'), until: 10e12 });
    const thief = program('thief', function* main(env) {
      yield* env.sys.publish('start', yield* env.sys.rtaskStart(1));
      yield* env.sys.publish('terminate', yield* env.sys.rtaskTerminate(1));
      return 0;
    });
    const t = sys.launchDirect(thief, [3], []);
    sys.run({ done: () => sys.jobDone(t) && sys.jobDone(job), until: 100e12 });
    expect(Object.fromEntries(t.ranks[0].process!.results)).toEqual({ start: -ERRNO.EPERM, terminate: -ERRNO.EPERM });
    expect(job.yod!.exitStatus).toBe(0);
  });
});
