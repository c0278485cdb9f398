// What job control keeps about the jobs on this node, shared by its
// mechanisms (load, status/kill, exit fan-in): the rank records, the
// refusals, the counters, and the transport and mailbox they answer through.

import type { Kernel } from '../kernel.ts';
import type { Process } from '../process.ts';
import type { JobBlock } from './jobblock.ts';
import type { ExitSummary } from './jobmsg.ts';
import type { Mailboxes } from './mailbox.ts';
import type { KMsgTransport } from './transport.ts';

/** This node's rank of a loaded job. */
export interface JobRecord {
  readonly jobId: number;
  readonly rank: number;
  readonly size: number;
  readonly parentNid: number;
  readonly parentPid: number;
  readonly block: JobBlock;
  /** Bytes of image before the block in the job load this rank was created from (0: created otherwise, e.g. by remote tasking); forward.ts. */
  readonly loadImageLen: number;
  /** The job's owner: the uid the loading kernel stamped on the load. */
  readonly uid: number;
  process: Process;
  /** The process is being replaced by exec: its end is not the rank's end. */
  execing: boolean;
  /** Children whose kernels ACKed a load from this rank, until their EXIT arrives. */
  readonly children: Map<number, 'acked' | 'exited'>;
  processDone: boolean;
  /** Its process was killed on request (app kill, remote-task termination): its end sends no failure notice. */
  killedOnRequest?: boolean;
  summary: ExitSummary;
  readonly loadedAt: number;
  mainAt: number;
  mainDoneAt: number;
  exitSentAt: number;
}

/** A load this kernel refused: the report names the reason for ranks that never started. */
export interface Refusal {
  readonly jobId: number;
  readonly rank: number;
  readonly reason: string;
  readonly at: number;
}

export interface JobStats {
  sent: number;
  received: number;
  loads: number;
  nacks: number;
  dropped: number;
  /** Loads a rank asked to send that were not the load it received, to its own children (forward.ts). */
  forwardsRefused: number;
  /** FAILED messages this kernel sent to a launcher (failnotice.ts). */
  failureNotices: number;
}

/** The state job control's mechanisms share (JobControl holds it). */
export interface JobState {
  readonly k: Kernel;
  /** Ranks of jobs on this node, by job id (finished ones stay for the report). */
  readonly records: Map<number, JobRecord>;
  readonly refusals: Refusal[];
  readonly stats: JobStats;
  readonly transport: KMsgTransport;
  readonly mailbox: Mailboxes;
  /** A load is being received or handled: a second one is refused as busy. */
  loading: boolean;
}

/** Cycles to copy `bytes` in the kernel. */
export function copyCycles(k: Kernel, bytes: number): number {
  return Math.ceil(bytes / k.profile.values['kernel.copyBytesPerCycle']);
}
