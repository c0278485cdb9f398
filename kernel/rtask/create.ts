// Remote task creation (seed 002, sections 3 and 4.2). The unoptimized
// single-task algorithm, ntc (Mach's norma_task_create), is a chain of
// synchronous requests from the creator: an empty task, then each VM area in
// its own round trip (during which the new node sets up that area's paging
// path with its pager, a second round trip), then the task's state, then its
// thread. crtc's algorithm sends everything in one batched request; the new
// node creates the task and its areas, and once that minimum state is in
// place it starts its own children (in a tree: pipelining) while the paging
// paths of all its areas are set up at once (overlapped). A node answers its
// creator when its subtree is ready. The creator runs its children one after
// another (flat, and ntc's tree), in several streams (flat-mt: the source's
// creating threads), or all at once (crtc's tree).

import type { Cpu } from '../cpu.ts';
import { ERRNO } from '../errno.ts';
import type { IpcRequest } from '../ipc/services.ts';
import { RangeJobMap, parseJobBlock } from '../job/jobblock.ts';
import { NO_SUMMARY } from '../job/jobmsg.ts';
import type { Process } from '../process.ts';
import { type KPath, step } from '../step.ts';
import { type Outcome, type RJob, type RtaskNode, type VmObject, copyCycles } from './node.ts';
import { SOURCE, childrenOf, creatorOf, pagerOf } from './shape.ts';
import { PAGE, type TemplateDesc, decodeTemplate } from './template.ts';
import { type CreateWords, OP, createWords, parseCreateWords } from './wire.ts';

type Then = (o: Outcome, cpu: Cpu) => KPath;

const enc = new TextEncoder();
const dec = new TextDecoder();

// ---- the creator's side ------------------------------------------------------

/** Creates the children of `j`'s node in the job's shape; `then` gets the subtree's outcome. */
export function* createChildren(n: RtaskNode, j: RJob, cpu: Cpu, then: Then): KPath {
  const kids = childrenOf(j.plan.creation, j.rank, j.size);
  const total: Outcome = { created: 0, failure: null };
  if (kids.length === 0) return yield* then(total, cpu);
  const concurrent = j.plan.creation === 'tree' && j.plan.algorithm === 'crtc';
  const streams = concurrent ? kids.length : j.plan.creation === 'flat-mt' ? Math.min(j.plan.threads, kids.length) : 1;
  let next = 0;
  let running = streams;
  // Each stream creates one child after another; the outcome is reported when the last stream ends.
  const stream = function* (c: Cpu): KPath {
    // A source whose creator has ended creates no more tasks.
    if (next >= kids.length || total.failure !== null || (j.owner !== null && !j.owner.alive)) {
      if (--running === 0) yield* then(total, c);
      return;
    }
    const rank = kids[next++];
    yield* createOne(n, j, rank, function* (o, c2) {
      total.created += o.created;
      if (o.failure !== null && total.failure === null) total.failure = o.failure;
      if (o.failure === null) j.childNids.push(n.nidOf(j, rank));
      yield* stream(c2);
    });
  };
  for (let s = 0; s < streams; s++) yield* stream(cpu);
}

