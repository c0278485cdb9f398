// Copy-on-reference paging (seed 002, section 3): a remote task's pages are
// not copied when it is created. Its first touch of a page faults; the
// kernel asks the task's pager for the page and blocks the thread; the page
// lands in this node's object for the area (so a child of this node can be
// served from it), is copied into the task's frame and mapped, and the
// access re-executes. A flat paging tree asks the source; a hierarchical one
// asks the parent, which serves from its object or, lacking the page, asks
// its own parent first and keeps a copy. A pager serves one request at a
// time on its core, so contention at a paging node is queueing, not a
// formula. A page whose pager cannot be reached kills the faulting task
// with the reason.

import type { UserOp } from '../abi.ts';
import type { CoreContext } from '../context.ts';
import type { Cpu } from '../cpu.ts';
import { ERRNO } from '../errno.ts';
import type { IpcRequest } from '../ipc/services.ts';
import { userAccess } from '../loadstore.ts';
import { PAGE_4K } from '../pagetable.ts';
import type { Thread } from '../process.ts';
import { type KPath, block, step } from '../step.ts';
import { type RJob, type RtaskNode, type VmObject, copyCycles } from './node.ts';
import { pagerOf } from './shape.ts';
import { type Area, PAGE } from './template.ts';
import { OP, SERVICE } from './wire.ts';

type AccessOp = Extract<UserOp, { op: 'load' | 'store' }>;

/** Exit status of a task whose page could not be paged in (128 + SIGBUS). */
export const PAGEIN_FAILED_STATUS = 135;
/** How long a page-in may take before its pager counts as hung (ps of simulated time). */
export const PAGEIN_TIMEOUT_PS = 10e12;

/** The page-fault hook: the copy-on-reference path for a page of a remote task not yet paged in, else null. */
export function corFault(n: RtaskNode, cpu: CoreContext, t: Thread, op: AccessOp, va: number, write: boolean): KPath | null {
  const j = n.taskOf(t.process);
  if (j === undefined) return null;
  const a = j.tpl.areas.find((x) => x.cor && va >= x.start && va < x.start + x.size);
  if (a === undefined) return null;
  const page = Math.floor((va - a.start) / PAGE);
  if (j.installed[a.index]![page] === 1) return null;
  return corFaultPath(n, j, a, page, cpu, t, op, va, write);
}

/**
 * The kernel's own touch of a remote task's page not yet paged in (a
 * syscall's user-copy): the same page-in a user load takes, without
 * re-executing an access; its path returns null once the page is mapped, or
 * the reason it could not be (the task is then killed, as on a user load).
 * Null when `va` is no such page.
 */
export function corPageIn(n: RtaskNode, t: Thread, va: number, write: boolean): KPath<string | null> | null {
  const j = n.taskOf(t.process);
  if (j === undefined) return null;
  const a = j.tpl.areas.find((x) => x.cor && va >= x.start && va < x.start + x.size);
  if (a === undefined) return null;
  const page = Math.floor((va - a.start) / PAGE);
  if (j.installed[a.index]![page] === 1) return null;
  return pageIn(n, j, a, page, t, va, write);
}

function* corFaultPath(n: RtaskNode, j: RJob, a: Area, page: number, cpu: CoreContext, t: Thread, op: AccessOp, va: number, write: boolean): KPath {
  const k = n.k;
  const v = k.profile.values;
  const pageVa = a.start + page * PAGE;
  if ((yield* pageIn(n, j, a, page, t, va, write)) !== null) return;
  // A fault invalidates the faulting core's entry for the address, then the access re-executes.
  cpu.core.tlb.invalidatePage(cpu.core.asid, pageVa);
  const res = userAccess(k, cpu, t, op);
  if (res.fault !== null) {
    yield* res.fault;
    return;
  }
  t.userResume = res.value;
  yield step('cor', 'resume', v['kernel.trapExitCycles'] + res.cycles, `0x${va.toString(16)}`);
}

