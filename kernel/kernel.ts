// One node's kernel, the composition root: it owns the node's tables
// (processes, syscalls, interrupt handlers, timers, cross-call mailboxes,
// asids) and its drivers (Portals, job control), and implements the narrow
// context (context.ts) the kernel paths take. The mechanisms live in their
// own files: boot.ts, spawn.ts, exit.ts, sched.ts, cpu.ts, trap.ts, irq.ts,
// xcall.ts, tlbflush.ts, timer.ts, fault.ts, uaccess.ts, loadstore.ts,
// syscalls/.

import type { Engine } from '../hw/engine.ts';
import { MachineCheck } from '../hw/errors.ts';
import type { NicCompletion } from '../hw/nic.ts';
import type { Node } from '../hw/node.ts';
import { ContiguousAllocator } from '../hw/physalloc.ts';
import type { Profile } from '../hw/profile.ts';
import type { UserOp, UserProgram } from './abi.ts';
import { AsidPool } from './asid.ts';
import { bootKernel } from './boot.ts';
import type { CodeCatalog } from './job/codecatalog.ts';
import type { CoreContext, KernelContext, KernelOptions, KernelStats, SyscallEntry } from './context.ts';
import { Cpu } from './cpu.ts';
import { Zombies, exitThread, killProcess } from './exit.ts';
import { FutexTable } from './futex.ts';
import { JobControl } from './job/jobctl.ts';
import { PortalsDriver } from './portals/driver.ts';
import { UnetKernel } from './unet/unet.ts';
import { DsmNode } from './dsm/node.ts';
import { dsmFault } from './dsm/fault.ts';
import { PortSpace } from './ipc/ports.ts';
import { IpcServices } from './ipc/services.ts';
import { corFault, corPageIn } from './rtask/cor.ts';
import { RtaskNode } from './rtask/node.ts';
import type { Process, ProcessInfo, Thread } from './process.ts';
import { armQuantum, leastLoadedCore, sleepUntil, startThread, wake } from './sched.ts';
import { type SpawnOptions, TaskIds, discardThread, newThread, spawnProcess } from './spawn.ts';
import { type KPath, step, type TracePath } from './step.ts';
import { withCheckedArgs } from './syscalls/context.ts';
import type { SyscallHandler } from './syscalls/handlers.ts';
import { SharedTable } from './sharedtable.ts';
import { SYSCALL_BY_NR, type SyscallName } from './syscalls/table.ts';
import { CpuTimers, type Deadline } from './timer.ts';
import type { TraceRecord } from './trace.ts';
import { VECTOR, type VectorName } from './vectors.ts';
import { XcallMailboxes } from './xcall.ts';

/** Physical memory kept for the kernel image and its own structures (less on small nodes). */
const KERNEL_RESERVED = 16 * 1024 * 1024;
/** Console bytes kept per process; more is counted and dropped. */
const MAX_CONSOLE_BYTES = 16 * 1024 * 1024;

/** A driver's interrupt handler: it gets the whole kernel (the paths get the narrow context). */
export type IrqHandler = (k: Kernel, cpu: Cpu) => KPath;

const SYSCALLS_AT_BOOT = SharedTable.root<SyscallEntry>();
const IRQS_AT_BOOT = SharedTable.root<IrqHandler>();
const SYSCALL_BY_NAME = new Map([...SYSCALL_BY_NR.values()].map((s) => [s.name, s]));

/** The subsystems a kernel makes on first use. */
interface Subsystems {
  portals: PortalsDriver;
  jobs: JobControl;
  dsm: DsmNode;
  ipc: IpcServices;
  rtask: RtaskNode;
  ports: PortSpace;
}

