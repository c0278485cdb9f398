// Exit status fans in at kernel level: a kernel knows its parent (the sender
// of the load) and its children (the loads its process sent that were
// ACKed); once its own process has ended and every child subtree has
// reported, it sends one EXIT with the subtree's combined summary. This
// keeps the fan-in scalable (one message per tree edge, none of the N-1
// messages into the service node the seed warns about) and it survives a
// rank that faults: its kernel still reports, so no subtree is orphaned.

import { KMSG } from '../abi.ts';
import type { Cpu } from '../cpu.ts';
import type { Process } from '../process.ts';
import { type KPath, step } from '../step.ts';
import { noticeFailure } from './failnotice.ts';
import { type ExitSummary, type KMsgHeader, mergeSummary } from './jobmsg.ts';
import type { JobRecord, JobState } from './records.ts';

/** The live record of a process, if it is a rank of a loaded job. */
export function recordOf(s: JobState, p: Process): JobRecord | undefined {
  for (const r of s.records.values()) if (r.process === p) return r;
  return undefined;
}

/** A child subtree's exit summary: combine it, or hand it to the process it is for (yod). */
export function* exit(s: JobState, h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
  const r = s.records.get(h.jobId);
  if (r !== undefined && r.process.pid === h.dstPid && r.exitSentAt < 0 && r.children.get(h.srcNid) === 'acked') {
    r.children.set(h.srcNid, 'exited');
    r.summary = mergeSummary(r.summary, h.summary);
    yield step('jobctl', 'exit-fanin', s.k.profile.values['kernel.syscallWorkCycles'], `subtree of rank ${h.rank}: ${h.summary.ranks} rank(s), ${h.summary.failed} failed`);
    maybeReportExit(s, r);
    return;
  }
  yield* reply(s, h, payload, cpu);
}

/** A reply (or an exit summary) for a process on this node: record children, then the mailbox. */
export function* reply(s: JobState, h: KMsgHeader, payload: Uint8Array, cpu: Cpu): KPath {
  if (h.type === 'load-ack') {
    const r = s.records.get(h.jobId);
    if (r !== undefined && r.process.pid === h.dstPid && !r.children.has(h.srcNid)) r.children.set(h.srcNid, 'acked');
  }
  yield* s.mailbox.deliver(h, payload, cpu);
}

/** The kernel ended a process: a rank's end starts its exit fan-in. */
export function processEnded(s: JobState, p: Process): void {
  s.mailbox.forget(p.pid);
  const r = recordOf(s, p);
  if (r === undefined || r.execing || r.processDone) return;
  r.processDone = true;
  if (r.mainDoneAt < 0) r.mainDoneAt = s.k.engine.now;
  const status = p.exitStatus ?? 0;
  const own: ExitSummary = status === 0 ? { ranks: 1, failed: 0, firstFailedRank: -1, firstFailedStatus: 0 } : { ranks: 1, failed: 1, firstFailedRank: r.rank, firstFailedStatus: status };
  r.summary = mergeSummary(r.summary, own);
  // The launcher hears of a failure at once (failnotice.ts); the summary still fans in.
  if (status !== 0) noticeFailure(s, r, p, status);
  maybeReportExit(s, r);
}

function maybeReportExit(s: JobState, r: JobRecord): void {
  if (!r.processDone || r.exitSentAt >= 0) return;
  for (const state of r.children.values()) if (state === 'acked') return;
  r.exitSentAt = s.k.engine.now;
  s.transport.send(r.parentNid, s.transport.header('exit', { dstPid: r.parentPid, srcPid: r.process.pid, rank: r.rank, jobId: r.jobId, summary: r.summary }), null);
}

/** lwk_job_phase: a rank reports entering main or main returning. */
export function phase(s: JobState, p: Process, phase: number): boolean {
  const r = recordOf(s, p);
  if (r === undefined) return false;
  const now = s.k.engine.now;
  if (phase === KMSG.PHASE_MAIN && r.mainAt < 0) r.mainAt = now;
  else if (phase === KMSG.PHASE_MAIN_DONE && r.mainDoneAt < 0) r.mainDoneAt = now;
  return true;
}
