// yod: the job launcher on the service node (Cougar's and Catamount's yod).
// Its data segment holds the images (the service node's disk): the image it
// sends in the job-load message, then the image store its children fetch
// from. It writes the job block (nid map and parameters) after the load
// image, PUTs the job-load message to rank 0, waits for the ACK and for the
// job's status, PUTs GO (or kills the job 1-to-n when the load failed) and
// waits for the exit status that fans in through the kernels.
//
// With --mode crtc it creates the ranks by remote tasking instead
// (rtask_create from a template of the executable, docs/REMOTE-TASKING.md),
// starts them (rtask_start) and waits for the same exit fan-in.
//
// While it waits, the kernel of a rank that fails sends it a FAILED notice
// at once (kernel/job/failnotice.ts). With --on-failure end (the default, as
// mpirun does) yod names the rank, status and reason in one line and ends
// the job with the same 1-to-n app kill as after a failed load, then still
// waits for the fan-in so the counts are right; with --on-failure continue
// the other ranks run on until they end by themselves.
//
// argv: --job-id N --pid P --fanout F --mode two-phase|one-phase|crtc
//       --map FIRST:COUNT:IMAGE[,...] --images OFFSET:LEN[,...]
//       --load-len L --timeout-us T [--rtask A:C:P:NMS:AREAS:THREADS]
//       [--then run|terminate] [--on-failure end|continue] -- PROGRAM [ARGS...]
// (--then terminate: create the tasks, then terminate them unstarted, for
// the seed's termination figure; yod publishes both phases' times.)

import { KMSG } from '../lib/abi.gen.ts';
import { type Fanout, type LoadMode, type NidRange, encodeJobBlock, parseFanout, placeOf } from '../lib/jobblock.ts';
import { STATUS_BITS, GO_BITS, decodeStatus, kmsgBuffer, nextEvent, recvKMsg, sendSmall, setupLoadPortals } from '../lib/loader.ts';
import type { UserProgram } from '../../kernel/abi.ts';
import type { U } from '../lib/ops.ts';
import { type Env, program } from '../lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../lib/sys.ts';
import { PTL } from '../lib/portals.ts';
import { ALGORITHM_CODE, CREATION_CODE, DEFAULT_RTASK, PAGING_CODE, type RtaskChoice, parseRtask } from '../lib/rtask.ts';

interface YodArgs {
  jobId: number;
  pid: number;
  fanout: Fanout;
  mode: LoadMode;
  ranges: NidRange[];
  images: { offset: number; length: number }[];
  loadLen: number;
  timeoutUs: number;
  rtask: RtaskChoice;
  /** crtc: run the tasks, or terminate them as soon as they exist (the termination experiment). */
  then: 'run' | 'terminate';
  /** A rank failed: end the job at once, or let the others run on. */
  onFailure: 'end' | 'continue';
  appArgv: string[];
}

