// The inspection API: everything the monitor, the console and the debugger
// read of the machine and its kernels, as plain data (numbers, strings,
// arrays, copies), so they never hold or walk kernel objects. Reads made here
// are the debugger's own looks: read and access watchpoints do not see them.
// The few writes a debugger makes (set, x/xp targets) are here too, beside
// the reads they mirror.

import { UNET_HDR } from '../hw/unet/layout.ts';
import { LocalApic } from '../hw/apic.ts';
import { REGISTERS, type Register } from '../hw/core.ts';
import type { WalkResult } from '../hw/mmu.ts';
import { type DsmRegionView, dsmView } from '../kernel/dsm/inspect.ts';
import { type IpcNodeView, ipcView } from '../kernel/ipc/inspect.ts';
import { type RtaskNodeView, rtaskView } from '../kernel/rtask/inspect.ts';
import { disassemble } from '../kernel/ext/disasm.ts';
import type { KernelStats } from '../kernel/context.ts';
import type { Kernel } from '../kernel/kernel.ts';
import type { Process } from '../kernel/process.ts';
import { peekUser, pokeUser } from '../kernel/uaccess.ts';
import type { Job } from './jobs.ts';
import type { System } from './system.ts';

/** A process as the debugger names it. */
export interface ProcessRef {
  readonly node: number;
  readonly pid: number;
  readonly name: string;
  readonly rank: number;
  readonly cr3: number;
}

/** A process's outcome and output, copied: what reports and the job pane print. */
export interface ProcessSummary {
  readonly pid: number;
  readonly name: string;
  readonly alive: boolean;
  readonly exitStatus: number | null;
  readonly exitReason: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The results it published (result()), in the order it published them. */
  readonly results: Readonly<Record<string, number>>;
}

/** One rank of a job: its process (the current one, after exec) or why it has none. */
export interface RankView {
  readonly rank: number;
  readonly node: number;
  readonly process: ProcessSummary | null;
  /** Set when the rank could not be started. */
  readonly error: string | null;
}

/** Who is running user code, for a host watchdog (one object per thread, so it can be compared). */
export interface RunningCode {
  readonly node: number;
  readonly rank: number;
  readonly pid: number;
  readonly name: string;
}

/** What the map and the node pane of the console colour a node by. */
export interface NodeActivity {
  readonly booted: boolean;
  readonly down: boolean;
  /** A process ended with a non-zero status for a reason other than exec. */
  readonly failedProcess: boolean;
  readonly inInterrupt: boolean;
  /** init (the loader) is still running. */
  readonly loading: boolean;
  readonly kernelMode: boolean;
  readonly userMode: boolean;
}

export class Inspector {
  /** Debugger reads in progress: read and access watchpoints do not see them. */
  private inspecting = 0;

  constructor(private readonly sys: System) {}

  /** Whether a debugger read is in progress (memory watchers ignore it). */
  get busy(): boolean {
    return this.inspecting > 0;
  }

  /** The kernel DSM's regions on the booted nodes: every node's state of each page (or of `page`). */
  dsmView(page?: number): DsmRegionView[] {
    return dsmView(this.sys.bootedKernels(), page);
  }

  /** Distributed IPC on the booted nodes (or one node): transport counters and ports. */
  ipcView(node?: number): IpcNodeView[] {
    return ipcView(this.sys.bootedKernels(), node);
  }

  /** Remote tasking on the booted nodes (or one node): source jobs, tasks, VM objects. */
  rtaskView(node?: number): RtaskNodeView[] {
    return rtaskView(this.sys.bootedKernels(), node);
  }

  private k(nid: number): Kernel {
    return this.sys.kernel(nid);
  }

  private core(nid: number, core: number) {
    const c = this.k(nid).cpus[core]?.core;
    if (c === undefined) throw new RangeError(`node ${nid} has no core ${core}`);
    return c;
  }

  // ---- nodes and cores ----------------------------------------------------------

  /** One line per booted node: its cores' modes and its live processes. */
  nodesView() {
    return this.sys.bootedKernels().map((k) => ({
      node: k.nid,
      coords: this.sys.machine.topology.coords(k.nid),
      down: this.sys.machine.network.isNodeDown(k.nid),
      cores: k.cpus.map((c) => (c.inInterrupt ? 'interrupt' : c.core.mode)),
      processes: k.liveProcesses().map((p) => p.pid),
      syscalls: k.stats.syscalls,
    }));
  }

  /** Whether node `nid`'s kernel has booted (inspection never boots one). */
  booted(nid: number): boolean {
    return this.sys.existingKernel(nid) !== undefined;
  }

  /** How many cores node `nid` has. */
  coreCount(nid: number): number {
    return this.k(nid).cpus.length;
  }

