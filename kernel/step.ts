// Kernel paths are generators of directives. A step names what the kernel
// is doing and what it costs; the core charges the cycles, emits a trace
// record and resumes the path when the step is over. `block` suspends the
// current thread (the path continues when it is woken, with the wake value);
// `spin` keeps the core busy in the kernel until a condition holds.

/**
 * Every kernel path that takes steps, with what it covers: the one list of
 * trace path names. A step, a trace record, a breakpoint pattern and a trace
 * filter name one of these; docs/MONITOR.md's list is generated from it.
 */
export const TRACE_PATHS = {
  boot: 'the kernel finished booting its node',
  syscall: 'the syscall trap: entry, dispatch to the handler, exit, and the small calls done in the trap',
  uaccess: 'copies between user memory and the kernel (copyin, copyout)',
  mm: 'address-space changes: mmap, mprotect, unmap, brk',
  fault: 'page faults: entry, decode, a user-level handler (upcall), kill',
  proc: 'processes and threads: spawn, clone, exit, exit_group',
  sched: 'the scheduler: context switch, quantum, yield, urgent wake, resched IPI',
  spin: 'a core waiting in the kernel until a condition holds (the step names what)',
  timer: 'the APIC timer: sleep, expiry',
  futex: 'futex wait and wake',
  irq: 'interrupt entry, EOI and unhandled vectors',
  ipi: 'inter-processor interrupts sent',
  nmi: 'non-maskable interrupts: entry, handler, exit',
  xcall: 'cross-calls: send, run on the target, done',
  tlb: 'TLB flushes, invlpg and shootdowns',
  nic: 'the NIC: completions handed to the kernel, messages dropped',
  portals: 'Portals: send, match, deposit, atomics, acks, replies, events, triggers, search',
  ext: 'eBPF extensions: attach, reject, run, single instructions',
  jobctl: 'kernel messages (job control): send, receive, status, kill, exit fan-in, phases',
  jobload: 'job load: image verify, create, ack, nack, exec, image check',
  console: 'console output',
  oops: 'a host exception inside a kernel path (a kernel bug): the process dies',
} as const;

export type TracePath = keyof typeof TRACE_PATHS;

/** Whether `name` is a kernel path that takes steps. */
export function isTracePath(name: string): name is TracePath {
  return Object.hasOwn(TRACE_PATHS, name);
}

export interface KStep {
  readonly kind: 'step';
  readonly path: TracePath;
  readonly step: string;
  readonly cycles: number;
  readonly detail: string;
}

export interface KBlock {
  readonly kind: 'block';
}

export interface KSpin {
  readonly kind: 'spin';
  readonly until: () => boolean;
  readonly what: string;
}

export type KDirective = KStep | KBlock | KSpin;

/** A kernel path returning T. */
export type KPath<T = void> = Generator<KDirective, T, unknown>;

/** A step directive; use as `yield step(...)` inside a kernel path. */
export function step(path: TracePath, name: string, cycles: number, detail = ''): KStep {
  return { kind: 'step', path, step: name, cycles, detail };
}

const BLOCK: KBlock = { kind: 'block' };

/** Suspends the calling thread until someone wakes it; returns the wake value. */
export function* block(): KPath<unknown> {
  return yield BLOCK;
}

export function* spin(what: string, until: () => boolean): KPath {
  if (!until()) yield { kind: 'spin', until, what };
}
