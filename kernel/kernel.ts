// One node's kernel: boot, processes and threads, the scheduler glue, wake
// and kill, timers, the syscall and interrupt tables, and statistics. Kernel
// paths themselves live in their own files (trap.ts, fault.ts, irq.ts,
// xcall.ts, tlbflush.ts, syscalls/).

import type { Engine } from '../hw/engine.ts';
import { MachineCheck } from '../hw/errors.ts';
import type { Node } from '../hw/node.ts';
import { ContiguousAllocator } from '../hw/physalloc.ts';
import type { Profile } from '../hw/profile.ts';
import { ENTRY_START, LAYOUT, type UserProgram } from './abi.ts';
import { AddressSpace } from './aspace.ts';
import { ASID_COUNT, AsidPool } from './asid.ts';
import { registerConsole } from './console.ts';
import { Cpu } from './cpu.ts';
import { fail } from './errno.ts';
import type { CodeCatalog } from './codecatalog.ts';
import { JobControl } from './jobctl.ts';
import { FutexTable } from './futex.ts';
import type { IrqHandler } from './irq.ts';
import { PAGE_2M, PAGE_4K } from './pagetable.ts';
import { Process, type ProcessInfo, Thread } from './process.ts';
import { type KPath, step } from './step.ts';
import { PortalsDriver } from './portals/driver.ts';
import { DsmNode } from './dsm/node.ts';
import { registerDsm } from './dsm/calls.ts';
import { registerPortals } from './portals/calls.ts';
import { registerExtensions } from './portals/extcalls.ts';
import { withCheckedArgs } from './syscalls/context.ts';
import { HANDLERS, type SyscallHandler } from './syscalls/handlers.ts';
import { SYSCALL_BY_NR, type SyscallName, type SyscallSpec } from './syscalls/table.ts';
import { CpuTimers, type Deadline } from './timer.ts';
import type { TraceRecord } from './trace.ts';
import { VECTOR, type VectorName } from './vectors.ts';
import type { XcallRequest } from './xcall.ts';
import { xcallHandler } from './xcall.ts';

/** Physical memory kept for the kernel image and its own structures (less on small nodes). */
export const KERNEL_RESERVED = 16 * 1024 * 1024;
/** Memory left free when sizing a process's heap, for page tables, mmap and further processes. */
const HEAP_SLACK = 8 * 1024 * 1024;
/** Threads one process may have. */
export const MAX_THREADS = 256;
/** Console bytes kept per process; more is counted and dropped. */
export const MAX_CONSOLE_BYTES = 16 * 1024 * 1024;

export interface KernelOptions {
  /** Send TLB shootdown IPIs (false: --no-shootdown). */
  readonly shootdown: boolean;
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
  /** Told which thread's user code is about to run (null: it returned), for a host-time watchdog. */
  readonly userCodeWatch?: ((t: Thread | null) => void) | null;
  /** Newly attached extensions step one instruction per kernel step (the monitor's `ext step on`). */
  readonly extStepping: boolean;
}

/** How a loaded process differs from an init task started directly. */
export interface SpawnOptions {
  /** The pid to use (a job's pid, the same on every node); it must not be alive. */
  readonly pid?: number;
  /** The job block, placed at the bottom of BSS (its address is in the auxv as AT_MARGAY_JOB). */
  readonly jobBlock?: Uint8Array;
  /** The job-load message the process was created from, mapped read-only at LAYOUT.IMAGE_BASE. */
  readonly image?: Uint8Array;
}

/** auxv type under which the kernel passes the job block's address (a Margay extension). */
export const AT_MARGAY_JOB = 0x4d4a;

export interface KernelStats {
  syscalls: number;
  pageFaults: number;
  shootdowns: number;
  shootdownPs: number;
  /** Cross-call IPIs sent for shootdowns (a subset of ipisSent). */
  shootdownIpis: number;
  ipisSent: number;
  oopses: number;
}

