// Termination (seed 002, section 4.2, Figure 13): a remote task ends (by
// itself, or terminated by its source); then its node tears down its VM
// objects one after another, each by a round trip with the object's pager,
// which drops its reference. An object that children still page from stays
// until the last of them has detached, so in a hierarchical paging tree the
// tear-down climbs the tree from the leaves; in a flat one every node's
// detaches queue at the source. Also the paging-path set-up (attach) and
// the start of created tasks, the other requests a pager or a task answers.

import type { Cpu } from '../cpu.ts';
import { ERRNO } from '../errno.ts';
import type { IpcRequest } from '../ipc/services.ts';
import { MAX_REASON_BYTES } from '../ipc/services.ts';
import { type KPath, step } from '../step.ts';
import type { RJob, RtaskNode, VmObject } from './node.ts';
import { SOURCE, pagerOf } from './shape.ts';
import { OP, SERVICE } from './wire.ts';

/** Exit status of a task its source terminated (128 + SIGTERM). */
export const TERMINATED_STATUS = 143;

/** A child's paging path for an area now points here: the object takes a reference. */
export function* serveAttach(n: RtaskNode, req: IpcRequest, _cpu: Cpu): KPath {
  const obj = objectFor(n, req);
  if (obj === null) return yield* req.refuse(-ERRNO.ESRCH, `no object for area ${req.words[2]} of job ${req.words[1]}`);
  obj.refs++;
  n.stats.attaches++;
  yield step('rtask', 'attach', n.k.profile.values['rtask.pagerAttachCycles'], `area ${obj.area.index} for node ${req.src} (${obj.refs} reference(s))`);
  yield* req.reply([OP.attach]);
}

/** A child tore down its object for an area: the reference goes, and this node's own tear-down may follow. */
export function* serveDetach(n: RtaskNode, req: IpcRequest, cpu: Cpu): KPath {
  const obj = objectFor(n, req);
  if (obj === null) return yield* req.refuse(-ERRNO.ESRCH, `no object for area ${req.words[2]} of job ${req.words[1]}`);
  if (obj.refs > 0) obj.refs--;
  n.stats.detaches++;
  yield step('rtask', 'detach', n.k.profile.values['rtask.objectTeardownCycles'], `area ${obj.area.index} from node ${req.src} (${obj.refs} left)`);
  yield* req.reply([OP.detach]);
  const j = n.jobAt(req.words[1], req.words[3] - 1);
  if (j !== undefined) yield* teardown(n, j, cpu);
}

function objectFor(n: RtaskNode, req: IpcRequest): VmObject | null {
  const j = n.jobAt(req.words[1], req.words[3] - 1);
  return j?.objects[req.words[2]] ?? null;
}

/** Starts the created task (suspended since its creation) and passes the start on to the children it created. */
export function* serveStart(n: RtaskNode, req: IpcRequest, cpu: Cpu): KPath {
  const j = n.tasks.get(req.words[1]);
  if (j === undefined || j.process === null || j.started || !j.process.alive) return;
  yield* startTask(n, j, cpu);
}

/** Starts `j`'s task (none on the source) and sends the start to the children its node created. */
export function* startTask(n: RtaskNode, j: RJob, cpu: Cpu): KPath {
  j.started = true;
  const t = j.process?.threads[0];
  if (t !== undefined) {
    yield step('rtask', 'start', n.k.profile.values['kernel.syscallWorkCycles'], `pid ${j.process!.pid} rank ${j.rank}`);
    yield* n.k.startThread(t, cpu);
  }
  for (const nid of j.childNids) yield* n.k.ipc.post(nid, SERVICE, [OP.start, j.jobId], null);
}

/**
 * The source terminates this node's task: the task dies and the source hears
 * back at once (Mach's task_terminate); its VM objects are torn down after,
 * each with its pager, overlapping the next terminations.
 */
export function* serveTerminate(n: RtaskNode, req: IpcRequest, cpu: Cpu): KPath {
  const j = n.tasks.get(req.words[1]);
  if (j === undefined || j.ended) return yield* req.reply([OP.terminate, 0]);
  if (req.src !== j.srcNid) return yield* req.refuse(-ERRNO.EPERM, `only the source (node ${j.srcNid}) terminates job ${j.jobId}`);
  yield step('rtask', 'terminate', n.k.profile.values['kernel.syscallWorkCycles'], `rank ${j.rank} of job ${j.jobId}`);
  if (j.process !== null && j.process.alive) n.k.jobs.killOnRequest(j.process, TERMINATED_STATUS, 'terminated by its source (rtask_terminate)');
  else taskEnded(n, j);
  yield* req.reply([OP.terminate, 1]);
  yield* teardown(n, j, cpu);
}

