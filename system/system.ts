// The whole simulated system: the machine, a kernel on every node (booted
// when first used), the trace, breakpoints and jobs. This is the control and
// inspection API the CLI, the tests and the monitors use. This file holds the
// machine and its kernels (it is their KernelHost); jobs.ts launches and
// follows jobs, runctl.ts steps and runs, inspect.ts answers every read.

import { Machine } from '../hw/machine.ts';
import type { Profile } from '../hw/profile.ts';
import type { Shape } from '../hw/topology.ts';
import type { UserProgram } from '../kernel/abi.ts';
import type { PersonalityName } from '../kernel/ipc/personality.ts';
import { CodeCatalog } from '../kernel/job/codecatalog.ts';
import type { MailItem } from '../kernel/job/jobctl.ts';
import { Kernel, type KernelHost } from '../kernel/kernel.ts';
import type { Process, Thread } from '../kernel/process.ts';
import type { TraceRecord } from '../kernel/trace.ts';
import { type Breakpoint, type BreakpointSpec, Breakpoints } from './breakpoints.ts';
import { Inspector, type RunningCode } from './inspect.ts';
import { type Job, type JobRange, Jobs, type LoadKind, type OnFailure, type RankState } from './jobs.ts';
import { RunControl, type StopReason } from './runctl.ts';
import { Trace } from './trace.ts';

export type { Job, JobRange, OnFailure, RankState } from './jobs.ts';
export type { StopReason } from './runctl.ts';
export type { ProcessSummary, RunningCode } from './inspect.ts';

export interface SystemConfig {
  readonly profile: Profile;
  readonly shape: Shape;
  readonly seed: number;
  /** TLB shootdown IPIs on munmap/mprotect (default true). */
  readonly shootdown?: boolean;
  /** The distributed-IPC transport (kernel/ipc/): 'norma' or 'dipc' (default). */
  readonly transport?: PersonalityName;
  readonly traceCapacity?: number;
  /** Programs images may name (the launcher registers what it builds images of). */
  readonly catalog?: CodeCatalog;
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
  readonly transport: PersonalityName;
  /** Every read of the machine and its kernels, as plain data. */
  readonly inspect: Inspector;
  private readonly kernels: (Kernel | undefined)[];
  private readonly runctl: RunControl;
  private readonly launcher: Jobs;

  readonly catalog: CodeCatalog;
  /** The kernels tell this whose user code runs (KernelHost); set through watchUserCode. Not simulation state. */
  userCodeWatch: ((t: Thread | null, nid: number) => void) | null = null;

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
    this.transport = config.transport ?? 'dipc';
    this.kernels = new Array(this.machine.size);
    this.inspect = new Inspector(this);
    this.runctl = new RunControl(this.machine.engine, this.trace, this.breakpoints);
    this.launcher = new Jobs(this);
    // Conditions, program names and watchpoints look at the machine through this.
    this.breakpoints.ctx = {
      register: (nid, core, name) => this.inspect.register(nid, core, name),
      program: (nid, pid) => this.kernels[nid]?.processes.get(pid)?.name,
      readPhysical: (nid, pa, len) => this.inspect.physical(nid, pa, len),
      observe: (nid, fn) => {
        // The debugger's own looks (x, xp, watch values) are not the machine's accesses.
        this.machine.node(nid).memory.watcher = fn === null ? null : (pa, len, write) => !this.inspect.busy && fn(pa, len, write);
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
      k = new Kernel(this.machine.node(nid), this, { shootdown: this.shootdown, transport: this.transport });
      this.kernels[nid] = k;
      k.boot();
    }
    return k;
  }

  /** Boots node `nid`'s kernel if it has not booted yet. */
  boot(nid: number): void {
    this.kernel(nid);
  }

  existingKernel(nid: number): Kernel | undefined {
    return this.kernels[nid];
  }

  bootedKernels(): Kernel[] {
    return this.kernels.filter((k): k is Kernel => k !== undefined);
  }

  // ---- faults and debugging switches ------------------------------------------

  /** Fault injection: node `nid`'s kernel hangs, never answering kernel messages. */
  hangKernel(nid: number): void {
    this.kernel(nid).jobs.silent = true;
    this.kernel(nid).ipc.transport.silent = true;
  }