function parseArgs(argv: readonly string[]): YodArgs | string {
  const dd = argv.indexOf('--');
  const own = dd < 0 ? argv.slice(1) : argv.slice(1, dd);
  const appArgv = dd < 0 ? [] : argv.slice(dd + 1);
  const opt = new Map<string, string>();
  for (let i = 0; i < own.length; i += 2) {
    if (!own[i].startsWith('--') || own[i + 1] === undefined) return `bad argument '${own[i]}'`;
    opt.set(own[i].slice(2), own[i + 1]);
  }
  const num = (k: string) => {
    const v = opt.get(k);
    return v !== undefined && /^\d+$/.test(v) ? Number(v) : NaN;
  };
  const fanout = parseFanout(opt.get('fanout') ?? 'tree:2');
  if (fanout === null) return `bad --fanout '${opt.get('fanout')}'`;
  const mode = opt.get('mode') ?? 'two-phase';
  if (mode !== 'two-phase' && mode !== 'one-phase' && mode !== 'crtc') return `bad --mode '${mode}'`;
  const rtask = opt.has('rtask') ? parseRtask(opt.get('rtask')!) : DEFAULT_RTASK;
  if (rtask === null) return `bad --rtask '${opt.get('rtask')}'`;
  const then = opt.get('then') ?? 'run';
  if (then !== 'run' && then !== 'terminate') return `bad --then '${then}'`;
  if (then === 'terminate' && mode !== 'crtc') return '--then terminate needs --mode crtc';
  const onFailure = opt.get('on-failure') ?? 'end';
  if (onFailure !== 'end' && onFailure !== 'continue') return `bad --on-failure '${onFailure}'`;
  const triples = (opt.get('map') ?? '').split(',').filter((x) => x).map((x) => x.split(':').map(Number));
  const pairs = (opt.get('images') ?? '').split(',').filter((x) => x).map((x) => x.split(':').map(Number));
  if (triples.length === 0 || triples.some((t) => t.length !== 3 || t.some((n) => !Number.isSafeInteger(n) || n < 0))) return 'bad --map';
  if (pairs.length === 0 || pairs.some((t) => t.length !== 2 || t.some((n) => !Number.isSafeInteger(n) || n < 0))) return 'bad --images';
  if (appArgv.length === 0) return 'no program named after --';
  const a: YodArgs = {
    jobId: num('job-id'),
    pid: num('pid'),
    fanout,
    mode,
    ranges: triples.map(([firstNid, count, image]) => ({ firstNid, count, image })),
    images: pairs.map(([offset, length]) => ({ offset, length })),
    loadLen: num('load-len'),
    timeoutUs: num('timeout-us'),
    rtask,
    then,
    onFailure,
    appArgv,
  };
  if ([a.jobId, a.pid, a.loadLen, a.timeoutUs].some((n) => Number.isNaN(n))) return 'missing --job-id, --pid, --load-len or --timeout-us';
  if (a.ranges.some((r) => r.image >= a.images.length)) return '--map names an image that --images does not list';
  if (mode === 'crtc' && a.images.length > 1) return 'remote tasking creates every task from one template (one executable)';
  if (mode === 'one-phase' && a.images.length > 1) return 'a one-phase load cannot be heterogeneous (init is linked into one executable)';
  return a;
}

/** yod with `disk` (the load image, then the image store) as its data segment. */
export function yodProgram(disk: Uint8Array): UserProgram {
  return program('yod', yodMain, { textBytes: 32 * 1024, data: disk, dataBytes: disk.length });
}