export class Kernel {
  readonly cpus: Cpu[];
  readonly processes = new Map<number, Process>();
  readonly phys: ContiguousAllocator;
  readonly futex = new FutexTable();
  readonly portals: PortalsDriver;
  readonly jobs: JobControl;
  readonly dsm: DsmNode;
  readonly stats: KernelStats = { syscalls: 0, pageFaults: 0, shootdowns: 0, shootdownPs: 0, shootdownIpis: 0, ipisSent: 0, oopses: 0 };
  readonly oopsLog: string[] = [];
  /** The core whose event is being handled right now, if any. */
  executing: Cpu | null = null;
  private readonly syscalls = new Map<number, { spec: SyscallSpec; handler: SyscallHandler }>();
  private readonly irqHandlers = new Map<number, IrqHandler>();
  private readonly timers: CpuTimers[];
  private readonly mailboxes: XcallRequest[][];
  private nextPid = 1;
  /** Ended processes whose memory waits for in-flight DMA (see reapZombies). */
  private zombies: Process[] = [];
  private nextTid = 1;
  /** Asids held by live (and not yet torn-down) address spaces. */
  readonly asids = new AsidPool();
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
    this.mailboxes = this.cpus.map(() => []);
    this.portals = new PortalsDriver(this);
    this.jobs = new JobControl(this);
    this.dsm = new DsmNode(this);
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

  /** Boot: the syscall table, drivers and interrupt vectors, then every core idles. */
  boot(): void {
    if (this.booted) return;
    this.booted = true;
    for (const [name, handler] of Object.entries(HANDLERS)) this.registerSyscall(name as SyscallName, handler);
    registerConsole(this);
    this.requestIrq('apic-timer', (k, cpu) => k.timers[cpu.index].onInterrupt());
    this.requestIrq('xcall', xcallHandler);
    this.requestIrq('reschedule', function* (k, cpu) {
      cpu.needResched = true;
      yield step('sched', 'resched-ipi', 10, `${cpu.runQueue.length} runnable`);
    });
    this.requestIrq('nic-rx', function* (k) {
      // Without a network stack the headers are dropped; Portals replaces this.
      for (const h of k.node.nic.takeRxHeaders()) {
        k.node.nic.discard(h.rxId);
        yield step('nic', 'drop', 50, `from node ${h.src}`);
      }
    });
    this.requestIrq('nic-completion', function* (k) {
      const n = k.node.nic.takeCompletions().length;
      yield step('nic', 'completions', 20, `${n}`);
    });
    this.portals.attach();
    registerPortals(this);
    registerExtensions(this);
    registerDsm(this);
    this.node.nic.irq = { core: 0, rxVector: VECTOR['nic-rx'], completionVector: VECTOR['nic-completion'] };
    for (const cpu of this.cpus) {
      cpu.core.setInterruptsEnabled(true);
      cpu.halted = true;
      cpu.core.setMode('idle', this.engine.now);
    }
    this.record(this.cpus[0], 'boot', 'done', `${this.cpus.length} cores, ${this.syscalls.size} syscalls`);
  }

  /** Kitten's syscall_register: a driver adds (or replaces) a handler at boot. */
  registerSyscall(name: SyscallName, handler: SyscallHandler): void {
    const spec = [...SYSCALL_BY_NR.values()].find((s) => s.name === name);
    if (spec === undefined) throw new Error(`no syscall named ${name} in the table`);
    // Arguments are checked by their ABI types before any handler code runs.
    this.syscalls.set(spec.nr, { spec, handler: withCheckedArgs(spec, handler) });
  }

  syscallEntry(nr: number): { spec: SyscallSpec; handler: SyscallHandler } | undefined {
    return this.syscalls.get(nr);
  }

  registeredSyscalls(): number[] {
    return [...this.syscalls.keys()].sort((a, b) => a - b);
  }

  /** A driver attaches a handler to a vector (request_irq). */
  requestIrq(name: VectorName, handler: IrqHandler): void {
    this.irqHandlers.set(VECTOR[name], handler);
  }

  irqHandler(vector: number): IrqHandler | undefined {
    return this.irqHandlers.get(vector);
  }

  *nmiHandler(cpu: Cpu): KPath {
    yield step('nmi', 'handler', 100, `core ${cpu.index}`);
  }