  /** Extension handlers (attached and to be attached) step one instruction per kernel step, or run whole. */
  setExtStepping(on: boolean): void {
    this.extStepping = on;
    for (const k of this.bootedKernels()) for (const e of k.portals.extensions.values()) e.stepping = on;
  }

  // ---- KernelHost ----------------------------------------------------------

  /** Whether trace records are kept or matched (otherwise steps are only counted). */
  get wantsRecords(): boolean {
    return this.trace.enabled || !this.breakpoints.empty || this.runctl.recordWatchers > 0;
  }

  /** Extensions attached from now on step one instruction per kernel step. */
  extStepping = false;

  /** Users of `next()` and the monitors that need every record. */
  get recordWatchers(): number {
    return this.runctl.recordWatchers;
  }

  set recordWatchers(n: number) {
    this.runctl.recordWatchers = n;
  }

  countStep(): void {
    this.trace.count++;
  }

  record(r: TraceRecord): void {
    this.runctl.record(r);
  }

  processExited(k: Kernel, p: Process): void {
    this.launcher.processExited(k, p);
  }

  /**
   * A host-time watchdog (monitor/hostwatch.ts) is told whose user code runs,
   * as plain data (the same object for every entry of one thread), or null
   * when none does; null stops the telling.
   */
  watchUserCode(fn: ((who: RunningCode | null) => void) | null): void {
    if (fn === null) {
      this.userCodeWatch = null;
      return;
    }
    const seen = new WeakMap<Thread, RunningCode>();
    this.userCodeWatch = (t, nid) => {
      if (t === null) return fn(null);
      let who = seen.get(t);
      if (who === undefined) {
        const p = t.process;
        who = { node: nid, rank: p.info.rank, pid: p.pid, name: p.name };
        seen.set(t, who);
      }
      fn(who);
    };
  }

  // ---- jobs (jobs.ts) -----------------------------------------------------------

  /** Every job launched, in order. */
  get jobs(): readonly Job[] {
    return this.launcher.list;
  }

  /**
   * `opts.launcher`: the processes are job launchers (as yod is), e.g. a test's own rtask creator.
   * `opts.onFailure`: 'end' kills the other ranks when one fails (margay run's default); the API's default is 'continue'.
   */
  launchDirect(program: UserProgram, nodes: readonly number[], argv: readonly string[], uid = 1000, opts: { launcher?: boolean; onFailure?: OnFailure } = {}): Job {
    return this.launcher.launchDirect(program, nodes, argv, uid, opts);
  }

  launchLoaded(yod: UserProgram, o: { program: string; load: Exclude<LoadKind, 'direct'>; jobId: number; serviceNid: number; map: readonly JobRange[]; argv: readonly string[]; uid?: number; onFailure?: OnFailure }): Job {
    return this.launcher.launchLoaded(yod, o);
  }

  jobDone(job: Job): boolean {
    return this.launcher.jobDone(job);
  }

  rankNode(job: Job, rank: number): number {
    return this.launcher.rankNode(job, rank);
  }

  rankStates(job: Job): RankState[] {
    return this.launcher.rankStates(job);
  }

  rankState(job: Job, rank: number): RankState {
    return this.launcher.rankState(job, rank);
  }

  mainTimes(job: Job): { firstMain: number; lastMain: number; lastMainDone: number } {
    return this.launcher.mainTimes(job);
  }

  control(job: Job, kind: 'status' | 'kill', waitPs = 1e9): { answered: number; asked: number; replies: MailItem[] } {
    return this.launcher.control(job, kind, waitPs);
  }

  // ---- run control (runctl.ts) --------------------------------------------------

  step(): boolean {
    return this.runctl.step();
  }

  next(): TraceRecord | null {
    return this.runctl.next();
  }

  run(opts: { until?: number; maxEvents?: number; done?: () => boolean } = {}): StopReason {
    return this.runctl.run(opts);
  }

  addBreakpoint(spec: BreakpointSpec): Breakpoint {
    return this.breakpoints.add(spec);
  }

  // ---- reads (the rest are in inspect.ts) ---------------------------------------

  /** Reads physical memory of a node (as inspect.physical). */
  physical(nid: number, addr: number, len: number): Uint8Array {
    return this.inspect.physical(nid, addr, len);
  }
}