/** Creates `rank`'s task (and, in a tree, its subtree) from `j`'s node with the job's algorithm. */
function* createOne(n: RtaskNode, j: RJob, rank: number, then: Then): KPath {
  const nid = n.nidOf(j, rank);
  const words: CreateWords = { jobId: j.jobId, rank, plan: j.plan, srcNid: j.srcNid, uid: j.uid, templateLen: j.tplBytes.length, timeout: j.timeout, slice: j.slice };
  const payload = { bytes: concat(j.tplBytes, j.block.bytes) };
  const failed = (reason: string) => ({ created: 0, failure: reason.startsWith('rank ') ? reason : `rank ${rank}: ${reason}` });
  yield step('rtask', 'create-send', n.k.profile.values['kernel.syscallWorkCycles'], `${j.plan.algorithm} rank ${rank} on node ${nid}`);
  if (j.plan.algorithm === 'crtc') {
    yield* n.askAlive(nid, createWords('create', words), payload, j.timeout, function* (r, c) {
      if (!r.ok) return yield* then(failed(r.reason), c);
      const reason = r.words[2] === 0 ? null : dec.decode(r.payload?.bytes() ?? new Uint8Array(0));
      yield* then({ created: r.words[1], failure: reason }, c);
    });
    return;
  }
  // ntc: task, each area, state, thread; one synchronous round trip each.
  const steps: { words: number[]; payload: typeof payload | null }[] = [
    { words: createWords('task', words), payload },
    ...j.tpl.areas.map((a) => ({ words: [OP.area, j.jobId, a.index], payload: null })),
    { words: [OP.state, j.jobId], payload: null },
    { words: [OP.thread, j.jobId], payload: null },
  ];
  const go = function* (i: number): KPath {
    yield* n.askAlive(nid, steps[i].words, steps[i].payload, j.timeout, function* (r, c2) {
      if (!r.ok) return yield* then(failed(r.reason), c2);
      if (i + 1 < steps.length) return yield* go(i + 1);
      const reason = r.words[2] === 0 ? null : dec.decode(r.payload?.bytes() ?? new Uint8Array(0));
      yield* then({ created: r.words[1], failure: reason }, c2);
    });
  };
  yield* go(0);
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

// ---- the new node's side -----------------------------------------------------

/** crtc: the whole task in one request; minimum state, then children and paging paths at once. */
export function* serveCreate(n: RtaskNode, req: IpcRequest, cpu: Cpu): KPath {
  const made = yield* makeTask(n, req, true);
  if (typeof made === 'string') return yield* req.refuse(-ERRNO.EBUSY, made);
  const j = made;
  yield* afterRights(n, j, cpu, function* (c) {
    let children: Outcome | null = null;
    let paging: string | null | undefined;
    const finish = function* (): KPath {
      if (children === null || paging === undefined) return;
      yield* answer(n, j, req, children, paging);
    };
    // Pipelining: the children start now; the paging paths are set up meanwhile.
    yield* createChildren(n, j, c, function* (o) {
      children = o;
      yield* finish();
    });
    yield* attachAll(n, j, c, function* (failure) {
      paging = failure;
      yield* finish();
    });
  });
}

/** ntc step 1: an empty task (its regions allocated, nothing paged in). */
export function* serveTask(n: RtaskNode, req: IpcRequest, _cpu: Cpu): KPath {
  const made = yield* makeTask(n, req, false);
  if (typeof made === 'string') return yield* req.refuse(-ERRNO.EBUSY, made);
  yield* req.reply([OP.task, 0, 0]);
}

/** ntc step 2, per area: map it, then set up its paging path with the pager before answering. */
export function* serveArea(n: RtaskNode, req: IpcRequest, _cpu: Cpu): KPath {
  const j = n.tasks.get(req.words[1]);
  const a = j?.tpl.areas[req.words[2]];
  if (j === undefined || a === undefined || j.process === null) return yield* req.refuse(-ERRNO.ESRCH, `no task being created for job ${req.words[1]}`);
  yield step('rtask', 'area', n.k.profile.values['rtask.areaMapCycles'], `area ${a.index} (${a.kind}) at 0x${a.start.toString(16)}`);
  const obj = j.objects[a.index];
  if (obj === null) return yield* req.reply([OP.area, 0, 0]);
  yield* attach(n, j, obj, function* (failure, _c) {
    if (failure !== null) return yield* req.refuse(-ERRNO.EHOSTUNREACH, failure);
    yield* req.reply([OP.area, 0, 0]);
  });
}

/** ntc step 3: the task's state (its job block and initial registers). */
export function* serveState(n: RtaskNode, req: IpcRequest, _cpu: Cpu): KPath {
  const j = n.tasks.get(req.words[1]);
  if (j === undefined || j.process === null) return yield* req.refuse(-ERRNO.ESRCH, `no task being created for job ${req.words[1]}`);
  yield step('rtask', 'state', n.k.profile.values['kernel.syscallWorkCycles'] + copyCycles(n, j.block.bytes.length), `job block of ${j.block.bytes.length} bytes`);
  yield* req.reply([OP.state, 0, 0]);
}

/** ntc step 4: the thread; then (in a tree) this node creates its own subtree and answers for it. */
export function* serveThread(n: RtaskNode, req: IpcRequest, cpu: Cpu): KPath {
  const j = n.tasks.get(req.words[1]);
  if (j === undefined || j.process === null) return yield* req.refuse(-ERRNO.ESRCH, `no task being created for job ${req.words[1]}`);
  yield step('rtask', 'thread', n.k.profile.values['kernel.syscallWorkCycles'], `thread of pid ${j.process.pid} (suspended)`);
  yield* afterRights(n, j, cpu, function* (c) {
    yield* createChildren(n, j, c, function* (o, _c2) {
      yield* answer(n, j, req, o, null);
    });
  });
}

/** With No More Senders on, the rights a new task got are counted at the pager's node first (one round trip). */
function* afterRights(n: RtaskNode, j: RJob, cpu: Cpu, then: (cpu: Cpu) => KPath): KPath {
  if (!j.plan.nms) return yield* then(cpu);
  const pager = n.nidOf(j, pagerOf(j.plan.paging, j.rank));
  yield* n.askAlive(pager, [OP.nms, j.jobId], null, j.timeout, function* (r, c) {
    // A lost count update does not stop the creation (the notification would merely be late).
    if (!r.ok) yield step('rtask', 'nms-lost', 0, r.reason);
    yield* then(c);
  });
}

/** Answers the creator for this node's subtree; on success the task joins the exit fan-in. */
function* answer(n: RtaskNode, j: RJob, req: IpcRequest, children: Outcome, paging: string | null): KPath {
  const failure = paging ?? children.failure;
  j.created = 1 + children.created;
  if (failure === null) record(n, j);
  yield step('rtask', 'ready', n.k.profile.values['kernel.syscallWorkCycles'], `rank ${j.rank}: subtree of ${j.created} task(s)${failure === null ? '' : `, failed: ${failure}`}`);
  yield* req.reply([OP.create, j.created, failure === null ? 0 : 1], failure === null ? null : { bytes: enc.encode(failure) });
}

/** The task joins the kernels' exit fan-in (kernel/job/fanin.ts): its parent is its creator. */
function record(n: RtaskNode, j: RJob): void {
  const p = j.process!;
  const fromSource = creatorOf(j.plan.creation, j.rank) === SOURCE;
  n.k.jobs.records.set(j.jobId, {
    jobId: j.jobId,
    rank: j.rank,
    size: j.size,
    parentNid: j.creatorNid,
    parentPid: fromSource ? j.block.servicePid : j.block.pid,
    block: j.block,
    loadImageLen: 0,
    uid: j.uid,
    process: p,
    execing: false,
    children: new Map(j.childNids.map((nid) => [nid, 'acked' as const])),
    processDone: false,
    summary: NO_SUMMARY,
    loadedAt: n.k.engine.now,
    mainAt: -1,
    mainDoneAt: -1,
    exitSentAt: -1,
  });
}

/** Sets up the paging path of every area at once; `then` gets the first failure or null. */
function* attachAll(n: RtaskNode, j: RJob, cpu: Cpu, then: (failure: string | null, cpu: Cpu) => KPath): KPath {
  const objs = j.objects.filter((o): o is VmObject => o !== null);
  if (objs.length === 0) return yield* then(null, cpu);
  let left = objs.length;
  let first: string | null = null;
  for (const obj of objs) {
    yield* attach(n, j, obj, function* (failure, c) {
      if (failure !== null && first === null) first = failure;
      if (--left === 0) yield* then(first, c);
    });
  }
}

/** One area's paging path: the pager takes a reference on its object for this node. */
function* attach(n: RtaskNode, j: RJob, obj: VmObject, then: (failure: string | null, cpu: Cpu) => KPath): KPath {
  const pager = n.nidOf(j, pagerOf(j.plan.paging, j.rank));
  yield* n.askAlive(pager, [OP.attach, j.jobId, obj.area.index, pagerOf(j.plan.paging, j.rank) + 1], null, j.timeout, function* (r, c) {
    if (!r.ok) return yield* then(`rank ${j.rank}: paging path for area ${obj.area.index} to node ${pager}: ${r.reason}`, c);
    obj.attached = true;
    yield step('rtask', 'attached', n.k.profile.values['kernel.syscallWorkCycles'], `area ${obj.area.index} pages from node ${pager}`);
    yield* then(null, c);
  });
}

/**
 * Creates the task a creation request asks for, suspended: its regions are
 * allocated, its copy-on-reference areas left unmapped (their pages come on
 * first touch) and an object made for each. A reason when it cannot be.
 */
function* makeTask(n: RtaskNode, req: IpcRequest, batched: boolean): KPath<RJob | string> {
  const k = n.k;
  const v = k.profile.values;
  const c = parseCreateWords(req.words);
  if (c === null) return `malformed creation request`;
  const bytes = req.payload?.bytes() ?? new Uint8Array(0);
  yield step('rtask', 'task', v['rtask.taskCreateCycles'] + copyCycles(n, bytes.length), `rank ${c.rank} of job ${c.jobId} (${batched ? 'crtc' : 'ntc'})`);
  if (c.templateLen > bytes.length) return `template of ${c.templateLen} bytes in a ${bytes.length}-byte message`;
  const tpl = decodeTemplate(bytes.subarray(0, c.templateLen));
  if (tpl === null) return `malformed address-space template`;
  const jb = parseJobBlock(bytes.slice(c.templateLen), k.host.nodeCount);
  if (!jb.ok) return `${jb.reason}`;
  const block = jb.block;
  const map = new RangeJobMap(block.ranges, block.size, block.pid);
  if (block.jobId !== c.jobId) return `job block is for job ${block.jobId}, the request for job ${c.jobId}`;
  if (!(c.rank < block.size) || map.at(c.rank).nid !== k.nid) return `rank ${c.rank} does not belong here`;
  if (req.src !== block.serviceNid && !map.hasNode(req.src)) return `a creation must come from the job's source or one of its nodes, not node ${req.src}`;
  if (n.tasks.has(c.jobId) || k.jobs.records.has(c.jobId)) return `job ${c.jobId} already has a task here`;
  const busy = k.liveProcesses()[0];
  if (busy !== undefined) return `node busy: pid ${busy.pid} (${busy.name}) is running`;
  const code = k.host.catalog.instantiate(tpl.textHash);
  if (code === null) return `no code for the text of '${tpl.name}' (unknown program)`;
  if (batched) yield step('rtask', 'areas', v['rtask.areaMapCycles'] * tpl.areas.length, `${tpl.areas.length} VM areas batched`);
  const objects = makeObjects(n, tpl);
  if (objects === null) return `out of memory for the VM objects of '${tpl.name}'`;
  let p: Process;
  try {
    p = k.spawn(
      { name: tpl.name, textBytes: tpl.areas[0].size, dataBytes: tpl.areas[1].size, bssBytes: tpl.bssBytes, instantiate: () => code },
      { rank: c.rank, jobSize: block.size, jobMap: map, uid: c.uid, argv: block.argv, envp: block.envp },
      { pid: block.pid, jobBlock: block.bytes, suspended: true },
    );
    for (const a of tpl.areas) {
      if (a.kind === 'extra') p.aspace.addRegion('mmap', a.start, a.size, { readable: true, writable: a.writable, executable: false }, false);
      if (!a.cor) continue;
      // Copy on reference: the region's frames stay, its mappings go until a page is touched.
      const r = p.aspace.find(a.start)!;
      for (let off = 0; off < a.size; off += r.pageSize) p.aspace.pt.unmap(a.start + off, r.pageSize);
    }
  } catch (e) {
    for (const o of objects) if (o !== null) k.phys.release(o.pa);
    return `cannot create the task: ${(e as Error).message}`;
  }
  const j: RJob = {
    jobId: c.jobId,
    rank: c.rank,
    size: block.size,
    srcNid: c.srcNid,
    plan: c.plan,
    tpl,
    tplBytes: bytes.slice(0, c.templateLen),
    block,
    map,
    uid: c.uid,
    objects,
    process: p,
    installed: tpl.areas.map((a) => (a.cor ? new Uint8Array(a.size / PAGE) : null)),
    creatorNid: req.src,
    timeout: c.timeout,
    slice: c.slice,
    childNids: [],
    created: 0,
    started: false,
    ended: false,
    tearing: false,
    torn: false,
    onTorn: [],
    owner: null,
    aborted: null,
    creating: false,
  };
  n.tasks.set(c.jobId, j);
  n.stats.created++;
  return j;
}

/** An empty object per copy-on-reference area (null when memory runs out). */
export function makeObjects(n: RtaskNode, tpl: TemplateDesc): (VmObject | null)[] | null {
  const out: (VmObject | null)[] = [];
  for (const a of tpl.areas) {
    if (!a.cor) {
      out.push(null);
      continue;
    }
    const pa = n.k.phys.alloc(a.size, PAGE);
    if (pa === null) {
      for (const o of out) if (o !== null) n.k.phys.release(o.pa);
      return null;
    }
    out.push({ area: a, pa, resident: new Uint8Array(a.size / PAGE), fetching: new Map(), refs: 0, attached: false, released: false });
  }
  return out;
}
