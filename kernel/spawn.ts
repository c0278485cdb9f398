// Process and thread creation (Kitten's create_init_task): pid and tid
// allocation, an asid and address space with every region allocated and
// mapped up front, the SysV initial stack, and the first thread queued on
// core 0. Also the asid's release when an address space is torn down.

import type { ContiguousAllocator } from '../hw/physalloc.ts';
import { AT_MARGAY_JOB, ENTRY_START, LAYOUT, type UserProgram } from './abi.ts';
import { AddressSpace } from './aspace.ts';
import { ASID_COUNT, type AsidPool } from './asid.ts';
import type { KernelContext } from './context.ts';
import type { Cpu } from './cpu.ts';
import { fail } from './errno.ts';
import { PAGE_2M, PAGE_4K } from './pagetable.ts';
import { Process, type ProcessInfo, Thread } from './process.ts';

/** Memory left free when sizing a process's heap, for page tables, mmap and further processes. */
const HEAP_SLACK = 8 * 1024 * 1024;
/** Threads one process may have. */
const MAX_THREADS = 256;

/** How a loaded process differs from an init task started directly. */
export interface SpawnOptions {
  /** The pid to use (a job's pid, the same on every node); it must not be alive. */
  readonly pid?: number;
  /** The job block, placed at the bottom of BSS (its address is in the auxv as AT_MARGAY_JOB). */
  readonly jobBlock?: Uint8Array;
  /** The job-load message the process was created from, mapped read-only at LAYOUT.IMAGE_BASE. */
  readonly image?: Uint8Array;
  /** Leave the first thread unqueued: its creator starts it later (a remote task, kernel/rtask/). */
  readonly suspended?: boolean;
}

/** Pid and tid counters of one node. */
export class TaskIds {
  private nextPid = 1;
  private nextTid = 1;

  /** The next pid not in use (a dead process's pid may be taken again by a job's pid only). */
  freePid(processes: ReadonlyMap<number, Process>): number {
    while (processes.has(this.nextPid)) this.nextPid++;
    return this.nextPid++;
  }

  tid(): number {
    return this.nextTid++;
  }
}

/** What creating processes and threads needs of the kernel. */
export interface SpawnContext extends Pick<KernelContext, 'node' | 'nid' | 'engine' | 'traceStep'> {
  readonly cpus: readonly Cpu[];
  readonly processes: Map<number, Process>;
  readonly phys: ContiguousAllocator;
  readonly asids: AsidPool;
  readonly ids: TaskIds;
}

/**
 * Creates a process running `program`: its regions are allocated and mapped
 * up front, argv/envp laid out on the stack SysV-style, and its first thread
 * queued on core 0.
 */