  /** One node in detail: each core, the NIC, job control and memory counters. */
  nodeView(nid: number) {
    const k = this.k(nid);
    const nic = k.node.nic.stats;
    return {
      node: nid,
      coords: this.sys.machine.topology.coords(nid),
      liveProcesses: k.liveProcesses().length,
      cores: k.cpus.map((c) => ({ core: c.index, mode: c.inInterrupt ? 'interrupt' : c.core.mode, running: c.current ? { pid: c.current.process.pid, tid: c.current.tid } : null, queued: c.runQueue.length })),
      nic: { txMessages: nic.txMessages, txBytes: nic.txBytes, rxMessages: nic.rxMessages, rxBytes: nic.rxBytes, undeliverable: nic.undeliverable },
      jobctl: { ...k.jobs.stats },
      memory: { allocatedBytes: k.phys.usedBytes, sizeBytes: k.node.memory.size, touchedFrames: k.node.memory.touchedFrames },
    };
  }

  /** What a node is doing, for the console's map (null when its kernel has not booted). */
  activity(nid: number): NodeActivity {
    const down = this.sys.machine.network.isNodeDown(nid);
    const k = this.sys.existingKernel(nid);
    if (k === undefined) return { booted: false, down, failedProcess: false, inInterrupt: false, loading: false, kernelMode: false, userMode: false };
    return {
      booted: true,
      down,
      failedProcess: k.processes.size > 0 && [...k.processes.values()].some((p) => !p.alive && p.exitStatus !== 0 && p.exitReason !== null && !p.exitReason.startsWith('exec ')),
      inInterrupt: k.cpus.some((c) => c.inInterrupt),
      loading: k.liveProcesses().some((p) => p.name === 'init'),
      kernelMode: k.cpus.some((c) => c.core.mode === 'kernel'),
      userMode: k.cpus.some((c) => c.core.mode === 'user'),
    };
  }