  mailbox(core: number): XcallRequest[] {
    return this.mailboxes[core];
  }

  timer(core: number): CpuTimers {
    return this.timers[core];
  }

  // ---- tracing ------------------------------------------------------------

  traceStep(cpu: Cpu, path: string, stepName: string, detail: string, durPs = 0): void {
    this.record(cpu, path, stepName, detail, durPs);
  }

  private record(cpu: Cpu, path: string, stepName: string, detail: string, durPs = 0): void {
    if (!this.host.wantsRecords) {
      this.host.countStep();
      return;
    }
    this.host.record({ t: this.engine.now, node: this.nid, core: cpu.index, pid: cpu.pid, path, step: stepName, detail, dur: durPs });
  }

  /** A host exception inside a kernel path: a kernel bug. Logged; the process dies; the machine goes on. */
  oops(cpu: Cpu, thread: { process: Process } | null, e: unknown): void {
    this.stats.oopses++;
    const msg = e instanceof MachineCheck ? e.message : `${(e as Error)?.name ?? 'Error'}: ${(e as Error)?.message ?? String(e)}`;
    this.oopsLog.push(`node ${this.nid} core ${cpu.index}: ${msg}`);
    this.record(cpu, 'oops', 'kernel', msg);
    if (thread) this.killProcess(thread.process, 134, `kernel oops: ${msg}`);
  }

  // ---- processes and threads ------------------------------------------------

  /**
   * Creates a process running `program` (Kitten's create_init_task): its
   * regions are allocated and mapped up front, argv/envp laid out on the
   * stack SysV-style, and its first thread queued on core 0.
   */
  spawn(program: UserProgram, info: ProcessInfo, opts: SpawnOptions = {}): Process {
    if (!this.booted) this.boot();
    const pid = opts.pid ?? this.freePid();
    if (this.processes.get(pid)?.alive) fail('EBUSY', `pid ${pid} is in use`);
    const asid = this.allocAsid();
    const aspace = new AddressSpace(asid, this.node.memory, this.phys);
    try {
      const page = (n: number) => Math.max(PAGE_4K, Math.ceil(n / PAGE_4K) * PAGE_4K);
      const text = { readable: true, writable: false, executable: true };
      const rw = { readable: true, writable: true, executable: false };
      let va: number = LAYOUT.TEXT_BASE;
      const textBytes = Math.max(program.textBytes, program.text?.length ?? 0);
      const textRegion = aspace.addRegion('text', va, page(textBytes), text);
      if (program.text) this.node.memory.write(textRegion.pa, program.text);
      va += page(textBytes);
      const dataBytes = page(program.dataBytes);
      const data = aspace.addRegion('data', va, dataBytes, rw);
      if (program.data) this.node.memory.write(data.pa, program.data.subarray(0, dataBytes));
      va += dataBytes;
      const jobBlock = opts.jobBlock ?? new Uint8Array(0);
      const bss = aspace.addRegion('bss', va, page(program.bssBytes + jobBlock.length), rw);
      if (jobBlock.length > 0) this.node.memory.write(bss.pa, jobBlock);
      const jobBlockVa = jobBlock.length > 0 ? va : 0;
      va += page(program.bssBytes + jobBlock.length);
      if (opts.image) {
        const img = aspace.addRegion('image', LAYOUT.IMAGE_BASE, page(opts.image.length), { readable: true, writable: false, executable: false });
        this.node.memory.write(img.pa, opts.image);
      }
      const heapStart = Math.ceil(va / PAGE_2M) * PAGE_2M;
      // The heap is reserved up front: HEAP_RESERVE, or what a small node can spare.
      const spare = Math.floor((this.phys.freeBytes - LAYOUT.STACK_BYTES - HEAP_SLACK) / PAGE_2M) * PAGE_2M;
      const heapBytes = Math.max(PAGE_2M, Math.min(LAYOUT.HEAP_RESERVE, spare));
      aspace.addRegion('heap', heapStart, heapBytes, rw);
      aspace.brkStart = aspace.brk = heapStart;
      aspace.brkEnd = heapStart + heapBytes;
      const stack = aspace.addRegion('stack', LAYOUT.STACK_TOP - LAYOUT.STACK_BYTES, LAYOUT.STACK_BYTES, rw);
      const p = new Process(pid, program.name, aspace, info, program.instantiate(), this.engine.now);
      this.processes.set(pid, p);
      const sp = this.layoutStack(stack.pa, stack.start, stack.size, info.argv, info.envp, jobBlockVa ? [AT_MARGAY_JOB, jobBlockVa] : []);
      const t = this.newThread(p, 0);
      t.setSaved('rip', ENTRY_START);
      t.setSaved('rsp', sp);
      t.setSaved('rflags', 0x202);
      t.setSaved('cr3', aspace.cr3);
      this.cpus[0].enqueue(t);
      if (this.cpus[0].halted) this.cpus[0].kick();
      this.record(this.cpus[0], 'proc', 'spawn', `pid ${pid} ${program.name} rank ${info.rank}`);
      return p;
    } catch (e) {
      this.teardown(aspace);
      throw e;
    }
  }

