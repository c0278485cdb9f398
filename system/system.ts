// The whole simulated system: the machine, a kernel on every node (booted
// when first used), the trace, breakpoints and jobs. This is the control and
// inspection API the CLI, the tests and the monitors use: step one event,
// run to the next trace record, run to a breakpoint or a time, and look at
// nodes, cores, TLBs, APICs, processes and memory.

import { LocalApic } from '../hw/apic.ts';
import { REGISTERS } from '../hw/core.ts';
import { Machine } from '../hw/machine.ts';
import type { Profile } from '../hw/profile.ts';
import type { Shape } from '../hw/topology.ts';
import { MAX_TIME_PS } from '../hw/time.ts';
import type { UserProgram } from '../kernel/abi.ts';
import { type Breakpoint, type BreakpointSpec, Breakpoints, type Watchpoint } from './breakpoints.ts';
import { CodeCatalog } from '../kernel/job/codecatalog.ts';
import type { MailItem } from '../kernel/job/jobctl.ts';
import { Kernel, type KernelHost } from '../kernel/kernel.ts';
import type { Process, Thread } from '../kernel/process.ts';
import type { TraceRecord } from '../kernel/trace.ts';
import { Trace } from './trace.ts';
import { peekUser, pokeUser } from '../kernel/uaccess.ts';
import type { Register } from '../hw/core.ts';

export interface SystemConfig {
  readonly profile: Profile;
  readonly shape: Shape;
  readonly seed: number;
  /** TLB shootdown IPIs on munmap/mprotect (default true). */
  readonly shootdown?: boolean;
  readonly traceCapacity?: number;
  /** Programs images may name (the launcher registers what it builds images of). */
  readonly catalog?: CodeCatalog;
}

export type StopReason =
  | { readonly kind: 'breakpoint'; readonly breakpoint: Breakpoint | Watchpoint; readonly record: TraceRecord }
  | { readonly kind: 'time'; readonly time: number }
  | { readonly kind: 'idle' }
  /** Nothing is left to happen before the last representable picosecond; `next` is when something would. */
  | { readonly kind: 'end-of-time'; readonly time: number; readonly next: number }
  | { readonly kind: 'done' }
  | { readonly kind: 'events'; readonly events: number };

export interface RankState {
  readonly rank: number;
  readonly node: number;
  readonly process: Process | null;
  /** Set when the rank could not be started. */
  readonly error: string | null;
}

export type LoadKind = 'direct' | 'two-phase' | 'one-phase';

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
}

/** A message seen on the network while tracing (the trace export draws it as a flow arrow). */
export interface MessageRecord {
  readonly src: number;
  readonly dst: number;
  readonly bytes: number;
  /** When the sender's NIC injected it and when its head reached the receiver (ps). */
  readonly sentAt: number;
  readonly arrivedAt: number;
}

const MESSAGE_RECORDS = 65_536;

export class System implements KernelHost {
  /** Messages seen while tracing, oldest first (bounded). */
  readonly messages: MessageRecord[] = [];
  readonly machine: Machine;
  readonly trace: Trace;
  readonly breakpoints = new Breakpoints();
  readonly shootdown: boolean;
  private readonly kernels: (Kernel | undefined)[];
  private hit: StopReason | null = null;
  private lastRecord: TraceRecord | null = null;
  jobs: Job[] = [];
  private readonly jobOf = new Map<Process, Job>();

  readonly catalog: CodeCatalog;
  /** Set by a host-time watchdog (monitor/hostwatch.ts): told whose user code runs. Not simulation state. */
  userCodeWatch: ((t: Thread | null) => void) | null = null;

  constructor(config: SystemConfig) {
    this.machine = new Machine({ profile: config.profile, shape: config.shape, seed: config.seed });
    this.catalog = config.catalog ?? new CodeCatalog();
    this.machine.onArrive = (msg) => {
      if (!this.trace.enabled) return;
      if (this.messages.length >= MESSAGE_RECORDS) this.messages.splice(0, MESSAGE_RECORDS / 4);
      this.messages.push({ src: msg.src, dst: msg.dst, bytes: msg.wireBytes, sentAt: msg.injectedAt, arrivedAt: this.now });
    };
    this.trace = new Trace(config.traceCapacity);
    this.shootdown = config.shootdown ?? true;
    this.kernels = new Array(this.machine.size);
    // Conditions, program names and watchpoints look at the machine through this.
    this.breakpoints.ctx = {
      register: (nid, core, name) => ((REGISTERS as readonly string[]).includes(name) ? this.kernels[nid]?.cpus[core]?.core.get(name as Register) : undefined),
      program: (nid, pid) => this.kernels[nid]?.processes.get(pid)?.name,
      readPhysical: (nid, pa, len) => this.physical(nid, pa, len),
      observe: (nid, fn) => {
        // The debugger's own looks (x, xp, watch values) are not the machine's accesses.
        this.machine.node(nid).memory.watcher = fn === null ? null : (pa, len, write) => this.inspecting === 0 && fn(pa, len, write);
      },
    };
  }

