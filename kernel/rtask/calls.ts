// The remote-tasking system calls: rtask_create makes the job's template
// from an ELF image and creates a task on every rank's node with the chosen
// algorithm and shape, returning when all exist (or, on a failure, after
// tearing down those that do, with the reason naming the node);
// rtask_start starts them; rtask_terminate terminates them one after another
// (the kernel keeps no parent/child relation to terminate them in a tree,
// as the seed notes) and returns when every node has torn down its objects.
// Only the process that created a job may start or terminate it.

import { RTASK } from '../abi.ts';
import type { Cpu } from '../cpu.ts';
import { fail } from '../errno.ts';
import { parseImage } from '../job/image.ts';
import { RangeJobMap, parseJobBlock } from '../job/jobblock.ts';
import type { Kernel } from '../kernel.ts';
import type { Thread } from '../process.ts';
import { type KPath, block, step } from '../step.ts';
import type { SyscallCtx } from '../syscalls/context.ts';
import { argInt, argPtr } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { copyin, copyout } from '../uaccess.ts';
import { createChildren, makeObjects } from './create.ts';
import { type Outcome, type RJob, copyCycles } from './node.ts';
import { ALGORITHMS, CREATIONS, PAGINGS, SOURCE, depthOf } from './shape.ts';
import { IMAGE_AREAS, MAX_VM_AREAS, encodeTemplate, sourceBytes, templateOf } from './template.ts';
import { endOrphaned, releaseSource, startTask, taskEnded, terminateRanks } from './teardown.ts';
import { MAX_THREADS } from './wire.ts';

/** Largest image or job block rtask_create copies in. */
const MAX_BYTES = 64 * 1024 * 1024;

