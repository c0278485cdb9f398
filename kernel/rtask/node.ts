// Remote tasking on one node: the jobs this node is the source of (their
// templates and source objects) and the remote tasks it holds (their VM
// objects, their place in the creation and paging trees), the 'rtask'
// service on the kernel IPC transport, and requests that give a node up
// once it stops answering (askAlive) or at a deadline (ask), so a hung node
// ends a creation with its name instead of hanging it.
//
// Each mechanism has its own file: create.ts (ntc and crtc, flat, flat-mt
// and tree), cor.ts (copy-on-reference faults and page service over the
// paging tree), teardown.ts (termination and the serialized tear-down of VM
// objects), calls.ts (the system calls).

import { match } from 'ts-pattern';
import { formatPs } from '../../hw/time.ts';
import type { Cpu } from '../cpu.ts';
import { ERRNO } from '../errno.ts';
import type { IpcPayload, IpcReply, IpcRequest } from '../ipc/services.ts';
import type { JobBlock, RangeJobMap } from '../job/jobblock.ts';
import type { Kernel } from '../kernel.ts';
import type { Process } from '../process.ts';
import { type KPath, step } from '../step.ts';
import type { Deadline } from '../timer.ts';
import { servePage } from './cor.ts';
import { serveArea, serveCreate, serveState, serveTask, serveThread } from './create.ts';
import { SOURCE } from './shape.ts';
import type { Area, TemplateDesc } from './template.ts';
import { creatorEnded, serveAttach, serveDetach, serveFailed, serveStart, serveTerminate, taskEnded } from './teardown.ts';
import { OP, type Plan, SERVICE, opOf } from './wire.ts';

/** One area's VM object on a node: the source's copy of the template, or a node's cache of the pages it paged in. */
export interface VmObject {
  readonly area: Area;
  /** Kernel frames holding the area's pages (the host creates them only when written). */
  readonly pa: number;
  /** Pages present in the frames. */
  readonly resident: Uint8Array;
  /** Pages being fetched from the pager, with who waits for each. */
  readonly fetching: Map<number, PageWaiter[]>;
  /** Children whose paging path for this area points here. */
  refs: number;
  /** This object's own paging path is set up (its pager holds a reference for it). */
  attached: boolean;
  /** Its frames went back to the allocator (tear-down): a page arriving late must not be written there. */
  released: boolean;
}

/** Someone waiting for a page: a faulting thread or a child's page request. */
export type PageWaiter = (ok: boolean, reason: string, cpu: Cpu) => KPath;

/** This node's part of a remote-tasking job: the source, or one created task. */
export interface RJob {
  readonly jobId: number;
  /** SOURCE on the source node. */
  readonly rank: number;
  readonly size: number;
  readonly srcNid: number;
  readonly plan: Plan;
  readonly tpl: TemplateDesc;
  /** The descriptor and job block as they travel (what this node sends its own children). */
  readonly tplBytes: Uint8Array;
  readonly block: JobBlock;
  readonly map: RangeJobMap;
  readonly uid: number;
  /** The area objects by area index (null: a zero-fill area, no object). */
  readonly objects: (VmObject | null)[];
  /** The created task (null on the source, or before it exists). */
  process: Process | null;
  /** Pages installed in the task's page tables, per area. */
  readonly installed: (Uint8Array | null)[];
  /** Whom this node's task answers to: its creator's node (exit fan-in goes there). */
  readonly creatorNid: number;
  /** How long a node asked in the creation may stay silent (ps): the job's --load-timeout (askAlive). */
  readonly timeout: number;
  /** What tear-down waits for a node that does not answer (ps): the timeout cut by the depth of the tree. */
  readonly slice: number;
  /** Nodes of the children this node created (they report their exit here). */
  readonly childNids: number[];
  /** Ranks of this node's subtree whose tasks exist (its own included). */
  created: number;
  /** The task's thread was started. */
  started: boolean;
  /** The task has ended (or the source's owner has): its objects go once no child refers to them. */
  ended: boolean;
  /** Tear-down under way or done, and who waits for it to finish. */
  tearing: boolean;
  torn: boolean;
  readonly onTorn: ((cpu: Cpu) => KPath)[];
  /** The source: the process that created the job (only it may start or terminate it). */
  readonly owner: Process | null;
  /** The source: the job was ended because a task died of a failed page-in (the reason), or null. */
  aborted: string | null;
  /** The source: rtask_create's creation is in flight (its outcome not yet back). */
  creating: boolean;
}