/** `j`'s task (or the source's owner) ended: its objects go once no child refers to them. */
export function taskEnded(n: RtaskNode, j: RJob): void {
  if (j.ended) return;
  j.ended = true;
  // Called from the exit path, which takes no steps: the tear-down runs as the kernel's deferred work.
  const k = n.k;
  k.timer(0).add({
    at: k.engine.now,
    kind: 'sleep',
    thread: null,
    expire: (tc) => teardown(n, j, k.cpus[tc.index]),
  });
}

/** Tears down `j`'s objects, one detach at a time, once the task has ended and no child pages from them. */
export function* teardown(n: RtaskNode, j: RJob, cpu: Cpu): KPath {
  if (!j.ended || j.tearing) return;
  if (j.objects.some((o) => o !== null && o.refs > 0)) return;
  j.tearing = true;
  const objs = j.objects.filter((o): o is VmObject => o !== null);
  const pagerRank = pagerOf(j.plan.paging, j.rank);
  const done = function* (c: Cpu): KPath {
    releaseObjects(n, objs);
    j.torn = true;
    // The job is gone from this node: its id is free again and nothing answers from its frames.
    if (j.rank === SOURCE) n.sources.delete(j.jobId);
    else if (n.tasks.get(j.jobId) === j) n.tasks.delete(j.jobId);
    yield step('rtask', 'torn-down', n.k.profile.values['kernel.syscallWorkCycles'], `job ${j.jobId} rank ${j.rank === SOURCE ? 'source' : j.rank}: ${objs.length} object(s)`);
    for (const f of j.onTorn.splice(0)) yield* f(c);
  };
  if (j.rank === SOURCE) return yield* done(cpu);
  const pager = n.nidOf(j, pagerRank);
  const next = function* (i: number, c: Cpu): KPath {
    while (i < objs.length && !objs[i].attached) i++;
    if (i >= objs.length) return yield* done(c);
    yield step('rtask', 'object-teardown', n.k.profile.values['rtask.objectTeardownCycles'], `area ${objs[i].area.index}: detach from node ${pager}`);
    yield* n.ask(pager, [OP.detach, j.jobId, objs[i].area.index, pagerRank + 1], null, n.k.engine.now + j.slice, function* (r, c2) {
      if (!r.ok) yield step('rtask', 'detach-lost', 0, r.reason);
      objs[i].attached = false;
      yield* next(i + 1, c2);
    });
  };
  yield* next(0, cpu);
}

/**
 * Gives `objs`' frames back. A page-in still in flight for one of them is
 * failed now (its waiters hear the object is gone) and its answer, when it
 * comes, is dropped without touching the frames (cor.ts want()).
 */
function releaseObjects(n: RtaskNode, objs: readonly VmObject[]): void {
  for (const o of objs) {
    if (o.released) continue;
    o.released = true;
    n.k.phys.release(o.pa);
  }
}

/**
 * Terminates every rank's task of the source job `j` and calls `then` with
 * how many answered that they terminated one: one after another from the
 * last rank to the first (the kernel keeps no parent/child relation to go
 * down a tree), or all at once (cleaning up after a failed creation, or
 * after the creating process ended). Their objects go afterwards.
 */
export function* terminateRanks(n: RtaskNode, j: RJob, cpu: Cpu, atOnce: boolean, then: (answered: number, cpu: Cpu) => KPath): KPath {
  let answered = 0;
  let left = j.size;
  const deadline = () => n.k.engine.now + j.slice;
  const one = function* (rank: number, next: ((c: Cpu) => KPath) | null): KPath {
    yield* n.ask(n.nidOf(j, rank), [OP.terminate, j.jobId], null, deadline(), function* (r, c2) {
      if (r.ok && r.words[1] === 1) answered++;
      left--;
      if (next !== null) yield* next(c2);
      else if (left === 0) yield* then(answered, c2);
    });
  };
  if (atOnce) {
    for (let rank = 0; rank < j.size; rank++) yield* one(rank, null);
    return;
  }
  const seq = function* (rank: number, c: Cpu): KPath {
    if (rank >= 0) return yield* one(rank, (c2) => seq(rank - 1, c2));
    yield* then(answered, c);
  };
  yield* seq(j.size - 1, cpu);
}