/** Fetches `page` of area `a` (blocking `t`) and maps it in `t`'s task; the reason when it cannot be (the task is killed). */
function* pageIn(n: RtaskNode, j: RJob, a: Area, page: number, t: Thread, va: number, write: boolean): KPath<string | null> {
  const k = n.k;
  const v = k.profile.values;
  const start = k.engine.now;
  const pageVa = a.start + page * PAGE;
  k.stats.pageFaults++;
  n.stats.faults++;
  yield step('cor', 'fault', v['kernel.trapEntryCycles'] + v['kernel.pageFaultCycles'], `${a.kind} area ${a.index} page ${page} (0x${va.toString(16)}) ${write ? 'write' : 'read'}`);
  const obj = j.objects[a.index]!;
  if (obj.resident[page] === 0) {
    // The outcome comes back through this box: a wake can happen before the block (then it does not wait).
    let failed: string | null | undefined;
    yield* want(n, j, obj, page, function* (ok, reason, c) {
      failed = ok ? null : reason;
      yield* k.wake(t, null, c);
    });
    while (failed === undefined) yield* block();
    // The task ended while its page was in flight and its objects are gone: nothing is left to fill or kill.
    if (!t.process.alive || obj.released) return failed ?? 'the task ended during the page-in';
    if (failed !== null) {
      const why = `copy-on-reference page-in of 0x${pageVa.toString(16)} failed: ${failed}`;
      yield step('cor', 'kill', 0, why);
      k.killProcess(t.process, PAGEIN_FAILED_STATUS, why);
      // Its exit may have no way up (its pager is often its creator, the exit fan-in's next hop): the source
      // hears at once. The thread is dead, so the message goes as the kernel's deferred work.
      const words = [OP.failed, j.jobId, j.rank, PAGEIN_FAILED_STATUS];
      const bytes = new TextEncoder().encode(`rank ${j.rank}: ${why}`);
      k.timer(0).add({ at: k.engine.now, kind: 'sleep', thread: null, expire: () => k.ipc.post(j.srcNid, SERVICE, words, { bytes }) });
      return why;
    }
  }
  const installed = j.installed[a.index]!;
  if (installed[page] === 0) {
    const r = t.process.aspace.find(pageVa)!;
    const taskPa = r.pa + (pageVa - r.start);
    const bytes = new Uint8Array(PAGE);
    k.node.memory.read(obj.pa + page * PAGE, bytes);
    k.node.memory.write(taskPa, bytes);
    t.process.aspace.pt.map(pageVa, taskPa, PAGE_4K, { readable: true, writable: a.writable, executable: a.kind === 'text' });
    installed[page] = 1;
    yield step('cor', 'install', v['kernel.mapPageCycles'] + copyCycles(n, PAGE), `page 0x${pageVa.toString(16)} after ${((k.engine.now - start) / 1000).toFixed(0)} ns`);
  }
  return null;
}

/** `waiter` runs once `page` of `obj` is resident (or cannot be); one request to the pager per page at a time. */
function* want(n: RtaskNode, j: RJob, obj: VmObject, page: number, waiter: (ok: boolean, reason: string, cpu: Cpu) => KPath): KPath {
  const ws = obj.fetching.get(page);
  if (ws !== undefined) {
    ws.push(waiter);
    return;
  }
  obj.fetching.set(page, [waiter]);
  const pagerRank = pagerOf(j.plan.paging, j.rank);
  const pager = n.nidOf(j, pagerRank);
  n.stats.pagesFetched++;
  yield step('cor', 'request', n.k.profile.values['kernel.syscallWorkCycles'], `area ${obj.area.index} page ${page} from node ${pager}`);
  yield* n.ask(pager, [OP.page, j.jobId, obj.area.index, page, pagerRank + 1], null, n.k.engine.now + PAGEIN_TIMEOUT_PS, function* (r, c) {
    const waiting = obj.fetching.get(page) ?? [];
    obj.fetching.delete(page);
    const bytes = r.ok ? (r.payload?.bytes() ?? null) : null;
    if (obj.released) {
      // Torn down while the page was on its way: its frames are someone else's now; the answer is dropped.
      yield step('cor', 'drop', 0, `area ${obj.area.index} page ${page} from node ${pager}: its object was torn down`);
      for (const w of waiting) yield* w(false, 'the object was torn down', c);
      return;
    }
    if (bytes !== null && bytes.length === PAGE) {
      n.k.node.memory.write(obj.pa + page * PAGE, bytes);
      obj.resident[page] = 1;
      yield step('cor', 'arrive', copyCycles(n, PAGE), `area ${obj.area.index} page ${page} from node ${pager} (kept)`);
      for (const w of waiting) yield* w(true, '', c);
      return;
    }
    const reason = `pager node ${pager}: ${r.ok ? 'no page in the answer' : r.reason}`;
    for (const w of waiting) yield* w(false, reason, c);
  });
}

/** A child asks for a page: served from this node's object, or fetched from this node's own pager first. */
export function* servePage(n: RtaskNode, req: IpcRequest, cpu: Cpu): KPath {
  const [, jobId, areaIndex, page, rankPlus1] = req.words;
  const j = n.jobAt(jobId, rankPlus1 - 1);
  const obj = j?.objects[areaIndex] ?? null;
  if (j === undefined || obj === null || !(page >= 0 && page < obj.resident.length)) {
    return yield* req.refuse(-ERRNO.ESRCH, `no page ${page} of area ${areaIndex} for job ${jobId}`);
  }
  const k = n.k;
  const serve = function* (ok: boolean, reason: string, _c: Cpu): KPath {
    if (!ok) return yield* req.refuse(-ERRNO.EHOSTUNREACH, reason);
    if (obj.released) return yield* req.refuse(-ERRNO.ESRCH, `area ${areaIndex} of job ${jobId} was torn down`);
    const bytes = new Uint8Array(PAGE);
    k.node.memory.read(obj.pa + page * PAGE, bytes);
    n.stats.pagesServed++;
    yield step('cor', 'serve', k.profile.values['rtask.pageServeCycles'] + copyCycles(n, PAGE), `area ${areaIndex} page ${page} to node ${req.src}`);
    yield* req.reply([OP.page, areaIndex, page], { bytes });
  };
  if (obj.resident[page] === 1) return yield* serve(true, '', cpu);
  yield* want(n, j, obj, page, serve);
}