export function* sys_rtask_create(c: SyscallCtx): KPath<number> {
  const k = c.k;
  const n = k.rtask;
  const raw = yield* copyin(k, c.cpu, c.p, argPtr(c, 0), 8 * RTASK.ARG_WORDS);
  const dv = new DataView(raw.buffer);
  const word = (i: number, name: string) => {
    const v = dv.getBigInt64(8 * i, true);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) fail('EINVAL', `${name} out of range`);
    return Number(v);
  };
  const w = {
    image: word(RTASK.W_IMAGE, 'image'),
    image_len: word(RTASK.W_IMAGE_LEN, 'image_len'),
    block: word(RTASK.W_BLOCK, 'block'),
    block_len: word(RTASK.W_BLOCK_LEN, 'block_len'),
    vm_areas: word(RTASK.W_VM_AREAS, 'vm_areas'),
    algorithm: word(RTASK.W_ALGORITHM, 'algorithm'),
    creation: word(RTASK.W_CREATION, 'creation'),
    paging: word(RTASK.W_PAGING, 'paging'),
    nms: word(RTASK.W_NMS, 'nms'),
    threads: word(RTASK.W_THREADS, 'threads'),
    timeout_us: word(RTASK.W_TIMEOUT_US, 'timeout_us'),
    reason: word(RTASK.W_REASON, 'reason'),
    reason_len: word(RTASK.W_REASON_LEN, 'reason_len'),
  };
  const algorithm = ALGORITHMS[w.algorithm];
  const creation = CREATIONS[w.creation];
  const paging = PAGINGS[w.paging];
  if (algorithm === undefined || creation === undefined || paging === undefined || w.nms > 1) fail('EINVAL', 'unknown algorithm, creation, paging or nms value');
  if (w.vm_areas < IMAGE_AREAS || w.vm_areas > MAX_VM_AREAS) fail('EINVAL', `vm_areas ${w.vm_areas}: between ${IMAGE_AREAS} (the image's text, data and bss) and ${MAX_VM_AREAS}`);
  if (w.threads < 1 || w.threads > MAX_THREADS) fail('EINVAL', `threads ${w.threads}: between 1 and ${MAX_THREADS}`);
  if (paging === 'tree' && creation !== 'tree') fail('EINVAL', 'a hierarchical paging tree follows the creation tree (creation tree)');
  if (w.timeout_us < 1 || w.timeout_us > 3600e6) fail('EINVAL', `timeout of ${w.timeout_us} us`);
  if (w.image_len < 1 || w.image_len > MAX_BYTES || w.block_len < 1 || w.block_len > MAX_BYTES) fail('EINVAL', 'image or job block length out of range');
  const imageBytes = yield* copyin(k, c.cpu, c.p, w.image, w.image_len);
  const blockBytes = yield* copyin(k, c.cpu, c.p, w.block, w.block_len);
  yield step('rtask', 'template', copyCycles(n, w.image_len) + k.profile.values['rtask.areaMapCycles'] * w.vm_areas, `${w.vm_areas} VM areas from a ${w.image_len}-byte image`);
  const img = parseImage(imageBytes);
  if (!img.ok) fail('ENOEXEC', img.reason);
  if (k.host.catalog.instantiate(img.image.textHash) === null) fail('ENOEXEC', `no code for the text of '${img.image.name}'`);
  const jb = parseJobBlock(blockBytes, k.host.nodeCount);
  if (!jb.ok) fail('EINVAL', jb.reason);
  const blk = jb.block;
  if (blk.serviceNid !== k.nid || blk.servicePid !== c.p.pid) fail('EPERM', `the job block names node ${blk.serviceNid} pid ${blk.servicePid} as its launcher, not the caller`);
  // Nodes are the launcher's to give (yod on the service partition, as in Puma/Cougar): any other process,
  // a compute rank included, would place tasks on nodes outside its job.
  if (c.p.info.launcher !== true) fail('EPERM', 'only a job launcher (yod) creates remote tasks');
  if (n.sources.has(blk.jobId)) fail('EEXIST', `job ${blk.jobId} already has tasks from this node`);
  const map = new RangeJobMap(blk.ranges, blk.size, blk.pid);
  if (map.hasNode(k.nid)) fail('EINVAL', 'a rank of the job is on the source node itself');
  const tpl = templateOf(img.image, w.vm_areas, blk.bytes.length);
  const objects = makeObjects(n, tpl);
  if (objects === null) fail('ENOMEM', 'no memory for the template\'s objects');
  for (const o of objects) {
    if (o === null) continue;
    k.node.memory.write(o.pa, sourceBytes(img.image, o.area));
    o.resident.fill(1);
  }
  // A node asked in the creation is given up after T of silence (askAlive); tear-down waits a slice of it per level.
  const timeoutPs = w.timeout_us * 1e6;
  const depth = creation === 'tree' ? depthOf('tree', blk.size - 1) : 1;
  const slice = Math.floor(timeoutPs / (depth + 2));
  const src: RJob = {
    jobId: blk.jobId,
    rank: SOURCE,
    size: blk.size,
    srcNid: k.nid,
    plan: { algorithm, creation, paging, nms: w.nms === 1, threads: w.threads },
    tpl,
    tplBytes: encodeTemplate(tpl),
    block: blk,
    map,
    uid: c.p.info.uid,
    objects,
    process: null,
    installed: [],
    creatorNid: k.nid,
    timeout: timeoutPs,
    slice,
    childNids: [],
    created: 0,
    started: false,
    ended: false,
    tearing: false,
    torn: false,
    onTorn: [],
    owner: c.p,
    aborted: null,
    creating: false,
  };
  n.sources.set(blk.jobId, src);
  const t = c.t;
  // Results come back through these boxes: a wake can happen before the block (then it does not wait).
  const box: { outcome: Outcome | null } = { outcome: null };
  src.creating = true;
  const creator = c.p;
  yield* createChildren(n, src, c.cpu, function* (o, cpu) {
    src.creating = false;
    // The creator was killed meanwhile: now that every creation has answered, what exists is torn down.
    if (!creator.alive) return yield* endOrphaned(n, src, cpu);
    box.outcome = o;
    yield* k.wake(t, null, cpu);
  });
  while (box.outcome === null) yield* block();
  const outcome = box.outcome;
  src.created = outcome.created;
  if (outcome.failure === null) return outcome.created;
  // Tear down every task that was created (all at once; a node that does not answer in time is left).
  const torn = yield* terminateAll(k, src, c.cpu, t, true);
  yield step('rtask', 'create-failed', 0, `${outcome.failure}; ${torn} task(s) torn down`);
  // The job id and the template's objects go before the reason is copied out: a bad reason buffer must not keep them.
  releaseSource(n, src);
  yield* writeReason(c, w.reason, w.reason_len, outcome.failure);
  fail('EIO', outcome.failure);
}