  get engine() {
    return this.machine.engine;
  }

  get profile(): Profile {
    return this.machine.profile;
  }

  get nodeCount(): number {
    return this.machine.size;
  }

  get now(): number {
    return this.engine.now;
  }

  /** The kernel of node `nid`, booting it on first use. */
  kernel(nid: number): Kernel {
    let k = this.kernels[nid];
    if (k === undefined) {
      k = new Kernel(this.machine.node(nid), this, { shootdown: this.shootdown });
      this.kernels[nid] = k;
      k.boot();
    }
    return k;
  }

  existingKernel(nid: number): Kernel | undefined {
    return this.kernels[nid];
  }

  bootedKernels(): Kernel[] {
    return this.kernels.filter((k): k is Kernel => k !== undefined);
  }

  // ---- KernelHost ----------------------------------------------------------

  /** Whether trace records are kept or matched (otherwise steps are only counted). */
  get wantsRecords(): boolean {
    return this.trace.enabled || !this.breakpoints.empty || this.recordWatchers > 0;
  }

  /** Extensions attached from now on step one instruction per kernel step. */
  extStepping = false;

  /** Users of `next()` and the monitors that need every record. */
  recordWatchers = 0;

  countStep(): void {
    this.trace.count++;
  }

  record(r: TraceRecord): void {
    this.trace.record(r);
    this.lastRecord = r;
    if (!this.breakpoints.empty && this.hit === null) {
      const b = this.breakpoints.match(r);
      if (b) this.hit = { kind: 'breakpoint', breakpoint: b, record: r };
    }
  }

  processExited(_k: Kernel, p: Process): void {
    const job = this.jobOf.get(p);
    if (job === undefined) return;
    job.finished++;
    if (job.finished === job.started) job.endedAt = this.now;
  }

  // ---- jobs ------------------------------------------------------------------

  /** Starts `program` as the init task on each of `nodes` (Kitten's create_init_task), rank i on nodes[i]. */
  launchDirect(program: UserProgram, nodes: readonly number[], argv: readonly string[], uid = 1000): Job {
    const job: Job = { program: program.name, load: 'direct', ranks: [], jobId: 0, size: nodes.length, map: [], serviceNid: -1, yod: null, startedAt: this.now, started: 0, finished: 0, endedAt: -1 };
    // The job's map of where each rank runs, completed once every rank is placed.
    const jobMap: { nid: number; pid: number }[] = [];
    nodes.forEach((nid, rank) => {
      try {
        const p = this.kernel(nid).spawn(program, { rank, jobSize: nodes.length, uid, argv: [program.name, ...argv], envp: [`MARGAY_RANK=${rank}`], jobMap });
        jobMap[rank] = { nid, pid: p.pid };
        job.ranks.push({ rank, node: nid, process: p, error: null });
        job.started++;
        this.jobOf.set(p, job);
      } catch (e) {
        jobMap[rank] = { nid, pid: 0 };
        job.ranks.push({ rank, node: nid, process: null, error: (e as Error).message });
      }
    });
    this.jobs.push(job);
    return job;
  }

  /**
   * Starts yod on the service node to launch a job through the job loader.
   * yod's argv carries the job's parameters and its data segment the images
   * (the service node's "disk"); the map says where the ranks go.
   */
  launchLoaded(yod: UserProgram, o: { program: string; load: 'two-phase' | 'one-phase'; jobId: number; serviceNid: number; map: readonly JobRange[]; argv: readonly string[]; uid?: number }): Job {
    const size = o.map.reduce((a, r) => a + r.count, 0);
    // The compute partition boots with the machine: every node of the map runs its kernel.
    for (const r of o.map) for (let i = 0; i < r.count; i++) this.kernel(r.firstNid + i);
    const p = this.kernel(o.serviceNid).spawn(yod, { rank: 0, jobSize: 1, uid: o.uid ?? 1000, argv: ['yod', ...o.argv], envp: [] });
    const job: Job = { program: o.program, load: o.load, ranks: [], jobId: o.jobId, size, map: o.map, serviceNid: o.serviceNid, yod: p, startedAt: this.now, started: 1, finished: 0, endedAt: -1 };
    this.jobOf.set(p, job);
    this.jobs.push(job);
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
    const k = this.kernels[node];
    const rec = k?.jobs.records.get(job.jobId);
    if (rec !== undefined && rec.rank === rank) return { rank, node, process: rec.process, error: null };
    const refusal = k?.jobs.refusals.findLast((r) => r.jobId === job.jobId && r.rank === rank);
    const down = this.machine.network.isNodeDown(node);
    return { rank, node, process: null, error: refusal?.reason ?? (down ? `node ${node} is down` : 'not loaded (see yod\'s output)') };
  }

