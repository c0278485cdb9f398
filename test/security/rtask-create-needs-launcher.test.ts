// Nodes are the launcher's to give (yod on the service partition, as in
// Puma/Cougar). A user's rank on a compute node used to call rtask_create
// naming itself as the launcher and place tasks on idle nodes outside its
// job (the review made three on nodes 3-5 from a rank on node 2); the same
// rank could send a job-load kernel message to an idle node. Both are now
// refused: only a process the host started as a launcher may do either,
// and a load's sender role is stamped by its kernel, not by the job block.
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { KMSG } from '../../kernel/abi.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { imageOf } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { type KMsgRecord, kmsgBuffer, recvKMsg } from '../../userland/lib/loader.ts';
import { program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

const hello = imageOf(APPS.hello);

function machine(): System {
  const sys = new System({ profile: getProfile('paragon'), shape: { kind: 'mesh', dims: [6] }, seed: 1 });
  sys.trace.enabled = false;
  sys.catalog.register(APPS.hello);
  for (let nid = 0; nid < 6; nid++) sys.boot(nid);
  return sys;
}

/** A job block for job 4242 on idle nodes 3-5, naming the caller as its launcher. */
function* rogueBlock(env: Parameters<Parameters<typeof program>[1]>[0], mode: 'crtc' | 'one-phase') {
  return encodeJobBlock({ jobId: 4242, pid: 1, fanout: { kind: 'binomial' }, mode, serviceNid: yield* env.sys.getnid(), servicePid: yield* env.sys.getpid(), initLen: hello.length, timeoutUs: 1e6, startUs: 0, ranges: [{ firstNid: 3, count: 3, image: 0 }], images: [{ offset: 0, length: hello.length }], storeBytes: hello.length, argv: ['hello'], envp: [] });
}

describe('a compute-node rank that is not a launcher', () => {
  it('cannot create remote tasks on nodes outside its job (rtask_create is -EPERM)', () => {
    const sys = machine();
    const rogue = program('rogue', function* main(env) {
      const { sys: s, mem } = env;
      const img = yield* mem.alloc(hello.length);
      yield* mem.store(img, hello);
      const b = yield* rogueBlock(env, 'crtc');
      const blk = yield* mem.alloc(b.length);
      yield* mem.store(blk, b);
      const cr = yield* s.rtaskCreate({ image: img, imageLen: hello.length, block: blk, blockLen: b.length, vmAreas: 3, algorithm: 1, creation: 2, paging: 1, nms: false, threads: 4, timeoutUs: 1_000_000 });
      yield* s.publish('create', cr.rc);
      return 0;
    });
    const job = sys.launchDirect(rogue, [2], []);
    sys.run({ done: () => sys.jobDone(job), until: 100e12 });
    expect(job.ranks[0].process!.results.get('create')).toBe(-ERRNO.EPERM);
    for (const nid of [3, 4, 5]) expect(sys.kernel(nid).rtask.tasks.has(4242)).toBe(false);
  });

  it('cannot start a process on an idle node with a job-load kernel message (the load is refused)', () => {
    const sys = machine();
    const answers: KMsgRecord[] = [];
    const rogue = program('rogue', function* main(env) {
      const b = yield* rogueBlock(env, 'one-phase');
      const len = hello.length + b.length;
      const payload = yield* env.sys.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
      yield* env.mem.store(payload, hello);
      yield* env.mem.store(payload + hello.length, b);
      yield* env.sys.publish('send', yield* env.sys.kmsgSend({ type: KMSG.LOAD, dstNid: 3, dstPid: 1, rank: 0, jobId: 4242, payload, payloadLen: len, imageLen: hello.length, jobSize: 3 }));
      const a = yield* recvKMsg(env, yield* kmsgBuffer(env), 100e6);
      if (a !== null) answers.push(a);
      return 0;
    });
    const job = sys.launchDirect(rogue, [2], []);
    sys.run({ done: () => sys.jobDone(job), until: 100e12 });
    expect(answers.map((a) => a.type)).toEqual([KMSG.LOAD_NACK]);
    expect(answers[0].text).toMatch(/not a job launcher: only the launcher places a job on nodes/);
    expect(sys.kernel(3).jobs.records.has(4242)).toBe(false);
    expect(sys.kernel(3).liveProcesses()).toEqual([]);
  });
});