  cpuView(nid: number, core: number) {
    const k = this.k(nid);
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
      timeInMode: c.modeTimes(this.sys.now),
      steps: cpu.steps,
      interruptsTaken: cpu.interrupts,
    };
  }

  registers(nid: number, core: number): Record<string, bigint> {
    const c = this.core(nid, core);
    return Object.fromEntries(REGISTERS.map((r) => [r, c.get(r)]));
  }

  /** One register of a core, or undefined (breakpoint conditions read through this). */
  register(nid: number, core: number, name: string): bigint | undefined {
    return (REGISTERS as readonly string[]).includes(name) ? this.sys.existingKernel(nid)?.cpus[core]?.core.get(name as Register) : undefined;
  }

  tlbView(nid: number, core: number) {
    const t = this.core(nid, core).tlb;
    return { capacity: t.capacity, hits: t.hits, misses: t.misses, hitRate: t.hitRate, flushes: t.flushes, invalidations: t.invalidations, entries: t.entries() };
  }

  apicView(nid: number, core: number) {
    const a = this.core(nid, core).apic;
    return {
      irr: LocalApic.vectors(a.irr),
      isr: LocalApic.vectors(a.isr),
      tpr: a.tpr,
      nmiPending: a.nmiPending,
      timer: a.timerView(),
      ipisSent: a.ipisSent,
      ipisReceived: a.ipisReceived,
      /** Interrupts accepted so far, by vector. */
      accepted: [...a.accepted],
    };
  }

  // ---- processes ----------------------------------------------------------------

  processes(nid?: number) {
    const ks = nid === undefined ? this.sys.bootedKernels() : [this.k(nid)];
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

  private live(nid: number, pid: number): Process {
    const p = this.k(nid).processes.get(pid);
    if (p === undefined || !p.alive) throw new RangeError(`no live process ${pid} on node ${nid}`);
    return p;
  }

  private ref(nid: number, p: Process): ProcessRef {
    return { node: nid, pid: p.pid, name: p.name, rank: p.info.rank, cr3: p.aspace.cr3 };
  }

  /** A live process of a node by pid (RangeError if there is none). */
  liveProcess(nid: number, pid: number): ProcessRef {
    return this.ref(nid, this.live(nid, pid));
  }

  /** The live process whose thread core `core` of node `nid` is running, if any. */
  runningProcess(nid: number, core: number): ProcessRef | undefined {
    const p = this.k(nid).cpus[core]?.current?.process;
    return p !== undefined && p.alive ? this.ref(nid, p) : undefined;
  }

  /** The live processes of a node. */
  liveProcesses(nid: number): ProcessRef[] {
    return this.k(nid).liveProcesses().map((p) => this.ref(nid, p));
  }

  /** Every rank of a job, with its process summarised (see System.rankStates for the processes themselves). */
  jobRanks(job: Job): RankView[] {
    return this.sys.rankStates(job).map((r) => ({ rank: r.rank, node: r.node, process: r.process === null ? null : summary(r.process), error: r.error }));
  }

  /** yod of a loaded job, summarised (null for a direct job). */
  yod(job: Job): ProcessSummary | null {
    return job.yod === null ? null : summary(job.yod);
  }

  /** Translates a virtual address through a live process's page tables. */
  translate(nid: number, pid: number, va: number): WalkResult {
    return this.live(nid, pid).aspace.pt.translate(va);
  }

  /** Each live process of a node with its Portals objects, counted (the console's node pane). */
  portalsView(nid: number) {
    const k = this.k(nid);
    return k.liveProcesses().map((p) => {
      const pp = k.portals.peek(p);
      return {
        pid: p.pid,
        name: p.name,
        rank: p.info.rank,
        threads: p.liveThreads.length,
        nis: (pp?.nis ?? []).flatMap((ni) =>
          ni === null
            ? []
            : [{ index: ni.index, pts: ni.pts.map((pt, i) => (pt === null ? null : { index: i, priority: pt.priority.length, overflow: pt.overflow.length, enabled: pt.enabled })), eqs: [...ni.objects.values('eq')].map((q) => ({ events: q.events.length, size: q.size })), mds: ni.objects.count('md'), cts: ni.objects.count('ct') }],
        ),
      };
    });
  }

  /** A node's U-Net endpoints: owner, segment, the queue counters read from it, channels and tags, the NIC's counters. */
  unetView(nid: number) {
    const k = this.k(nid);
    const nic = k.node.nic.unet;
    const seg = (pa: number) => {
      const b = this.physical(nid, pa, UNET_HDR.SIZE);
      const w = (off: number) => new DataView(b.buffer).getUint32(off, true);
      return { sendTail: w(UNET_HDR.SEND_TAIL), sendHead: w(UNET_HDR.SEND_HEAD), recvTail: w(UNET_HDR.RECV_TAIL), recvHead: w(UNET_HDR.RECV_HEAD), freeTail: w(UNET_HDR.FREE_TAIL), freeHead: w(UNET_HDR.FREE_HEAD), drops: w(UNET_HDR.DROPS) };
    };
    const endpoints = k.unet.all().map((e) => ({
      pid: e.owner.pid,
      handle: e.handle,
      nicId: e.id,
      va: e.va,
      bytes: e.len,
      pa: e.segPa,
      entries: e.entries,
      upcall: e.upcall,
      queues: seg(e.segPa),
      channels: [...e.channels.entries()].map(([chan, c]) => ({ chan, peer: c.peer, rxTag: c.rxTag, txTag: c.txTag })),
      stats: nic.endpoint(e.id)?.stats ?? null,
    }));
    return { node: nid, endpoints, nic: { ...nic.stats } };
  }

  /** Every attached extension handler on the booted nodes. */
  extensions() {
    return this.sys.bootedKernels().flatMap((k) => [...k.portals.extensions.values()].map((e) => ({ node: k.nid, id: e.id, pid: e.owner.process.pid, engine: e.engine, insns: e.prog.prog.length, runs: e.stats.runs, insnsRun: e.stats.insns, stepping: e.stepping })));
  }

  /** One extension handler: its program (disassembled) and, once it has been stepped, its VM's pc and r0..r10. */
  extension(nid: number, id: number): { lines: string[]; pc: number; regs: bigint[] | null } | undefined {
    const e = this.sys.existingKernel(nid)?.portals.extensions.get(id);
    if (e === undefined) return undefined;
    const vm = e.lastVm;
    return { lines: disassemble(e.prog.prog), pc: vm?.pc ?? -1, regs: vm === null ? null : Array.from({ length: 11 }, (_, i) => vm.get(i)) };
  }

  // ---- kernels ------------------------------------------------------------------

  /** Each booted kernel's counters and oops log. */
  kernelStats(): { node: number; stats: KernelStats; oopsLog: readonly string[] }[] {
    return this.sys.bootedKernels().map((k) => ({ node: k.nid, stats: { ...k.stats }, oopsLog: [...k.oopsLog] }));
  }

  // ---- memory -------------------------------------------------------------------

  /** Reads physical memory of a node. */
  physical(nid: number, addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    this.inspecting++;
    try {
      this.sys.machine.node(nid).memory.read(addr, out);
    } finally {
      this.inspecting--;
    }
    return out;
  }

  /** Reads a process's virtual memory through its page tables (EFAULT-style error if unmapped). */
  virtual(nid: number, pid: number, addr: number, len: number): Uint8Array {
    const p = this.live(nid, pid);
    this.inspecting++;
    try {
      return peekUser(this.k(nid), p, addr, len);
    } finally {
      this.inspecting--;
    }
  }

  /** Writes a process's virtual memory through its page tables (EFAULT-style error if not writable). */
  writeVirtual(nid: number, pid: number, addr: number, bytes: Uint8Array): void {
    pokeUser(this.k(nid), this.live(nid, pid), addr, bytes);
  }

  /** Writes physical memory of a node. */
  writePhysical(nid: number, addr: number, bytes: Uint8Array): void {
    this.sys.machine.node(nid).memory.write(addr, bytes);
  }

  /** Sets one register of a core. */
  setRegister(nid: number, core: number, r: Register, v: bigint): void {
    this.core(nid, core).set(r, v);
  }
}

function summary(p: Process): ProcessSummary {
  return { pid: p.pid, name: p.name, alive: p.alive, exitStatus: p.exitStatus, exitReason: p.exitReason, stdout: p.stdout.join(''), stderr: p.stderr.join(''), results: Object.fromEntries(p.results) };
}
