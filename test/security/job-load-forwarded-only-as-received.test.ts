// A loaded rank may send job loads (the two-phase loader forwards the load
// to its children over the fan-out tree), but only the load it received,
// unchanged, to its own children. The third review of #14: a rank could
// send a load for its own job with a block it edited -- another nid map
// naming an idle node, so a process of the job appeared outside it. Its
// kernel now checks every load a rank asks to send (kernel/job/forward.ts):
// the destination must be one of its children under the job's fan-out and
// the payload the read-only copy of the load the kernel mapped at
// LAYOUT.IMAGE_BASE, which no process can change or unmap; anything else is
// -EPERM and counted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { KMSG, LAYOUT } from '../../kernel/abi.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { loadParentOf } from '../../kernel/job/forward.ts';
import { launch } from '../../monitor/launch.ts';
import { System } from '../../system/system.ts';
import { childrenOf } from '../../userland/lib/fanout.ts';
import { type Fanout, encodeJobBlock } from '../../userland/lib/jobblock.ts';
import { kmsgBuffer, recvKMsg } from '../../userland/lib/loader.ts';
import { program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

const results: Record<string, number | string> = {};

// Job 7: ranks 0-3 on nodes 0-3, flat fan-out (rank 0 is every other rank's parent); nodes 4-7 are idle.
const forger = program('forger', function* main(env) {
  const { sys, mem } = env;
  const job = env.job!;
  const rank = yield* sys.getrank();
  const len = job.initLen + job.bytes;
  const load = (dstNid: number, r: number, payload: number, payloadLen = len, imageLen = job.initLen) =>
    sys.kmsgSend({ type: KMSG.LOAD, dstNid, dstPid: job.pid, rank: r, jobId: job.jobId, payload, payloadLen, imageLen, jobSize: 4 });
  const at = (k: string, v: number) => {
    results[`${rank}:${k}`] = v;
  };
  if (rank === 0) {
    // A block naming idle node 5 as a fifth rank, sent as rank 4's load.
    const edited = encodeJobBlock({ ...job, ranges: [...job.ranges, { firstNid: 5, count: 1, image: 0 }] });
    const buf = yield* sys.mmap(0, job.initLen + edited.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    yield* mem.store(buf, yield* mem.load(LAYOUT.IMAGE_BASE, job.initLen));
    yield* mem.store(buf + job.initLen, edited);
    at('edited_to_idle_node', yield* load(5, 4, buf, job.initLen + edited.length));
    // The same edit sent to a child it does have.
    at('edited_to_child', yield* load(1, 1, buf, job.initLen + edited.length));
    // A byte-equal copy from writable memory: the rank could change it before the NIC reads it.
    const copy = yield* sys.mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    yield* mem.store(copy, yield* mem.load(LAYOUT.IMAGE_BASE, len));
    at('copy_to_child', yield* load(1, 1, copy));
    // Its child's rank on another node, and the load cut short.
    at('child_on_wrong_node', yield* load(6, 1, LAYOUT.IMAGE_BASE));
    at('shorter', yield* load(1, 1, LAYOUT.IMAGE_BASE, len - 8));
    // The kernel's copy cannot be made writable, unmapped or mapped over.
    at('mprotect', yield* sys.mprotect(LAYOUT.IMAGE_BASE, 4096, PROT_READ | PROT_WRITE));
    at('munmap', yield* sys.munmap(LAYOUT.IMAGE_BASE, 4096));
    at('map_fixed', yield* sys.mmap(LAYOUT.IMAGE_BASE, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | 0x10));
    // The load it received, to its own child: sent (that child's kernel refuses it: rank 1 is loaded already).
    at('received_to_child', yield* load(1, 1, LAYOUT.IMAGE_BASE));
    const a = yield* recvKMsg(env, yield* kmsgBuffer(env), 100e6);
    at('answer', a === null ? -1 : a.type);
    if (a !== null) results['0:answer_text'] = a.text;
  } else if (rank === 1) {
    // A leaf: no children at all, so the load it received goes nowhere.
    at('received_to_sibling', yield* load(2, 2, LAYOUT.IMAGE_BASE));
  }
  return 0;
});

describe('a loaded rank sending job loads', () => {
  it('may pass on only the load it received, to its own children (-EPERM otherwise, counted)', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3, 3] }, seed: 1 });
    sys.trace.enabled = false;
    for (let nid = 0; nid < 9; nid++) sys.boot(nid); // idle nodes run their kernels too
    const job = launch(sys, { load: 'one-phase', fanout: { kind: 'flat' }, programs: [forger], map: [{ firstNid: 0, count: 4, image: 0 }], argv: [], timeoutUs: 200_000, jobId: 7 });
    sys.run({ done: () => sys.jobDone(job), until: 50e12 });
    expect(sys.jobDone(job)).toBe(true);
    sys.run({ until: sys.now + 1e12 }); // whatever the ranks sent has arrived
    expect(results).toMatchObject({
      '0:edited_to_idle_node': -ERRNO.EPERM,
      '0:edited_to_child': -ERRNO.EPERM,
      '0:copy_to_child': -ERRNO.EPERM,
      '0:child_on_wrong_node': -ERRNO.EPERM,
      '0:shorter': -ERRNO.EPERM,
      '0:mprotect': -ERRNO.EINVAL,
      '0:munmap': -ERRNO.EINVAL,
      '0:map_fixed': -ERRNO.EINVAL,
      '0:received_to_child': 0,
      '0:answer': KMSG.LOAD_NACK,
      '1:received_to_sibling': -ERRNO.EPERM,
    });
    expect(results['0:answer_text']).toMatch(/already has a rank/);
    // Nothing of job 7 outside its nodes.
    for (const nid of [4, 5, 6, 7]) {
      expect(sys.kernel(nid).jobs.stats.received).toBe(0);
      expect(sys.kernel(nid).jobs.stats.loads).toBe(0);
    }
    expect(sys.kernel(0).jobs.stats.forwardsRefused).toBe(5);
    expect(sys.kernel(1).jobs.stats.forwardsRefused).toBe(1);
  });
});

describe('the kernel\'s reading of the load tree', () => {
  it('makes each rank the child of the rank that loads it in the user-level loader, for every fan-out (property)', () => {
    const fanouts: fc.Arbitrary<Fanout> = fc.oneof(
      fc.constant<Fanout>({ kind: 'flat' }),
      fc.constant<Fanout>({ kind: 'flat-concurrent' }),
      fc.constant<Fanout>({ kind: 'binomial' }),
      fc.integer({ min: 1, max: 9 }).map((arity): Fanout => ({ kind: 'tree', arity })),
    );
    fc.assert(
      fc.property(fanouts, fc.integer({ min: 1, max: 300 }), (fanout, size) => {
        const block = encodeJobBlock({ jobId: 1, pid: 1, fanout, mode: 'two-phase', serviceNid: 0, servicePid: 1, initLen: 1, timeoutUs: 1, startUs: 0, ranges: [{ firstNid: 0, count: size, image: 0 }], images: [{ offset: 0, length: 1 }], storeBytes: 1, argv: [], envp: [] });
        expect(loadParentOf(block, 0)).toBe(-1);
        for (let parent = 0; parent < size; parent++) for (const child of childrenOf(fanout, parent, size)) expect(loadParentOf(block, child)).toBe(parent);
      }),
      { seed: 14, numRuns: 200 },
    );
  });
});