/**
 * The process that created source job `j` ended. Tasks it never started
 * would stay suspended on their nodes for good (nobody else may start or
 * terminate them), so they are terminated as rtask_terminate would; their
 * tear-down then releases the source's objects. Started tasks run on and
 * end by themselves. Called from the exit path, which takes no steps: the
 * work runs as the kernel's deferred work.
 */
export function creatorEnded(n: RtaskNode, j: RJob): void {
  if (j.started || j.ended) return taskEnded(n, j);
  // A creation still in flight would make tasks after their termination went by: it is ended when its
  // outcome is back (rtask_create's continuation calls endOrphaned), and creates no more tasks meanwhile.
  if (j.creating) return;
  const k = n.k;
  k.timer(0).add({ at: k.engine.now, kind: 'sleep', thread: null, expire: (tc) => endOrphaned(n, j, k.cpus[tc.index]) });
}

/** Terminates every task of source job `j`, whose creator has ended, at once; then the source's objects go. */
export function* endOrphaned(n: RtaskNode, j: RJob, cpu: Cpu): KPath {
  if (j.ended) return;
  yield step('rtask', 'orphaned', n.k.profile.values['kernel.syscallWorkCycles'], `job ${j.jobId}: its creator ended before starting its task(s)`);
  yield* terminateRanks(n, j, cpu, true, function* (answered) {
    yield step('rtask', 'orphans-terminated', 0, `job ${j.jobId}: ${answered} task(s)`);
  });
  taskEnded(n, j);
}

/**
 * Drops the source job `j` at once after a failed creation: its job id is
 * free again and its objects' frames go back. The tasks that existed were
 * terminated first; a detach that comes later finds no object and is refused.
 */
export function releaseSource(n: RtaskNode, j: RJob): void {
  if (j.torn) return;
  j.ended = true;
  j.tearing = true;
  releaseObjects(n, j.objects.filter((o): o is VmObject => o !== null));
  j.torn = true;
  n.sources.delete(j.jobId);
}

/**
 * A task of source job `j` died of a failed page-in (its node says so,
 * with the reason). Its exit may never fan in (the unreachable pager is
 * usually its creator, the next hop of its exit), so the job ends here: the
 * source terminates every rank at once, as after a failed creation, and
 * then tells the owner (yod) that the job ended, with the reason, in an
 * exit record from this node's kernel. A node that does not answer the
 * termination by its deadline is left; the job still ends.
 */
export function* serveFailed(n: RtaskNode, req: IpcRequest, cpu: Cpu): KPath {
  const [, jobId, rank, status] = req.words;
  const j = n.sources.get(jobId);
  // Only the node of that rank speaks for it, and only for a started job.
  if (j === undefined || !Number.isSafeInteger(rank) || rank < 0 || rank >= j.size || n.nidOf(j, rank) !== req.src || !j.started || j.aborted !== null || j.owner === null) return;
  const reason = new TextDecoder().decode((req.payload?.bytes() ?? new Uint8Array(0)).subarray(0, MAX_REASON_BYTES)) || `rank ${rank} failed`;
  j.aborted = reason;
  const owner = j.owner;
  yield step('rtask', 'job-failed', n.k.profile.values['kernel.syscallWorkCycles'], `job ${jobId}: ${reason}; terminating its tasks`);
  yield* terminateRanks(n, j, cpu, true, function* (answered) {
    const k = n.k;
    yield step('rtask', 'job-ended', k.profile.values['kernel.syscallWorkCycles'], `job ${jobId}: ${answered} task(s) terminated`);
    const summary = { ranks: j.size, failed: answered + 1, firstFailedRank: rank, firstFailedStatus: status };
    k.jobs.transport.send(k.nid, k.jobs.transport.header('exit', { dstPid: owner.pid, srcNid: k.nid, rank, jobId, summary }), new TextEncoder().encode(reason));
    // The template's objects go now: a node that never answered must not pin them.
    releaseSource(n, j);
  });
}