export function spawnProcess(k: SpawnContext, program: UserProgram, info: ProcessInfo, opts: SpawnOptions): Process {
  const pid = opts.pid ?? k.ids.freePid(k.processes);
  if (k.processes.get(pid)?.alive) fail('EBUSY', `pid ${pid} is in use`);
  const asid = allocAsid(k);
  const aspace = new AddressSpace(asid, k.node.memory, k.phys);
  try {
    const page = (n: number) => Math.max(PAGE_4K, Math.ceil(n / PAGE_4K) * PAGE_4K);
    const text = { readable: true, writable: false, executable: true };
    const rw = { readable: true, writable: true, executable: false };
    let va: number = LAYOUT.TEXT_BASE;
    const textBytes = Math.max(program.textBytes, program.text?.length ?? 0);
    const textRegion = aspace.addRegion('text', va, page(textBytes), text);
    if (program.text) k.node.memory.write(textRegion.pa, program.text);
    va += page(textBytes);
    const dataBytes = page(program.dataBytes);
    const data = aspace.addRegion('data', va, dataBytes, rw);
    if (program.data) k.node.memory.write(data.pa, program.data.subarray(0, dataBytes));
    va += dataBytes;
    const jobBlock = opts.jobBlock ?? new Uint8Array(0);
    const bss = aspace.addRegion('bss', va, page(program.bssBytes + jobBlock.length), rw);
    if (jobBlock.length > 0) k.node.memory.write(bss.pa, jobBlock);
    const jobBlockVa = jobBlock.length > 0 ? va : 0;
    va += page(program.bssBytes + jobBlock.length);
    if (opts.image) {
      const img = aspace.addRegion('image', LAYOUT.IMAGE_BASE, page(opts.image.length), { readable: true, writable: false, executable: false });
      k.node.memory.write(img.pa, opts.image);
    }
    const heapStart = Math.ceil(va / PAGE_2M) * PAGE_2M;
    // The heap is reserved up front: HEAP_RESERVE, or what a small node can spare.
    const spare = Math.floor((k.phys.freeBytes - LAYOUT.STACK_BYTES - HEAP_SLACK) / PAGE_2M) * PAGE_2M;
    const heapBytes = Math.max(PAGE_2M, Math.min(LAYOUT.HEAP_RESERVE, spare));
    aspace.addRegion('heap', heapStart, heapBytes, rw);
    aspace.brkStart = aspace.brk = heapStart;
    aspace.brkEnd = heapStart + heapBytes;
    const stack = aspace.addRegion('stack', LAYOUT.STACK_TOP - LAYOUT.STACK_BYTES, LAYOUT.STACK_BYTES, rw);
    const p = new Process(pid, program.name, aspace, info, program.instantiate(), k.engine.now);
    k.processes.set(pid, p);
    const sp = layoutStack(k, stack.pa, stack.start, stack.size, info.argv, info.envp, jobBlockVa ? [AT_MARGAY_JOB, jobBlockVa] : []);
    const t = newThread(k, p, 0);
    t.setSaved('rip', ENTRY_START);
    t.setSaved('rsp', sp);
    t.setSaved('rflags', 0x202);
    t.setSaved('cr3', aspace.cr3);
    if (!opts.suspended) {
      k.cpus[0].enqueue(t);
      if (k.cpus[0].halted) k.cpus[0].kick();
    }
    k.traceStep(k.cpus[0], 'proc', 'spawn', `pid ${pid} ${program.name} rank ${info.rank}`);
    return p;
  } catch (e) {
    teardown(k, aspace);
    throw e;
  }
}

/** An asid no other address space holds (see asid.ts); -EAGAIN when all are held. */
function allocAsid(k: SpawnContext): number {
  const asid = k.asids.alloc();
  if (asid === null) fail('EAGAIN', `all ${ASID_COUNT} address-space ids are held by live or exiting processes on node ${k.nid}`);
  // A freed asid is reused: no core may keep entries of its previous owner.
  for (const cpu of k.cpus) cpu.core.tlb.flushAsid(asid);
  return asid;
}

/**
 * Frees an address space's memory and tables, then its asid. Stale TLB
 * entries of the asid are flushed when it is next handed out (allocAsid).
 */
export function teardown(k: { readonly asids: AsidPool }, aspace: AddressSpace): void {
  aspace.destroy();
  k.asids.free(aspace.asid);
}

/** SysV initial stack: argc, argv[], NULL, envp[], NULL, auxv pairs, AT_NULL, then the strings. */
function layoutStack(k: SpawnContext, pa: number, start: number, size: number, argv: readonly string[], envp: readonly string[], auxv: readonly number[]): number {
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
    k.node.memory.write(pa + (strAt - start), s);
    ptrs.push(strAt);
    strAt += s.length;
  }
  const vec = [argv.length, ...ptrs.slice(0, argv.length), 0, ...ptrs.slice(argv.length), 0, ...auxv, 0, 0];
  const bytes = new Uint8Array(8 * vec.length);
  const dv = new DataView(bytes.buffer);
  vec.forEach((w, i) => dv.setBigUint64(8 * i, BigInt(w), true));
  k.node.memory.write(pa + (sp - start), bytes);
  return sp;
}

export function newThread(k: Pick<SpawnContext, 'ids'>, p: Process, home: number): Thread {
  if (p.threads.length >= MAX_THREADS) fail('EAGAIN', `process ${p.pid} has ${MAX_THREADS} threads`);
  const t = new Thread(k.ids.tid(), p, home);
  t.user = p.code(t.cpu);
  p.threads.push(t);
  return t;
}

/** Undoes newThread for a thread that was never started (a clone that failed after making it). */
export function discardThread(t: Thread): void {
  const i = t.process.threads.indexOf(t);
  if (i >= 0) t.process.threads.splice(i, 1);
  t.state = 'dead';
  t.user = null;
}
