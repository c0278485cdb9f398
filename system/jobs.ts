// Jobs on the simulated machine: direct launch (an init task on each node),
// launch through yod and the job loader, each rank's state and main times,
// and app status / app kill sent from the service node's kernel.

import type { UserProgram } from '../kernel/abi.ts';
import type { MailItem } from '../kernel/job/jobctl.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Process } from '../kernel/process.ts';
import type { System } from './system.ts';

export interface RankState {
  readonly rank: number;
  readonly node: number;
  readonly process: Process | null;
  /** Set when the rank could not be started. */
  readonly error: string | null;
}

export type LoadKind = 'direct' | 'two-phase' | 'one-phase' | 'crtc';

/** When a rank fails (a nonzero status): end the job (kill the other ranks) or let them run on. */
export type OnFailure = 'end' | 'continue';

/** Ranks firstNid.. run image `image` (the job's nid map). */
export interface JobRange {
  readonly firstNid: number;
  readonly count: number;
  readonly image: number;
}

export interface Job {
  readonly program: string;
  readonly load: LoadKind;
  /** Direct jobs: every rank, filled in at launch. Loaded jobs: see System.rankStates. */
  readonly ranks: RankState[];
  /** Loaded jobs: the job id, the nid map, the service node and yod. */
  readonly jobId: number;
  readonly size: number;
  readonly map: readonly JobRange[];
  readonly serviceNid: number;
  readonly yod: Process | null;
  readonly startedAt: number;
  /** Ranks whose process was created, and how many of those have ended. */
  started: number;
  finished: number;
  endedAt: number;
  /**
   * Direct jobs: what a rank's failure does (loaded jobs: yod's --on-failure),
   * and the first rank that failed (-1: none).
   */
  readonly onFailure: OnFailure;
  firstFailedRank: number;
}

export class Jobs {
  readonly list: Job[] = [];
  private readonly jobOf = new Map<Process, Job>();

  constructor(private readonly sys: System) {}

  /** A process ended: its job counts it. */
  processExited(_k: Kernel, p: Process): void {
    const job = this.jobOf.get(p);
    if (job === undefined) return;
    job.finished++;
    if (job.finished === job.started) job.endedAt = this.sys.now;
    if (job.load === 'direct' && p.exitStatus !== 0 && job.firstFailedRank < 0) this.directRankFailed(job, p);
  }

  /**
   * A rank of a direct job failed. A direct job has no launcher to hear of it
   * (loaded jobs: kernel/job/failnotice.ts and yod), so the host, which
   * started every rank, ends the others itself with --on-failure end, as a
   * launcher's app kill would.
   */
  private directRankFailed(job: Job, p: Process): void {
    const failed = job.ranks.find((r) => r.process === p);
    if (failed === undefined) return;
    job.firstFailedRank = failed.rank;
    if (job.onFailure === 'continue') return;
    const why = `killed: rank ${failed.rank} of the job failed with status ${p.exitStatus}`;
    for (const r of job.ranks) if (r.process !== null && r.process.alive) this.sys.kernel(r.node).killProcess(r.process, 137, why);
  }

  /** Starts `program` as the init task on each of `nodes` (Kitten's create_init_task), rank i on nodes[i]. */
  launchDirect(program: UserProgram, nodes: readonly number[], argv: readonly string[], uid = 1000, opts: { launcher?: boolean; onFailure?: OnFailure } = {}): Job {
    const job: Job = { program: program.name, load: 'direct', ranks: [], jobId: 0, size: nodes.length, map: [], serviceNid: -1, yod: null, startedAt: this.sys.now, started: 0, finished: 0, endedAt: -1, onFailure: opts.onFailure ?? 'continue', firstFailedRank: -1 };
    // The job's map of where each rank runs, completed once every rank is placed.
    const jobMap: { nid: number; pid: number }[] = [];
    nodes.forEach((nid, rank) => {
      try {
        const p = this.sys.kernel(nid).spawn(program, { rank, jobSize: nodes.length, uid, argv: [program.name, ...argv], envp: [`MARGAY_RANK=${rank}`], jobMap, launcher: opts.launcher });
        jobMap[rank] = { nid, pid: p.pid };
        job.ranks.push({ rank, node: nid, process: p, error: null });
        job.started++;
        this.jobOf.set(p, job);
      } catch (e) {
        jobMap[rank] = { nid, pid: 0 };
        job.ranks.push({ rank, node: nid, process: null, error: (e as Error).message });
      }
    });
    this.list.push(job);
    return job;
  }