/** What a kernel needs from the machine-wide system around it. */
export interface KernelHost {
  readonly engine: Engine;
  readonly profile: Profile;
  /** Nodes in the machine (valid destinations). */
  readonly nodeCount: number;
  /** False when nobody keeps or matches records: steps are then only counted. */
  readonly wantsRecords: boolean;
  countStep(): void;
  record(r: TraceRecord): void;
  processExited(k: Kernel, p: Process): void;
  /** Where a loaded image's code is found (by the hash of its text). */
  readonly catalog: CodeCatalog;
  /** Told which thread's user code is about to run on which node (null: it returned), for a host-time watchdog. */
  readonly userCodeWatch?: ((t: Thread | null, nid: number) => void) | null;
  /** Newly attached extensions step one instruction per kernel step (the monitor's `ext step on`). */
  readonly extStepping: boolean;
}

export class Kernel implements KernelContext {
  readonly cpus: Cpu[];
  readonly processes = new Map<number, Process>();
  readonly phys: ContiguousAllocator;
  readonly futex = new FutexTable();
  /** U-Net endpoints and channels (kernel/unet/). */
  readonly unet: UnetKernel;
  /** The subsystems made so far (see the getters below): most nodes of a large machine never use most of them. */
  private readonly made: Partial<Subsystems> = {};
  readonly stats: KernelStats = { syscalls: 0, pageFaults: 0, shootdowns: 0, shootdownPs: 0, shootdownIpis: 0, ipisSent: 0, oopses: 0 };
  readonly oopsLog: string[] = [];
  /** The core whose event is being handled right now, if any. */
  executing: Cpu | null = null;
  /** The dispatch tables, shared with every kernel that registered the same handlers (sharedtable.ts). */
  private syscalls = SYSCALLS_AT_BOOT;
  private irqHandlers = IRQS_AT_BOOT;
  private readonly timers: CpuTimers[];
  /** The cross-call mailboxes, one per core (xcall.ts). */
  readonly xcalls: XcallMailboxes;
  /** Ended processes whose memory waits for in-flight DMA (exit.ts). */
  readonly zombies = new Zombies();
  readonly ids = new TaskIds();
  /** Asids held by live (and not yet torn-down) address spaces. */
  readonly asids = new AsidPool();
  /** NIC completions taken from the NIC and not yet handled (nicdispatch.ts). */
  readonly nicCompletions: NicCompletion[] = [];
  booted = false;

  constructor(
    readonly node: Node,
    readonly host: KernelHost,
    readonly options: KernelOptions,
  ) {
    const reserved = Math.min(KERNEL_RESERVED, node.memory.size / 8);
    this.phys = new ContiguousAllocator(reserved, node.memory.size - reserved, 'next-fit', (base, size) => node.memory.zero(base, size));
    this.cpus = node.cores.map((core, i) => new Cpu(this, core, i));
    this.timers = this.cpus.map((cpu) => new CpuTimers(this, cpu));
    this.xcalls = new XcallMailboxes(this.cpus.length);
    this.unet = new UnetKernel(this);
  }

  // ---- subsystems, each made on first use ------------------------------------
  // Making one schedules nothing and touches no shared state, so when it is
  // made changes no simulated result; an idle node then holds none of them.

  /** The Portals driver (kernel/portals/). */
  get portals(): PortalsDriver {
    return (this.made.portals ??= new PortalsDriver(this));
  }

  /** Job control: launches, fan-out, kernel messages (kernel/job/). */
  get jobs(): JobControl {
    return (this.made.jobs ??= new JobControl(this));
  }

  /** The kernel DSM (kernel/dsm/). */
  get dsm(): DsmNode {
    return (this.made.dsm ??= new DsmNode(this));
  }

  /** Distributed IPC: the kernel-to-kernel transport and kernel services (kernel/ipc/). */
  get ipc(): IpcServices {
    let ipc = this.made.ipc;
    if (ipc === undefined) {
      // Ports and remote tasking serve on IPC, so they are made with it, before any message reaches it.
      ipc = this.made.ipc = new IpcServices(this, this.options.transport ?? 'dipc');
      this.made.ports = new PortSpace(this);
      (this.made.rtask = new RtaskNode(this)).attach();
    }
    return ipc;
  }

