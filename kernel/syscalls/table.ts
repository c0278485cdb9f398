// The system-call table: the one source of truth for every call's number,
// name, arguments and result. The kernel's dispatch table, the user-side
// numbers (userland/lib/abi.gen.ts) and docs/ABI.md are generated or checked
// from it. Linux x86-64 numbers where Linux has the call; LWK calls from 500
// (Kitten's convention); Portals from 600; extensions from 700.

export type ArgType = 'int' | 'uint' | 'size' | 'ptr' | 'fd' | 'flags';

export interface SyscallSpec {
  readonly nr: number;
  readonly name: string;
  readonly args: readonly (readonly [string, ArgType])[];
  readonly returns: string;
  readonly doc: string;
}

export const SYSCALLS = [
  { nr: 0, name: 'read', args: [['fd', 'fd'], ['buf', 'ptr'], ['count', 'size']], returns: 'bytes read', doc: 'read from a file descriptor; fd 0 is an empty console (returns 0)' },
  { nr: 1, name: 'write', args: [['fd', 'fd'], ['buf', 'ptr'], ['count', 'size']], returns: 'bytes written', doc: 'write to fd 1 (stdout) or 2 (stderr); registered by the console driver at boot' },
  { nr: 9, name: 'mmap', args: [['addr', 'ptr'], ['length', 'size'], ['prot', 'flags'], ['flags', 'flags'], ['fd', 'fd'], ['offset', 'size']], returns: 'address', doc: 'anonymous private or shared mapping backed by contiguous memory, zeroed; MAP_FIXED replaces' },
  { nr: 10, name: 'mprotect', args: [['addr', 'ptr'], ['length', 'size'], ['prot', 'flags']], returns: '0', doc: 'change protection; shoots down stale TLB entries on other cores' },
  { nr: 11, name: 'munmap', args: [['addr', 'ptr'], ['length', 'size']], returns: '0', doc: 'unmap; shoots down stale TLB entries, then frees the frames' },
  { nr: 12, name: 'brk', args: [['addr', 'ptr']], returns: 'new break', doc: 'move the program break within the heap reserved at creation; 0 queries' },
  { nr: 24, name: 'sched_yield', args: [], returns: '0', doc: 'let the next runnable thread on this core run' },
  { nr: 35, name: 'nanosleep', args: [['req', 'ptr'], ['rem', 'ptr']], returns: '0', doc: 'sleep for a struct timespec; woken by the APIC timer' },
  { nr: 39, name: 'getpid', args: [], returns: 'pid', doc: 'process id' },
  { nr: 56, name: 'clone', args: [['flags', 'flags'], ['stack', 'ptr'], ['parent_tid', 'ptr'], ['child_tid', 'ptr'], ['tls', 'uint']], returns: 'tid (0 in the child)', doc: 'new thread (CLONE_VM|CLONE_THREAD required) on the least loaded core' },
  { nr: 60, name: 'exit', args: [['status', 'int']], returns: 'does not return', doc: 'end the calling thread; the process ends with its last thread' },
  { nr: 186, name: 'gettid', args: [], returns: 'tid', doc: 'thread id' },
  { nr: 202, name: 'futex', args: [['uaddr', 'ptr'], ['op', 'int'], ['val', 'uint'], ['timeout', 'ptr'], ['uaddr2', 'ptr'], ['val3', 'uint']], returns: '0 or woken count', doc: 'FUTEX_WAIT (with optional relative timeout) and FUTEX_WAKE' },
  { nr: 228, name: 'clock_gettime', args: [['clock', 'int'], ['tp', 'ptr']], returns: '0', doc: 'CLOCK_REALTIME and CLOCK_MONOTONIC: simulated time since boot' },
  { nr: 231, name: 'exit_group', args: [['status', 'int']], returns: 'does not return', doc: 'end every thread of the process' },
  { nr: 500, name: 'lwk_getcpu', args: [], returns: 'core', doc: 'the core the caller runs on' },
  { nr: 501, name: 'lwk_getnid', args: [], returns: 'node id', doc: 'the node the caller runs on' },
  { nr: 502, name: 'lwk_getrank', args: [], returns: 'rank', doc: 'the rank of the process in its job' },
  { nr: 503, name: 'lwk_getsize', args: [], returns: 'ranks', doc: 'the number of ranks in the job' },
  { nr: 504, name: 'lwk_aspace_regions', args: [['buf', 'ptr'], ['max', 'size']], returns: 'regions', doc: 'write up to max records {start, end, phys, flags} (4 x u64) describing the address space' },
  { nr: 505, name: 'lwk_task_info', args: [['tid', 'int'], ['buf', 'ptr']], returns: '0', doc: 'write {tid, core, state, user ops} (4 x u64) for a thread of the caller\'s process' },
  { nr: 506, name: 'lwk_set_fault_handler', args: [['handler', 'ptr']], returns: 'previous handler', doc: 'install a user-level page-fault handler (0 removes it)' },
  { nr: 507, name: 'lwk_publish', args: [['name', 'ptr'], ['len', 'size'], ['value', 'uint'], ['kind', 'int']], returns: '0', doc: 'publish a named result for the run report (kind 0: signed integer, 1: IEEE double bits)' },
  { nr: 508, name: 'lwk_tlb_stats', args: [['buf', 'ptr']], returns: '0', doc: 'write {hits, misses, flushes, invalidations} (4 x u64) of the caller\'s core TLB' },
] as const satisfies readonly SyscallSpec[];

export type SyscallName = (typeof SYSCALLS)[number]['name'];

export const SYSCALL_BY_NR: ReadonlyMap<number, SyscallSpec> = new Map(SYSCALLS.map((s) => [s.nr, s]));

export const SYSCALL_NR: Readonly<Record<SyscallName, number>> = Object.fromEntries(SYSCALLS.map((s) => [s.name, s.nr])) as Record<SyscallName, number>;