  /**
   * Starts yod on the service node to launch a job through the job loader.
   * yod's argv carries the job's parameters and its data segment the images
   * (the service node's "disk"); the map says where the ranks go.
   */
  launchLoaded(yod: UserProgram, o: { program: string; load: Exclude<LoadKind, 'direct'>; jobId: number; serviceNid: number; map: readonly JobRange[]; argv: readonly string[]; uid?: number; onFailure?: OnFailure }): Job {
    const size = o.map.reduce((a, r) => a + r.count, 0);
    // The compute partition boots with the machine: every node of the map runs its kernel.
    for (const r of o.map) for (let i = 0; i < r.count; i++) this.sys.kernel(r.firstNid + i);
    // yod is the job launcher: the only process whose loads and remote-task creations place a job on nodes.
    const p = this.sys.kernel(o.serviceNid).spawn(yod, { rank: 0, jobSize: 1, uid: o.uid ?? 1000, argv: ['yod', ...o.argv], envp: [], launcher: true });
    const job: Job = { program: o.program, load: o.load, ranks: [], jobId: o.jobId, size, map: o.map, serviceNid: o.serviceNid, yod: p, startedAt: this.sys.now, started: 1, finished: 0, endedAt: -1, onFailure: o.onFailure ?? 'end', firstFailedRank: -1 };
    this.jobOf.set(p, job);
    this.list.push(job);
    return job;
  }

  jobDone(job: Job): boolean {
    return job.finished === job.started;
  }

  /** The node of each rank of a job. */
  rankNode(job: Job, rank: number): number {
    if (job.load === 'direct') return job.ranks[rank]?.node ?? -1;
    let base = 0;
    for (const r of job.map) {
      if (rank < base + r.count) return r.firstNid + (rank - base);
      base += r.count;
    }
    return -1;
  }

  /** Every rank of a job with its process (the current one, after exec) or why it has none. */
  rankStates(job: Job): RankState[] {
    if (job.load === 'direct') return job.ranks;
    const out: RankState[] = [];
    for (let rank = 0; rank < job.size; rank++) out.push(this.rankState(job, rank));
    return out;
  }

  rankState(job: Job, rank: number): RankState {
    if (job.load === 'direct') return job.ranks[rank];
    const node = this.rankNode(job, rank);
    const k = this.sys.existingKernel(node);
    const rec = k?.jobs.records.get(job.jobId);
    if (rec !== undefined && rec.rank === rank) return { rank, node, process: rec.process, error: null };
    const refusal = k?.jobs.refusals.findLast((r) => r.jobId === job.jobId && r.rank === rank);
    const down = this.sys.machine.network.isNodeDown(node);
    return { rank, node, process: null, error: refusal?.reason ?? (down ? `node ${node} is down` : 'not loaded (see yod\'s output)') };
  }

  /** When each rank of a loaded job entered main and when main returned (-1: not yet). */
  mainTimes(job: Job): { firstMain: number; lastMain: number; lastMainDone: number } {
    let firstMain = Infinity;
    let lastMain = -1;
    let lastMainDone = -1;
    for (let rank = 0; rank < job.size; rank++) {
      const rec = this.sys.existingKernel(this.rankNode(job, rank))?.jobs.records.get(job.jobId);
      if (rec === undefined) continue;
      if (rec.mainAt >= 0) {
        firstMain = Math.min(firstMain, rec.mainAt);
        lastMain = Math.max(lastMain, rec.mainAt);
      }
      if (rec.mainDoneAt >= 0) lastMainDone = Math.max(lastMainDone, rec.mainDoneAt);
    }
    return { firstMain: firstMain === Infinity ? -1 : firstMain, lastMain, lastMainDone };
  }

  /**
   * The service node's kernel sends an app-status (or app-kill) message to
   * every node of the job, 1-to-n, and the machine runs until every node has
   * answered or `waitPs` of simulated time has passed. Returns the answers.
   */
  control(job: Job, kind: 'status' | 'kill', waitPs = 1e9): { answered: number; asked: number; replies: MailItem[] } {
    if (job.load === 'direct') throw new Error('app status and kill need a job launched by yod (--load two-phase or one-phase)');
    const svc = this.sys.kernel(job.serviceNid);
    svc.jobs.takeControlReplies();
    for (let rank = 0; rank < job.size; rank++) {
      const nid = this.rankNode(job, rank);
      svc.jobs.send(nid, svc.jobs.header(kind, { dstPid: 0, srcPid: 0, rank, jobId: job.jobId }), null);
    }
    const replies: MailItem[] = [];
    const deadline = this.sys.now + waitPs;
    // The user's breakpoints do not cut the wait for the answers short.
    const breakpoints = this.sys.breakpoints;
    const suspended = breakpoints.suspended;
    breakpoints.suspended = true;
    try {
      this.sys.run({ until: deadline, done: () => (replies.push(...svc.jobs.takeControlReplies()), replies.length >= job.size) });
    } finally {
      breakpoints.suspended = suspended;
    }
    return { answered: replies.length, asked: job.size, replies };
  }
}