  /** When each rank of a loaded job entered main and when main returned (-1: not yet). */
  mainTimes(job: Job): { firstMain: number; lastMain: number; lastMainDone: number } {
    let firstMain = Infinity;
    let lastMain = -1;
    let lastMainDone = -1;
    for (let rank = 0; rank < job.size; rank++) {
      const rec = this.kernels[this.rankNode(job, rank)]?.jobs.records.get(job.jobId);
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
    const svc = this.kernel(job.serviceNid);
    svc.jobs.takeControlReplies();
    for (let rank = 0; rank < job.size; rank++) {
      const nid = this.rankNode(job, rank);
      svc.jobs.send(nid, svc.jobs.header(kind, { dstPid: 0, srcPid: 0, rank, jobId: job.jobId }), null);
    }
    const replies: MailItem[] = [];
    const deadline = this.now + waitPs;
    // The user's breakpoints do not cut the wait for the answers short.
    const suspended = this.breakpoints.suspended;
    this.breakpoints.suspended = true;
    try {
      this.run({ until: deadline, done: () => (replies.push(...svc.jobs.takeControlReplies()), replies.length >= job.size) });
    } finally {
      this.breakpoints.suspended = suspended;
    }
    return { answered: replies.length, asked: job.size, replies };
  }

  // ---- control ---------------------------------------------------------------

  /** Fires one event. */
  step(): boolean {
    return this.engine.step();
  }

  /** Runs until the next trace record; returns it (null when nothing is left). */
  next(): TraceRecord | null {
    const before = this.trace.count;
    this.recordWatchers++;
    try {
      while (this.trace.count === before) if (!this.engine.step()) return null;
    } finally {
      this.recordWatchers--;
    }
    return this.lastRecord;
  }

  /**
   * Runs until a breakpoint hits, `until` (a time) is reached, `done()` holds,
   * `maxEvents` have fired, or nothing is pending.
   */
  run(opts: { until?: number; maxEvents?: number; done?: () => boolean } = {}): StopReason {
    this.hit = null;
    const until = opts.until ?? Infinity;
    const max = opts.maxEvents ?? Infinity;
    const done = opts.done;
    let n = 0;
    const engine = this.engine;
    for (;;) {
      if (done !== undefined && done()) return { kind: 'done' };
      if (n >= max) return { kind: 'events', events: n };
      const t = engine.nextTime();
      if (t === Infinity) {
        if (engine.pendingPastEnd > 0) return { kind: 'end-of-time', time: MAX_TIME_PS, next: engine.pastEndTime() };
        return { kind: 'idle' };
      }
      if (t > until) {
        engine.runUntil(until);
        return { kind: 'time', time: until };
      }
      engine.step();
      n++;
      if (this.hit !== null) {
        const h = this.hit;
        this.hit = null;
        return h;
      }
    }
  }

  addBreakpoint(spec: BreakpointSpec): Breakpoint {
    return this.breakpoints.add(spec);
  }

  // ---- inspection ---------------------------------------------------------------

  /** One line per booted node: its cores' modes and its live processes. */
  nodesView() {
    return this.bootedKernels().map((k) => ({
      node: k.nid,
      coords: this.machine.topology.coords(k.nid),
      down: this.machine.network.isNodeDown(k.nid),
      cores: k.cpus.map((c) => (c.inInterrupt ? 'interrupt' : c.core.mode)),
      processes: k.liveProcesses().map((p) => p.pid),
      syscalls: k.stats.syscalls,
    }));
  }

  cpuView(nid: number, core: number) {
    const k = this.kernel(nid);
    const cpu = k.cpus[core];
    if (cpu === undefined) throw new RangeError(`node ${nid} has cores 0..${k.cpus.length - 1}`);
    const c = cpu.core;
    return {
      node: nid,
      core,
      mode: c.mode,
      interrupts: c.interruptsEnabled,
      busyUntil: c.busyUntil,
      current: cpu.current ? { pid: cpu.current.process.pid, tid: cpu.current.tid, program: cpu.current.process.name } : null,
      runQueue: cpu.runQueue.map((t) => t.tid),
      halted: cpu.halted,
      inInterrupt: cpu.inInterrupt,
      spinning: cpu.spinning,
      asid: c.asid,
      timeInMode: c.modeTimes(this.now),
      steps: cpu.steps,
      interruptsTaken: cpu.interrupts,
    };
  }

  registers(nid: number, core: number): Record<string, bigint> {
    const c = this.kernel(nid).cpus[core]?.core;
    if (c === undefined) throw new RangeError(`node ${nid} has no core ${core}`);
    return Object.fromEntries(REGISTERS.map((r) => [r, c.get(r)]));
  }

  tlbView(nid: number, core: number) {
    const t = this.kernel(nid).cpus[core]?.core.tlb;
    if (t === undefined) throw new RangeError(`node ${nid} has no core ${core}`);
    return { capacity: t.capacity, hits: t.hits, misses: t.misses, hitRate: t.hitRate, flushes: t.flushes, invalidations: t.invalidations, entries: t.entries() };
  }

  apicView(nid: number, core: number) {
    const a = this.kernel(nid).cpus[core]?.core.apic;
    if (a === undefined) throw new RangeError(`node ${nid} has no core ${core}`);
    return {
      irr: LocalApic.vectors(a.irr),
      isr: LocalApic.vectors(a.isr),
      tpr: a.tpr,
      nmiPending: a.nmiPending,
      timer: a.timerView(),
      ipisSent: a.ipisSent,
      ipisReceived: a.ipisReceived,
    };
  }

  processes(nid?: number) {
    const ks = nid === undefined ? this.bootedKernels() : [this.kernel(nid)];
    return ks.flatMap((k) =>
      [...k.processes.values()].map((p) => ({
        node: k.nid,
        pid: p.pid,
        name: p.name,
        rank: p.info.rank,
        alive: p.alive,
        exitStatus: p.exitStatus,
        exitReason: p.exitReason,
        threads: p.threads.map((t) => ({ tid: t.tid, core: t.home, state: t.state, userOps: t.userOps, syscalls: t.syscalls })),
        regions: p.alive ? p.aspace.view() : [],
      })),
    );
  }

  /** Debugger reads in progress: read and access watchpoints do not see them. */
  private inspecting = 0;

  /** Reads physical memory of a node. */
  physical(nid: number, addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.inspecting++;
    try {
      this.machine.node(nid).memory.read(addr, out);
    } finally {
      this.inspecting--;
    }
    return out;
  }

  /** Reads a process's virtual memory through its page tables (EFAULT-style error if unmapped). */
  virtual(nid: number, pid: number, addr: number, len: number): Uint8Array {
    const p = this.kernel(nid).processes.get(pid);
    if (p === undefined || !p.alive) throw new RangeError(`no live process ${pid} on node ${nid}`);
    this.inspecting++;
    try {
      return peekUser(this.kernel(nid), p, addr, len);
    } finally {
      this.inspecting--;
    }
  }

  // ---- debugger inspection and control (the monitor's x/xp, page, set) ----------

  /** A live process of a node by pid (the newest when init and the app share it). */
  liveProcess(nid: number, pid: number): Process {
    const p = this.kernel(nid).processes.get(pid);
    if (p === undefined || !p.alive) throw new RangeError(`no live process ${pid} on node ${nid}`);
    return p;
  }

  /** Writes a process's virtual memory through its page tables (EFAULT-style error if not writable). */
  writeVirtual(nid: number, pid: number, addr: number, bytes: Uint8Array): void {
    pokeUser(this.kernel(nid), this.liveProcess(nid, pid), addr, bytes);
  }

  /** Writes physical memory of a node. */
  writePhysical(nid: number, addr: number, bytes: Uint8Array): void {
    this.machine.node(nid).memory.write(addr, bytes);
  }

  /** Sets one register of a core. */
  setRegister(nid: number, core: number, r: Register, v: bigint): void {
    const c = this.kernel(nid).cpus[core]?.core;
    if (c === undefined) throw new RangeError(`node ${nid} has no core ${core}`);
    c.set(r, v);
  }
}