/** The answer a creation gives its creator: ranks created and the first failure. */
export interface Outcome {
  created: number;
  failure: string | null;
}

export interface RtaskStats {
  created: number;
  faults: number;
  pagesFetched: number;
  pagesServed: number;
  attaches: number;
  detaches: number;
  timeouts: number;
}

export class RtaskNode {
  /** Jobs this node is the source of, by job id. */
  readonly sources = new Map<number, RJob>();
  /** Remote tasks on this node, by job id. */
  readonly tasks = new Map<number, RJob>();
  readonly stats: RtaskStats = { created: 0, faults: 0, pagesFetched: 0, pagesServed: 0, attaches: 0, detaches: 0, timeouts: 0 };
  /** When this node last heard from each node it asked (askAlive): an answer or a probe's. */
  private readonly lastHeard = new Map<number, number>();
  /** The liveness probe on its way to each node, and when it went. */
  private readonly probing = new Map<number, { at: number; ticket: { id: number } }>();

  constructor(readonly k: Kernel) {}

  /** Registers the service on the transport (at boot). */
  attach(): void {
    this.k.ipc.serve(SERVICE, (req, cpu) => this.serve(req, cpu));
  }

  /** The job `jobId` as the node that must answer for `rank` sees it. */
  jobAt(jobId: number, rank: number): RJob | undefined {
    return rank === SOURCE ? this.sources.get(jobId) : this.tasks.get(jobId);
  }

  /** The remote task a process is, if any. */
  taskOf(p: Process): RJob | undefined {
    for (const j of this.tasks.values()) if (j.process === p) return j;
    return undefined;
  }

  /** The node rank `rank` of `j` runs on (the source node for SOURCE). */
  nidOf(j: RJob, rank: number): number {
    return rank === SOURCE ? j.srcNid : j.map.at(rank).nid;
  }

  private *serve(req: IpcRequest, cpu: Cpu): KPath {
    // A hung kernel (--hang) answers nothing (and its transport no probe): the node that asked it names it.
    if (this.k.jobs.silent) return;
    // A request from a node is a sign of life too (a child busy asking its pager answers no probe in time).
    this.lastHeard.set(req.src, this.k.engine.now);
    const op = opOf(req.words[0]);
    if (op === undefined || !Number.isSafeInteger(req.words[1])) {
      yield step('rtask', 'drop', this.k.profile.values['kernel.syscallWorkCycles'], `malformed request from node ${req.src}`);
      yield* req.refuse(-ERRNO.EINVAL, 'malformed rtask request');
      return;
    }
    yield* match(op)
      .with('create', () => serveCreate(this, req, cpu))
      .with('task', () => serveTask(this, req, cpu))
      .with('area', () => serveArea(this, req, cpu))
      .with('state', () => serveState(this, req, cpu))
      .with('thread', () => serveThread(this, req, cpu))
      .with('attach', () => serveAttach(this, req, cpu))
      .with('nms', () => serveNms(this, req, cpu))
      .with('page', () => servePage(this, req, cpu))
      .with('detach', () => serveDetach(this, req, cpu))
      .with('start', () => serveStart(this, req, cpu))
      .with('terminate', () => serveTerminate(this, req, cpu))
      .with('failed', () => serveFailed(this, req, cpu))
      .exhaustive();
  }

  /**
   * A request to node `dst`'s rtask service whose answer (or failure) runs
   * `then`; with a finite `deadline` (ps), a node that never answers fails it
   * with its name then. A late answer is ignored.
   */
  *ask(dst: number, words: readonly number[], payload: IpcPayload, deadline: number, then: (r: IpcReply, cpu: Cpu) => KPath): KPath {
    let done = false;
    const ticket = { id: -1 };
    const k = this.k;
    const stats = this.stats;
    const timer =
      deadline < Infinity
        ? k.timer(0).add({
            at: Math.max(deadline, k.engine.now),
            kind: 'sleep',
            thread: null,
            *expire(tc) {
              if (done) return;
              done = true;
              stats.timeouts++;
              // The request is given up: its message no longer holds a kernel buffer here.
              yield* k.ipc.forget(ticket.id, k.cpus[tc.index]);
              yield* then({ ok: false, errno: -ERRNO.ETIMEDOUT, reason: `no answer from node ${dst} (timeout)` }, k.cpus[tc.index]);
            },
          })
        : null;
    yield* k.ipc.request(dst, SERVICE, words, payload, function* (r, cpu) {
      if (done) return;
      done = true;
      if (timer !== null) k.timer(0).remove(timer);
      yield* then(r, cpu);
    }, ticket);
  }