function* writeReason(c: SyscallCtx, va: number, room: number, reason: string): KPath {
  if (room === 0) return;
  const text = new TextEncoder().encode(reason).subarray(0, room - 1);
  const out = new Uint8Array(text.length + 1);
  out.set(text);
  yield* copyout(c.k, c.cpu, c.p, va, out);
}

/** The source job `id` of the calling process (-ESRCH, -EPERM). */
function ownJob(c: SyscallCtx, id: number): RJob {
  const j = c.k.rtask.sources.get(id);
  if (j === undefined) fail('ESRCH', `no remote-tasking job ${id} from this node`);
  if (j.owner !== c.p) fail('EPERM', `job ${id} belongs to pid ${j.owner?.pid}`);
  return j;
}

export function* sys_rtask_start(c: SyscallCtx): KPath<number> {
  const j = ownJob(c, argInt(c, 0));
  if (j.started) fail('EBUSY', `job ${j.jobId} was started already`);
  yield* startTask(c.k.rtask, j, c.cpu);
  return 0;
}

export function* sys_rtask_terminate(c: SyscallCtx): KPath<number> {
  const k = c.k;
  const j = ownJob(c, argInt(c, 0));
  const n = yield* terminateAll(k, j, c.cpu, c.t, false);
  // Termination is over when the last object is gone: every node has detached from its pager, up to the source.
  const t = c.t;
  const box = { done: false };
  const finish = function* (cpu: Cpu): KPath {
    if (box.done) return;
    box.done = true;
    yield* k.wake(t, null, cpu);
  };
  j.onTorn.push(finish);
  // A node that never detaches (hung) does not hold the caller past one slice.
  const timer = k.timer(0).add({ at: k.engine.now + j.slice, kind: 'sleep', thread: null, expire: (tc) => finish(k.cpus[tc.index]) });
  taskEnded(k.rtask, j);
  while (!box.done) yield* block();
  k.timer(0).remove(timer);
  yield step('rtask', 'terminated', k.profile.values['kernel.syscallWorkCycles'], `job ${j.jobId}: ${n} task(s), objects ${j.torn ? 'torn down' : 'still referenced'}`);
  return n;
}

/** Terminates every rank's task (terminateRanks) and returns, in the calling thread `t`, how many answered. */
function* terminateAll(k: Kernel, j: RJob, cpu: Cpu, t: Thread, atOnce: boolean): KPath<number> {
  const box: { answered: number | null } = { answered: null };
  yield* terminateRanks(k.rtask, j, cpu, atOnce, function* (answered, c) {
    box.answered = answered;
    yield* k.wake(t, null, c);
  });
  while (box.answered === null) yield* block();
  return box.answered;
}

const CALLS: Readonly<Partial<Record<SyscallName, (c: SyscallCtx) => KPath<number>>>> = {
  rtask_create: sys_rtask_create,
  rtask_start: sys_rtask_start,
  rtask_terminate: sys_rtask_terminate,
};

/** Registers the remote-tasking calls at boot. */
export function registerRtask(k: Kernel): void {
  for (const [name, h] of Object.entries(CALLS)) k.registerSyscall(name as SyscallName, h!);
}