  /** Remote tasking: created tasks, their VM objects, copy-on-reference paging (kernel/rtask/). */
  get rtask(): RtaskNode {
    return this.made.rtask ?? (this.ipc, this.made.rtask!);
  }

  /** Mach-style ports across nodes, on the services (kernel/ipc/ports.ts). */
  get ports(): PortSpace {
    return this.made.ports ?? (this.ipc, this.made.ports!);
  }

  /**
   * The subsystem if something has used it, else undefined: for questions a
   * never-used subsystem answers with "no" or "nothing" (is this receive
   * yours, does this process hold anything), so that asking makes nothing.
   */
  existing<N extends keyof Subsystems>(name: N): Subsystems[N] | undefined {
    return this.made[name];
  }

  get nid(): number {
    return this.node.id;
  }

  get engine(): Engine {
    return this.host.engine;
  }

  get profile(): Profile {
    return this.host.profile;
  }

  /** Boot (boot.ts): the syscall table, drivers and interrupt vectors, then every core idles. */
  boot(): void {
    if (this.booted) return;
    this.booted = true;
    bootKernel(this);
  }

  /** Kitten's syscall_register: a driver adds (or replaces) a handler at boot. */
  registerSyscall(name: SyscallName, handler: SyscallHandler): void {
    const spec = SYSCALL_BY_NAME.get(name);
    if (spec === undefined) throw new Error(`no syscall named ${name} in the table`);
    this.syscalls = this.syscalls.with(spec.nr, handler, () => {
      // Arguments are checked by their ABI types before any handler code runs.
      const checked = withCheckedArgs(spec, handler);
      return {
        name: spec.name,
        // The entry is shared by every kernel; trap.ts passes the kernel that looked it up.
        run: (kc, cpu, t, args) => {
          const k = kc as Kernel;
          return checked({ k, cpu: k.cpus[cpu.index], t, p: t.process, args });
        },
      };
    });
  }

  syscallEntry(nr: number): SyscallEntry | undefined {
    return this.syscalls.get(nr);
  }

  registeredSyscalls(): number[] {
    return this.syscalls.keys();
  }

  /** A driver attaches a handler to a vector (request_irq). */
  requestIrq(name: VectorName, handler: IrqHandler): void {
    this.irqHandlers = this.irqHandlers.with(VECTOR[name], handler, () => handler);
  }

  irqPath(vector: number, cpu: CoreContext): KPath | undefined {
    return this.irqHandlers.get(vector)?.(this, this.cpus[cpu.index]);
  }

  *nmiHandler(cpu: CoreContext): KPath {
    yield step('nmi', 'handler', 100, `core ${cpu.index}`);
  }

  timer(core: number): CpuTimers {
    return this.timers[core];
  }

  // ---- tracing ------------------------------------------------------------

  get recording(): boolean {
    return this.host.wantsRecords;
  }

  traceStep(cpu: CoreContext, path: TracePath, stepName: string, detail: string, durPs = 0): void {
    if (!this.host.wantsRecords) {
      this.host.countStep();
      return;
    }
    this.host.record({ t: this.engine.now, node: this.nid, core: cpu.index, pid: cpu.pid, path, step: stepName, detail, dur: durPs });
  }

  /** A host exception inside a kernel path: a kernel bug. Logged; the process dies; the machine goes on. */
  oops(cpu: CoreContext, thread: { process: Process } | null, e: unknown): void {
    this.stats.oopses++;
    const msg = e instanceof MachineCheck ? e.message : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    this.oopsLog.push(`node ${this.nid} core ${cpu.index}: ${msg}`);
    this.traceStep(cpu, 'oops', 'kernel', msg);
    if (thread) this.killProcess(thread.process, 134, `kernel oops: ${msg}`);
  }