function* yodMain(env: Env): U<number> {
  const { sys, mem } = env;
  const t0 = yield* sys.clockNs();
  const a = parseArgs(env.argv);
  if (typeof a === 'string') {
    yield* sys.print(`yod: ${a}\n`, 2);
    return 2;
  }
  const size = a.ranges.reduce((s, r) => s + r.count, 0);
  const storeBytes = a.images.reduce((m, im) => Math.max(m, im.offset + im.length), 0);
  const block = encodeJobBlock({
    jobId: a.jobId,
    pid: a.pid,
    fanout: a.fanout,
    mode: a.mode,
    serviceNid: yield* sys.getnid(),
    servicePid: yield* sys.getpid(),
    initLen: a.loadLen,
    timeoutUs: a.timeoutUs,
    startUs: Math.floor(t0 / 1000),
    ranges: a.ranges,
    images: a.images,
    storeBytes,
    argv: a.appArgv,
    envp: [`MARGAY_JOB=${a.jobId}`],
  });
  if (a.mode === 'crtc') return yield* remoteTasks(env, a, block, size, t0);
  // Steps 1-3: the image store and the job-load message (load image + job block).
  const lp = yield* setupLoadPortals(env, storeBytes, 1);
  yield* mem.store(lp.store, yield* mem.load(env.dataVa + a.loadLen, storeBytes));
  const payloadLen = a.loadLen + block.length;
  const payload = yield* sys.mmap(0, payloadLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (payload < 0) {
    yield* sys.print(`yod: no memory for a ${payloadLen}-byte job-load message\n`, 2);
    return 1;
  }
  yield* mem.store(payload, yield* mem.load(env.dataVa, a.loadLen));
  yield* mem.store(payload + a.loadLen, block);
  const deadline = t0 + a.timeoutUs * 1000;
  const kbuf = yield* kmsgBuffer(env);
  const rank0 = placeOf(a.ranges, 0).nid;
  // Step 4: the job-load message to rank 0.
  const rc = yield* sys.kmsgSend({ type: KMSG.LOAD, dstNid: rank0, dstPid: a.pid, rank: 0, jobId: a.jobId, payload, payloadLen, imageLen: a.loadLen, jobSize: size });
  const failures: string[] = [];
  let ok = 0;
  if (rc < 0) failures.push(`rank 0: job-load send failed (errno ${-rc})`);
  else {
    let answer = null;
    // A rank's FAILED notice is for the exit wait (awaitExit), not an answer to the load.
    while (answer === null || answer.rank !== 0 || answer.jobId !== a.jobId || answer.type === KMSG.FAILED) {
      answer = yield* recvKMsg(env, kbuf, Math.max(0, deadline - (yield* sys.clockNs())));
      if (answer === null) break;
    }
    if (answer === null) failures.push(`rank 0: no answer from node ${rank0} (timeout)`);
    else if (answer.type !== KMSG.LOAD_ACK) failures.push(`rank 0: ${answer.text || 'load refused'}`);
    else {
      // Step 12: the job's status, fanned in to rank 0.
      let ev = null;
      while (ev === null || ev.type !== PTL.EVENT_PUT || ev.match_bits !== STATUS_BITS) {
        ev = yield* nextEvent(env, lp, deadline);
        if (ev === null) break;
      }
      if (ev === null) failures.push('no status from rank 0 (timeout)');
      else {
        const s = decodeStatus(yield* mem.load(ev.start, 256));
        ok = s.ok;
        for (const f of s.listed) failures.push(`rank ${f.rank}: ${f.reason}`);
        if (s.failed > s.listed.length) failures.push(`... ${s.failed - s.listed.length} more rank(s) failed to load`);
        if (s.ok + s.failed !== size && s.failed === 0) failures.push(`status covers ${s.ok + s.failed} of ${size} ranks`);
      }
    }
  }
  const tStatus = yield* sys.clockNs();
  yield* sys.publish('yod_status_at_ns', tStatus);
  yield* sys.publish('ranks_loaded', ok);
  if (failures.length > 0 || ok !== size) {
    yield* sys.print(`yod: job ${a.jobId} failed to load:\n${failures.map((f) => `  ${f}\n`).join('')}`, 2);
    yield* killJob(env, a, size);
    let acks = 0;
    const until = (yield* sys.clockNs()) + 1e6 + 2000 * size;
    while (acks < size) {
      const m = yield* recvKMsg(env, kbuf, Math.max(0, until - (yield* sys.clockNs())));
      if (m === null) break;
      if (m.type === KMSG.KILL_ACK) acks++;
    }
    yield* sys.publish('kill_acks', acks);
    return 1;
  }
  // Step 13: GO.
  yield* sendSmall(env, lp, { nid: rank0, pid: a.pid }, GO_BITS, new Uint8Array(8));
  yield* sys.publish('yod_go_at_ns', yield* sys.clockNs());
  return yield* awaitExit(env, a, kbuf, size);
}

/** App kill goes 1-to-n from the service node: kernels never forward it. */
function* killJob(env: Env, a: YodArgs, size: number): U<void> {
  for (let rank = 0; rank < size; rank++) yield* env.sys.kmsgSend({ type: KMSG.KILL, dstNid: placeOf(a.ranges, rank).nid, dstPid: a.pid, rank, jobId: a.jobId, payload: 0, payloadLen: 0, imageLen: 0, jobSize: size });
}

/**
 * The exit status of the whole job, combined by the kernels up the tree: one
 * summary from each subtree yod started (rank 0's for the loader; the
 * source's children for remote tasking, every rank when it was flat). The
 * first rank to fail is heard of at once, from its kernel's FAILED notice:
 * with --on-failure end the job is killed then, and the fan-in still counts
 * every rank.
 */
function* awaitExit(env: Env, a: YodArgs, kbuf: number, size: number, sourceNid = -1): U<number> {
  const { sys } = env;
  const exit = { ranks: 0, failed: 0, firstFailedRank: -1, firstFailedStatus: 0 };
  // The first failure in time, from its kernel's notice (the fan-in's "first" is the lowest failed rank).
  let noticed: { rank: number; status: number } | null = null;
  while (exit.ranks < size) {
    const m = yield* recvKMsg(env, kbuf, -1);
    if (m === null || m.jobId !== a.jobId) continue;
    if (m.type === KMSG.FAILED) {
      // Only the kernel of the rank's own node speaks for it (a kernel message: no process can send one).
      if (noticed !== null || m.srcPid !== 0 || m.rank < 0 || m.rank >= size || placeOf(a.ranges, m.rank).nid !== m.srcNid) continue;
      noticed = { rank: m.rank, status: m.code };
      yield* sys.publish('first_failed_rank', m.rank);
      yield* sys.publish('first_failed_status', m.code);
      yield* sys.publish('first_failed_at_ns', yield* sys.clockNs());
      if (a.onFailure === 'continue') continue;
      yield* sys.print(`yod: job ${a.jobId}: rank ${m.rank} failed with status ${m.code}${m.text ? `: ${m.text}` : ''}; ending the job\n`, 2);
      yield* killJob(env, a, size);
      continue;
    }
    if (m.type !== KMSG.EXIT) continue;
    if (m.srcNid === sourceNid) {
      // Remote tasking: the source's kernel ended the job (a task died of a failed page-in); its word is final.
      yield* sys.publish('yod_exit_at_ns', yield* sys.clockNs());
      yield* sys.publish('ranks_failed', m.failed);
      yield* sys.print(`yod: job ${a.jobId} ended by its source: rank ${m.firstFailedRank} failed with status ${m.firstFailedStatus}:\n  ${m.text}\n`, 2);
      return 1;
    }
    exit.ranks += m.ranks;
    exit.failed += m.failed;
    if (m.failed > 0 && (exit.firstFailedRank < 0 || m.firstFailedRank < exit.firstFailedRank)) {
      exit.firstFailedRank = m.firstFailedRank;
      exit.firstFailedStatus = m.firstFailedStatus;
    }
  }
  yield* sys.publish('yod_exit_at_ns', yield* sys.clockNs());
  yield* sys.publish('ranks_exited', exit.ranks);
  yield* sys.publish('ranks_failed', exit.failed);
  if (exit.failed > 0) {
    const first = noticed ?? { rank: exit.firstFailedRank, status: exit.firstFailedStatus };
    yield* sys.print(`yod: job ${a.jobId}: ${exit.failed} of ${exit.ranks} rank(s) failed; first: rank ${first.rank} with status ${first.status}\n`, 2);
    return 1;
  }
  yield* sys.print(`yod: job ${a.jobId}: ${exit.ranks} rank(s) loaded and exited with status 0\n`);
  return 0;
}

/**
 * --mode crtc: the kernel creates every rank's task from a template of the
 * executable (its pages follow on first touch, from this node), yod starts
 * them, and the exit status fans in through the kernels as for a load.
 */
function* remoteTasks(env: Env, a: YodArgs, block: Uint8Array, size: number, t0: number): U<number> {
  const { sys, mem } = env;
  const blockVa = yield* sys.mmap(0, block.length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (blockVa < 0) {
    yield* sys.print(`yod: no memory for a ${block.length}-byte job block\n`, 2);
    return 1;
  }
  yield* mem.store(blockVa, block);
  const kbuf = yield* kmsgBuffer(env);
  const r = a.rtask;
  const made = yield* sys.rtaskCreate({
    image: env.dataVa,
    imageLen: a.loadLen,
    block: blockVa,
    blockLen: block.length,
    vmAreas: r.vmAreas,
    algorithm: ALGORITHM_CODE[r.algorithm],
    creation: CREATION_CODE[r.creation],
    paging: PAGING_CODE[r.paging],
    nms: r.nms,
    threads: r.threads,
    timeoutUs: a.timeoutUs,
  });
  yield* sys.publish('yod_status_at_ns', yield* sys.clockNs());
  yield* sys.publish('ranks_loaded', Math.max(0, made.rc));
  yield* sys.publish('rtask_create_ns', (yield* sys.clockNs()) - t0);
  if (made.rc < 0) {
    yield* sys.print(`yod: job ${a.jobId} failed to load:\n  ${made.reason || `rtask_create: errno ${-made.rc}`}\n`, 2);
    return 1;
  }
  if (a.then === 'terminate') {
    const t1 = yield* sys.clockNs();
    const n = yield* sys.rtaskTerminate(a.jobId);
    yield* sys.publish('rtask_terminate_ns', (yield* sys.clockNs()) - t1);
    yield* sys.publish('ranks_terminated', n);
    yield* sys.print(`yod: job ${a.jobId}: ${made.rc} task(s) created, ${n} terminated\n`);
    return n === size ? 0 : 1;
  }
  const rc = yield* sys.rtaskStart(a.jobId);
  if (rc < 0) {
    yield* sys.print(`yod: rtask_start: errno ${-rc}\n`, 2);
    return 1;
  }
  yield* sys.publish('yod_go_at_ns', yield* sys.clockNs());
  return yield* awaitExit(env, a, kbuf, size, yield* sys.getnid());
}