  /**
   * A request of the creation (its answer may take as long as the work the
   * plan gives the node: a whole subtree with ntc, 1024 VM areas) that fails
   * only if the node stops answering. A node is alive while this node hears
   * from it: any request or answer, or an answer to a liveness probe (the
   * IPC 'probe' service), which goes when nothing came for half `patience`
   * (one at a time per node, however many requests wait). A request fails,
   * naming the node, when nothing came from it for `patience` (the job's
   * --load-timeout): it is hung or down. A node that is only slow (a long plan, a backlog of this
   * node's own requests) keeps its requests, so no deadline has to guess the
   * plan's work; and a node waiting on a hung child answers its own probes,
   * so the failure names the hung node, not a healthy one above it.
   */
  *askAlive(dst: number, words: readonly number[], payload: IpcPayload, patience: number, then: (r: IpcReply, cpu: Cpu) => KPath): KPath {
    let done = false;
    let timer: Deadline | null = null;
    const asked = this.k.engine.now;
    const ticket = { id: -1 };
    const k = this.k;
    const self = this;
    const check = function* (cpu: Cpu): KPath {
      timer = null;
      if (done) return;
      const silent = k.engine.now - Math.max(asked, self.lastHeard.get(dst) ?? 0);
      if (silent >= patience) {
        done = true;
        self.stats.timeouts++;
        yield* k.ipc.forget(ticket.id, cpu);
        return yield* then({ ok: false, errno: -ERRNO.ETIMEDOUT, reason: `no answer from node ${dst} (timeout: nothing from it, not even an answer to a liveness probe, for ${formatPs(patience)}; --load-timeout gives more)` }, cpu);
      }
      arm();
      if (silent >= patience / 2) yield* self.probe(dst, patience / 2, cpu);
    };
    const arm = () => {
      timer = k.timer(0).add({ at: k.engine.now + patience / 2, kind: 'sleep', thread: null, expire: (tc) => check(k.cpus[tc.index]) });
    };
    arm();
    yield* k.ipc.request(dst, SERVICE, words, payload, function* (r, cpu) {
      if (done) return;
      done = true;
      if (timer !== null) k.timer(0).remove(timer);
      // An answer or a refusal comes from the node; a transport failure does not.
      if (r.ok || r.errno !== -ERRNO.EHOSTUNREACH) self.lastHeard.set(dst, k.engine.now);
      yield* then(r, cpu);
    }, ticket);
  }

  /** Asks node `dst`'s kernel whether it runs (one probe at a time per node; one unanswered for `patience` is given up and sent again). */
  private *probe(dst: number, patience: number, cpu: Cpu): KPath {
    const k = this.k;
    const last = this.probing.get(dst);
    if (last !== undefined && k.engine.now - last.at < patience) return;
    if (last !== undefined) yield* k.ipc.forget(last.ticket.id, cpu);
    const mine = { at: k.engine.now, ticket: { id: -1 } };
    this.probing.set(dst, mine);
    const self = this;
    yield* k.ipc.request(dst, 'probe', [], null, function* (r) {
      if (self.probing.get(dst) === mine) self.probing.delete(dst);
      if (r.ok) self.lastHeard.set(dst, k.engine.now);
    }, mine.ticket);
  }

  /** The process `p` ended: a remote task's objects go once no child refers to them. */
  processEnded(p: Process): void {
    const j = this.taskOf(p);
    if (j !== undefined) taskEnded(this, j);
    for (const s of this.sources.values()) if (s.owner === p) creatorEnded(this, s);
  }
}

/** No More Senders: the receive right's node updates its count of send rights (one message each way). */
function* serveNms(n: RtaskNode, req: IpcRequest, _cpu: Cpu): KPath {
  yield step('rtask', 'nms', n.k.profile.values['rtask.rightCycles'], `send-right count update from node ${req.src}`);
  yield* req.reply([OP.nms]);
}

/** Cycles of a kernel path that touches `bytes` (copying, checking). */
export function copyCycles(n: RtaskNode, bytes: number): number {
  return Math.ceil(bytes / n.k.profile.values['kernel.copyBytesPerCycle']);
}