  // ---- processes and threads (spawn.ts, exit.ts) ----------------------------

  /** Creates a process running `program` (Kitten's create_init_task); boots the kernel first if need be. */
  spawn(program: UserProgram, info: ProcessInfo, opts: SpawnOptions = {}): Process {
    if (!this.booted) this.boot();
    return spawnProcess(this, program, info, opts);
  }

  newThread(p: Process, home: number): Thread {
    return newThread(this, p, home);
  }

  /** Undoes newThread for a thread that was never started (a clone that failed after making it). */
  discardThread(t: Thread): void {
    discardThread(t);
  }

  /** Ends a thread; the process ends with its last thread. */
  exitThread(t: Thread, status: number): void {
    exitThread(this, t, status);
  }

  /** Ends every thread of a process (exit_group, a fatal fault, a kill). */
  killProcess(p: Process, status: number, reason: string | null): void {
    killProcess(this, p, status, reason);
  }

  /** Tells the host a process ended (exit.ts calls this last). */
  announceExit(p: Process): void {
    this.host.processExited(this, p);
  }

  /**
   * Frees the memory of ended processes once no DMA can touch it: a process
   * that exits right after a put keeps its pages until the NIC has read them.
   */
  reapZombies(): void {
    this.zombies.reap(this);
  }

  liveProcesses(): Process[] {
    return [...this.processes.values()].filter((p) => p.alive);
  }

  /** Appends console output, keeping at most MAX_CONSOLE_BYTES per process. */
  console(p: Process, fd: 1 | 2, text: string): void {
    const sink = fd === 1 ? p.stdout : p.stderr;
    const used = p.stdout.reduce((a, s) => a + s.length, 0) + p.stderr.reduce((a, s) => a + s.length, 0);
    if (used + text.length > MAX_CONSOLE_BYTES) {
      sink.push(text.slice(0, Math.max(0, MAX_CONSOLE_BYTES - used)));
      return;
    }
    sink.push(text);
  }

  // ---- scheduling (sched.ts) -------------------------------------------------

  /** The core with the fewest live threads homed on it (lowest index on ties). */
  leastLoadedCore(): number {
    return leastLoadedCore(this);
  }

  /** Makes a blocked thread runnable with `value` as the result of its block. */
  regionFault(cpu: CoreContext, t: Thread, op: Extract<UserOp, { op: 'load' | 'store' }>, va: number, write: boolean): KPath | null {
    const dsm = this.made.dsm;
    const rtask = this.made.rtask;
    return (dsm === undefined ? null : dsmFault(dsm, cpu, t, op, va, write)) ?? (rtask === undefined ? null : corFault(rtask, cpu, t, op, va, write));
  }

  regionPageIn(cpu: CoreContext, p: Process, va: number, write: boolean): KPath<string | null> | null {
    const t = cpu instanceof Cpu ? cpu.current : null;
    const rtask = this.made.rtask;
    if (t === null || t.process !== p || rtask === undefined) return null;
    return corPageIn(rtask, t, va, write);
  }

    wake(t: Thread, value: unknown, from: Cpu): KPath {
    return wake(this, t, value, from);
  }

  /** Starts a new thread: queued on its home core, which gets an IPI if it is halted. */
  startThread(t: Thread, from: Cpu): KPath {
    return startThread(this, t, from);
  }

  /** Puts the current thread to sleep on its core's timer until `at`; `expire` runs in the timer interrupt. */
  sleepUntil(t: Thread, at: number, kind: Deadline['kind'], expire: (k: Kernel, cpu: Cpu) => KPath): void {
    sleepUntil(this, t, at, kind, (cpu) => expire(this, this.cpus[cpu.index]));
  }

  /** Arms the round-robin quantum on a core that has more than one runnable thread. */
  armQuantum(cpu: Cpu): void {
    armQuantum(this, cpu);
  }
}
