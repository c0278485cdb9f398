// A rank that fails tells its launcher at once. The exit fan-in (fanin.ts)
// reaches the launcher only when every subtree has ended, so a rank waiting
// on a peer that died would keep the job alive for ever; instead, when a
// rank's process ends with a nonzero status, its kernel sends one small
// FAILED message straight to the launcher the job block names (yod on the
// service node), with the rank, the status and the first line of the reason.
// The launcher decides what to do (yod ends the job with app kill, or lets
// it run on). Only failures send it, so a successful job costs nothing extra;
// a rank killed on request (app kill, remote-task termination) sends nothing,
// since whoever asked already knows, and a job-wide kill must not bring N
// notices into the service node.
//
// The kernel stamps every field from its own record: FAILED is a kernel
// message type no process may send (lwk_kmsg_send refuses it), so a rank
// cannot speak for another rank or another job.

import type { Process } from '../process.ts';
import type { JobRecord, JobState } from './records.ts';

/** Bytes of the reason a notice carries (its first line, cut). */
export const MAX_NOTICE_REASON = 200;

/** The rank's process `p` ended with a nonzero status: tell the job's launcher. */
export function noticeFailure(s: JobState, r: JobRecord, p: Process, status: number): void {
  if (r.killedOnRequest) return;
  const firstLine = (p.exitReason ?? '').split('\n', 1)[0];
  const reason = new TextEncoder().encode(firstLine).subarray(0, MAX_NOTICE_REASON);
  const h = s.transport.header('failed', { dstPid: r.block.servicePid, rank: r.rank, jobId: r.jobId, uid: r.uid, code: status, jobSize: r.size });
  s.stats.failureNotices++;
  s.transport.send(r.block.serviceNid, h, reason.length > 0 ? reason : null);
}

/** Kills a rank's process on someone's request (app kill, remote-task termination): no failure notice follows. */
export function killOnRequest(s: JobState, p: Process, status: number, reason: string): void {
  for (const r of s.records.values()) if (r.process === p) r.killedOnRequest = true;
  s.k.killProcess(p, status, reason);
}