  /** The next pid not in use (a dead process's pid may be taken again by a job's pid only). */
  private freePid(): number {
    while (this.processes.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  /** An asid no other address space holds (see asid.ts); -EAGAIN when all are held. */
  private allocAsid(): number {
    const asid = this.asids.alloc();
    if (asid === null) fail('EAGAIN', `all ${ASID_COUNT} address-space ids are held by live or exiting processes on node ${this.nid}`);
    // A freed asid is reused: no core may keep entries of its previous owner.
    for (const cpu of this.cpus) cpu.core.tlb.flushAsid(asid);
    return asid;
  }

  /**
   * Frees an address space's memory and tables, then its asid. Stale TLB
   * entries of the asid are flushed when it is next handed out (allocAsid).
   */
  private teardown(aspace: AddressSpace): void {
    aspace.destroy();
    this.asids.free(aspace.asid);
  }

  /** SysV initial stack: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL, then the strings. */
  private layoutStack(pa: number, start: number, size: number, argv: readonly string[], envp: readonly string[], auxv: readonly number[]): number {
    const enc = new TextEncoder();
    const strings = [...argv, ...envp].map((s) => enc.encode(s + '\0'));
    const stringBytes = strings.reduce((a, s) => a + s.length, 0);
    const top = start + size;
    let strAt = top - stringBytes;
    const words = 1 + argv.length + 1 + envp.length + 1 + auxv.length + 2;
    const sp = Math.floor((strAt - 8 * words) / 16) * 16;
    if (sp < start + 4096) fail('E2BIG', 'arguments do not fit on the stack');
    const ptrs: number[] = [];
    for (const s of strings) {
      this.node.memory.write(pa + (strAt - start), s);
      ptrs.push(strAt);
      strAt += s.length;
    }
    const vec = [argv.length, ...ptrs.slice(0, argv.length), 0, ...ptrs.slice(argv.length), 0, ...auxv, 0, 0];
    const bytes = new Uint8Array(8 * vec.length);
    const dv = new DataView(bytes.buffer);
    vec.forEach((w, i) => dv.setBigUint64(8 * i, BigInt(w), true));
    this.node.memory.write(pa + (sp - start), bytes);
    return sp;
  }

  newThread(p: Process, home: number): Thread {
    if (p.threads.length >= MAX_THREADS) fail('EAGAIN', `process ${p.pid} has ${MAX_THREADS} threads`);
    const t = new Thread(this.nextTid++, p, home);
    t.user = p.code(t.cpu);
    p.threads.push(t);
    return t;
  }

  /** Undoes newThread for a thread that was never started (a clone that failed after making it). */
  discardThread(t: Thread): void {
    const i = t.process.threads.indexOf(t);
    if (i >= 0) t.process.threads.splice(i, 1);
    t.state = 'dead';
    t.user = null;
  }

  /** The core with the fewest live threads homed on it (lowest index on ties). */
  leastLoadedCore(): number {
    const load = this.cpus.map(() => 0);
    for (const p of this.processes.values()) for (const t of p.liveThreads) load[t.home]++;
    let best = 0;
    for (let i = 1; i < load.length; i++) if (load[i] < load[best]) best = i;
    return best;
  }

  /**
   * Makes a blocked thread runnable with `value` as the result of its block.
   * A thread homed on another, halted core is started with a reschedule IPI.
   */
  *wake(t: Thread, value: unknown, from: Cpu): KPath {
    if (t.state === 'dead') return;
    if (t.timerDeadline) {
      this.timers[t.home].remove(t.timerDeadline);
      t.timerDeadline = null;
    }
    t.kresume = value;
    if (t.state !== 'blocked') {
      t.wakePending = true;
      return;
    }
    const target = this.cpus[t.home];
    target.enqueue(t);
    if (target !== from && target.halted) {
      yield step('ipi', 'send', this.profile.values['kernel.ipiSendCycles'], `reschedule -> core ${target.index}`);
      from.core.apic.sendIpi(target.index, VECTOR.reschedule);
      this.stats.ipisSent++;
    }
  }

  /** Starts a new thread: queued on its home core, which gets an IPI if it is halted. */
  *startThread(t: Thread, from: Cpu): KPath {
    t.state = 'blocked';
    yield* this.wake(t, undefined, from);
  }

  /** Puts the current thread to sleep on its core's timer until `at`. */
  sleepUntil(t: Thread, at: number, kind: Deadline['kind'], expire: Deadline['expire']): void {
    t.timerDeadline = this.timers[t.home].add({ at, kind, thread: t, expire });
  }

  /** Arms the round-robin quantum on a core that has more than one runnable thread. */
  armQuantum(cpu: Cpu): void {
    const timers = this.timers[cpu.index];
    if (cpu.runQueue.length === 0 || timers.hasQuantum()) return;
    timers.add({
      at: this.engine.now + this.profile.values['kernel.quantumPs'],
      kind: 'quantum',
      thread: null,
      *expire(k, c) {
        c.needResched = true;
        yield step('sched', 'quantum', 10, `${c.runQueue.length} waiting`);
      },
    });
  }

  /** Ends a thread; the process ends with its last thread. */
  exitThread(t: Thread, status: number): void {
    if (t.state === 'dead') return;
    this.buryThread(t);
    if (t.process.liveThreads.length === 0) this.endProcess(t.process, status, null);
  }

  /** Ends every thread of a process (exit_group, a fatal fault, a kill). */
  killProcess(p: Process, status: number, reason: string | null): void {
    if (!p.alive) return;
    for (const t of p.liveThreads) this.buryThread(t);
    this.endProcess(p, status, reason);
  }

  private buryThread(t: Thread): void {
    t.state = 'dead';
    t.kpath = null;
    t.user = null;
    if (t.timerDeadline) this.timers[t.home].remove(t.timerDeadline);
    t.timerDeadline = null;
    this.timers[t.home].removeThread(t);
    for (const cpu of this.cpus) cpu.evict(t);
  }

  private endProcess(p: Process, status: number, reason: string | null): void {
    if (!p.alive) return;
    p.exitStatus = status;
    p.exitReason = reason;
    p.endedAt = this.engine.now;
    this.futex.forget(p.aspace);
    this.portals.forget(p);
    this.dsm.forget(p);
    this.zombies.push(p);
    this.reapZombies();
    this.jobs.processEnded(p);
    this.record(this.executing ?? this.cpus[0], 'proc', 'exit', `pid ${p.pid} status ${status}${reason ? `: ${reason}` : ''}`);
    this.host.processExited(this, p);
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

  /**
   * Frees the memory of ended processes once no DMA can touch it: a process
   * that exits right after a put keeps its pages until the NIC has read them.
   */
  reapZombies(): void {
    if (this.zombies.length === 0) return;
    this.zombies = this.zombies.filter((p) => {
      if (this.portals.inflight(p) > 0 || this.jobs.inflight(p.pid) > 0) return true;
      this.teardown(p.aspace);
      return false;
    });
  }

  liveProcesses(): Process[] {
    return [...this.processes.values()].filter((p) => p.alive);
  }
}
