// The system-call table: the one source of truth for every call's number,
// name, arguments and result. The kernel's dispatch table, the user-side
// numbers (userland/lib/abi.gen.ts) and docs/ABI.md are generated or checked
// from it. Linux x86-64 numbers where Linux has the call; LWK calls from 500
// (Kitten's convention); Portals from 600; extensions from 700.

/**
 * How an argument register is read. The kernel checks every argument by its
 * type before the handler runs (syscalls/context.ts, checkArgs): int, size,
 * offset and timeout must be exact in a JS number (-EINVAL), ptr a user
 * address (-EFAULT), fd a C int (-EBADF), flags 32 bits (-EINVAL); uint is
 * any 64-bit value.
 */
export type ArgType = 'int' | 'uint' | 'size' | 'offset' | 'timeout' | 'ptr' | 'fd' | 'flags';

/**
 * Flag and operation values of the calls that take them (Linux x86-64
 * values), named with their group's prefix. The kernel's handlers test these
 * and userland/lib/abi.gen.ts carries them to user programs; a call's `flags`
 * column names the groups it reads.
 */
export const FLAGS = {
  PROT_NONE: 0,
  PROT_READ: 1,
  PROT_WRITE: 2,
  PROT_EXEC: 4,
  MAP_SHARED: 0x01,
  MAP_PRIVATE: 0x02,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  FUTEX_WAIT: 0,
  FUTEX_WAKE: 1,
  FUTEX_PRIVATE_FLAG: 128,
  CLOCK_REALTIME: 0,
  CLOCK_MONOTONIC: 1,
  /** clone: only CLONE_VM|CLONE_THREAD is required; FS, FILES, SIGHAND and SYSVSEM are accepted (one address space, nothing else to share). */
  CLONE_VM: 0x100,
  CLONE_FS: 0x200,
  CLONE_FILES: 0x400,
  CLONE_SIGHAND: 0x800,
  CLONE_THREAD: 0x10000,
  CLONE_SYSVSEM: 0x40000,
  CLONE_PARENT_SETTID: 0x100000,
  CLONE_CHILD_CLEARTID: 0x200000,
  CLONE_CHILD_SETTID: 0x1000000,
} as const;

export const FLAG_GROUPS = ['PROT', 'MAP', 'FUTEX', 'CLOCK', 'CLONE'] as const;
export type FlagGroup = (typeof FLAG_GROUPS)[number];

export interface SyscallSpec {
  readonly nr: number;
  readonly name: string;
  readonly args: readonly (readonly [string, ArgType])[];
  readonly returns: string;
  readonly doc: string;
  /** The flag groups (FLAGS) the call reads. */
  readonly flags?: readonly FlagGroup[];
}

export const SYSCALLS = [
  { nr: 0, name: 'read', args: [['fd', 'fd'], ['buf', 'ptr'], ['count', 'size']], returns: 'bytes read', doc: 'read from a file descriptor; fd 0 is an empty console (returns 0)' },
  { nr: 1, name: 'write', args: [['fd', 'fd'], ['buf', 'ptr'], ['count', 'size']], returns: 'bytes written', doc: 'write to fd 1 (stdout) or 2 (stderr); registered by the console driver at boot' },
  { nr: 9, name: 'mmap', args: [['addr', 'ptr'], ['length', 'size'], ['prot', 'flags'], ['flags', 'flags'], ['fd', 'fd'], ['offset', 'offset']], returns: 'address', doc: 'anonymous private or shared mapping backed by contiguous memory, zeroed; MAP_FIXED replaces, -EINVAL over the kernel DSM window', flags: ['PROT', 'MAP'] },
  { nr: 10, name: 'mprotect', args: [['addr', 'ptr'], ['length', 'size'], ['prot', 'flags']], returns: '0', doc: 'change protection; shoots down stale TLB entries on other cores; -EINVAL over the kernel DSM window (at the dsm_attach address, 1 GiB)', flags: ['PROT'] },
  { nr: 11, name: 'munmap', args: [['addr', 'ptr'], ['length', 'size']], returns: '0', doc: 'unmap; shoots down stale TLB entries, then frees the frames; -EINVAL over the kernel DSM window (dsm_detach gives the region up)' },
  { nr: 12, name: 'brk', args: [['addr', 'ptr']], returns: 'new break', doc: 'move the program break within the heap reserved at creation; 0 queries' },
  { nr: 24, name: 'sched_yield', args: [], returns: '0', doc: 'let the next runnable thread on this core run' },
  { nr: 35, name: 'nanosleep', args: [['req', 'ptr'], ['rem', 'ptr']], returns: '0', doc: 'sleep for a struct timespec; woken by the APIC timer' },
  { nr: 39, name: 'getpid', args: [], returns: 'pid', doc: 'process id' },
  { nr: 56, name: 'clone', args: [['flags', 'flags'], ['stack', 'ptr'], ['parent_tid', 'ptr'], ['child_tid', 'ptr'], ['tls', 'uint']], returns: 'tid (0 in the child)', doc: 'new thread (CLONE_VM|CLONE_THREAD required) on the least loaded core', flags: ['CLONE'] },
  { nr: 60, name: 'exit', args: [['status', 'int']], returns: 'does not return', doc: 'end the calling thread; the process ends with its last thread' },
  { nr: 186, name: 'gettid', args: [], returns: 'tid', doc: 'thread id' },
  { nr: 202, name: 'futex', args: [['uaddr', 'ptr'], ['op', 'int'], ['val', 'uint'], ['timeout', 'ptr'], ['uaddr2', 'ptr'], ['val3', 'uint']], returns: '0 or woken count', doc: 'FUTEX_WAIT (with optional relative timeout) and FUTEX_WAKE', flags: ['FUTEX'] },
  { nr: 228, name: 'clock_gettime', args: [['clock', 'int'], ['tp', 'ptr']], returns: '0', doc: 'CLOCK_REALTIME and CLOCK_MONOTONIC: simulated time since boot', flags: ['CLOCK'] },
  { nr: 231, name: 'exit_group', args: [['status', 'int']], returns: 'does not return', doc: 'end every thread of the process' },
  { nr: 500, name: 'lwk_getcpu', args: [], returns: 'core', doc: 'the core the caller runs on' },
  { nr: 501, name: 'lwk_getnid', args: [], returns: 'node id', doc: 'the node the caller runs on' },
  { nr: 502, name: 'lwk_getrank', args: [], returns: 'rank', doc: 'the rank of the process in its job' },
  { nr: 503, name: 'lwk_getsize', args: [], returns: 'ranks', doc: 'the number of ranks in the job' },
  { nr: 504, name: 'lwk_aspace_regions', args: [['buf', 'ptr'], ['max', 'size']], returns: 'regions', doc: 'write up to max records {start, end, phys, flags} (4 x u64) describing the address space' },
  { nr: 505, name: 'lwk_task_info', args: [['tid', 'int'], ['buf', 'ptr']], returns: '0', doc: 'write {tid, core, state, user ops} (4 x u64) for a thread of the caller\'s process' },
  { nr: 506, name: 'lwk_set_fault_handler', args: [['handler', 'ptr']], returns: 'previous handler', doc: 'install a user-level page-fault handler (0 removes it)' },
  { nr: 507, name: 'lwk_publish', args: [['name', 'ptr'], ['len', 'size'], ['value', 'uint'], ['kind', 'int']], returns: '0', doc: 'publish a named result for the run report (kind 0: signed integer, 1: IEEE double bits)' },
  { nr: 509, name: 'lwk_job_map', args: [['buf', 'ptr'], ['max', 'size']], returns: 'ranks', doc: 'write up to max {nid, pid} pairs (2 x u64), one per rank of the caller\'s job, in rank order' },
  { nr: 510, name: 'lwk_sched_urgent', args: [['on', 'int']], returns: '0', doc: 'mark the calling thread urgent: when woken it preempts the thread running on its core at the next return to user mode (a user-level handler run by an interrupt)' },
  { nr: 508, name: 'lwk_tlb_stats', args: [['buf', 'ptr']], returns: '0', doc: 'write {hits, misses, flushes, invalidations} (4 x u64) of the caller\'s core TLB' },
  { nr: 520, name: 'lwk_kmsg_send', args: [['args', 'ptr']], returns: '0', doc: 'send a kernel-interpreted message: args -> {type (LOAD, STATUS or KILL), dst_nid, dst_pid, rank, job_id, payload*, payload_len, image_len, job_size} (9 x u64); the payload must be physically contiguous (one region); replies arrive in the mailbox' },
  { nr: 521, name: 'lwk_kmsg_recv', args: [['buf', 'ptr'], ['len', 'size'], ['timeout_ns', 'timeout']], returns: 'bytes written', doc: 'wait for the next kernel message for this process (timeout_ns < 0: forever, 0: poll); writes KMSG.RECORD_WORDS u64 words, then the payload (a reason or a status dump); -ETIMEDOUT, -EAGAIN when polling an empty mailbox' },
  { nr: 522, name: 'lwk_exec', args: [['image', 'ptr'], ['len', 'size']], returns: 'does not return', doc: 'replace the calling (single-threaded) rank of a loaded job by the ELF image at image: same pid, same job, argv/envp and job block carried over; -ENOEXEC with the reason in the trace if the image is bad' },
  { nr: 524, name: 'lwk_image_check', args: [['image', 'ptr'], ['len', 'size'], ['reason', 'ptr'], ['reason_len', 'size']], returns: '0', doc: 'check an ELF image as the loader would (headers, segments, note, content hash, known code) without running it; -ENOEXEC with the reason (NUL-terminated, truncated) in reason' },
  // Kernel DSM (kernel/dsm/): a job's shared region, sequentially consistent, served in the kernel.
  { nr: 540, name: 'dsm_create', args: [['bytes', 'size']], returns: '0', doc: "collective over the job: every rank creates its part of the job's shared region (bytes rounded up to 4 KiB pages, at most 1 GiB, one rank per node) and waits for all; -EINVAL if the ranks ask for different sizes or one cannot create its part or two ranks share a node, -ESRCH if rank 0 ends without creating, -EAGAIN if rank 0's node has 65536 creates pending, -EEXIST if it exists" },
  { nr: 541, name: 'dsm_attach', args: [], returns: 'region address', doc: "map the caller's job's region (the same address on every rank); -ENOENT if the job has none on this node or this rank detached, -EBUSY if another process has it attached" },
  { nr: 542, name: 'dsm_detach', args: [], returns: '0', doc: "unmap the region (shooting down stale TLB entries) and release the locks held, for good; this node keeps serving its pages until every rank has detached, then every node frees its frames; exit detaches" },
  { nr: 543, name: 'dsm_lock', args: [['id', 'int']], returns: '0', doc: 'acquire global lock id (0 to 2^31-1) of the region, waiting in request order at its manager (rank id mod ranks); -EBUSY if this rank holds it, -ESRCH if a rank ended holding it (the lock is broken for good)' },
  { nr: 544, name: 'dsm_unlock', args: [['id', 'int']], returns: '0', doc: 'release global lock id; -EPERM if this rank does not hold it' },
  { nr: 545, name: 'dsm_barrier', args: [], returns: '0', doc: 'wait until every rank of the job has entered the same barrier (counted by rank 0); -ESRCH if a rank left the region (detached or ended) before entering it' },
  { nr: 546, name: 'dsm_stats', args: [['buf', 'ptr']], returns: '0', doc: 'write this rank\'s counters (10 x u64): faults, read faults, write faults, invalidations, DSM syscalls, messages sent, fault ns (sum), requests served, grants, page bytes sent' },
  { nr: 550, name: 'rtask_create', args: [['args', 'ptr']], returns: 'tasks created', doc: "create a task on every rank's node of the job whose block is given, from a template of the image (remote tasking, docs/REMOTE-TASKING.md): args -> {image*, image_len, block*, block_len, vm_areas, algorithm (0 ntc, 1 crtc), creation (0 flat, 1 flat-mt, 2 tree), paging (0 flat, 1 tree), nms, threads, timeout_us, reason*, reason_len} (13 x u64); the caller must be the launcher the block names; pages are not copied (copy on reference); the tasks wait for rtask_start; -EIO with the reason (naming the node) in reason after tearing down the tasks created, -ENOEXEC for a bad image, -EPERM, -EEXIST, -EINVAL" },
  { nr: 551, name: 'rtask_start', args: [['job_id', 'int']], returns: '0', doc: "start the tasks rtask_create made (the start follows the creation tree); -ESRCH for no such job from this node, -EPERM if another process created it, -EBUSY if started" },
  { nr: 552, name: 'rtask_terminate', args: [['job_id', 'int']], returns: 'tasks terminated', doc: "terminate the job's tasks one after another (last rank first) and wait until every node has torn down its VM objects; -ESRCH, -EPERM as rtask_start" },
  // Mach-style ports across nodes (kernel/ipc/): names are per task; a name the task was not given, or freed since, is -EBADF.
  { nr: 560, name: 'ipc_port_alloc', args: [['flags', 'int']], returns: 'receive right name', doc: 'make a port whose receive right the caller holds (on this node); flags: IPC_NMS (1) asks for a No More Senders notification when the last send right anywhere goes (the nodes holding send rights then update the count at this node: extra messages); -ENOSPC' },
  { nr: 561, name: 'ipc_make_send', args: [['name', 'int']], returns: 'send right name', doc: 'a new send right to the port whose receive right is `name`; -EBADF, -EPERM (not a receive right)' },
  { nr: 562, name: 'ipc_dealloc', args: [['name', 'int']], returns: '0', doc: 'give up a right: a receive right destroys the port (queued RPCs and waiting receivers get -ECONNREFUSED), a send-once right answers its RPC with -ECONNREFUSED; the name is dead from then on; -EBADF' },
  { nr: 563, name: 'ipc_publish', args: [['name', 'int'], ['key', 'int']], returns: '0', doc: 'publish the port whose receive right is `name` under key (0 to 2^31-1) in this node\'s name server; -EEXIST if a live port has that key' },
  { nr: 564, name: 'ipc_lookup', args: [['nid', 'int'], ['key', 'int'], ['timeout_ns', 'timeout']], returns: 'send right name', doc: 'a send right to the port published under key on node nid (a request to that node\'s kernel); a key not yet published waits there (no polling) and is answered when it is published, or refused with -ENOENT after timeout_ns (at least 100 ms, LOOKUP_WAIT_MIN_NS; at most 60 s, LOOKUP_WAIT_MAX_NS, else -EINVAL); -EAGAIN when the caller\'s uid already has 4 lookups in progress at that node (MAX_WAITING_LOOKUPS); -EHOSTUNREACH (down, or hung: no answer 1 s past the wait), -EINVAL' },
  { nr: 565, name: 'ipc_send', args: [['name', 'int'], ['buf', 'ptr'], ['nwords', 'size'], ['carry', 'int']], returns: '0', doc: 'send nwords (0 to 6) 64-bit words from buf to the port of send right `name`, carrying a send right to the port of right `carry` (-1: none); asynchronous across nodes; -EBADF, -EPERM, -ECONNREFUSED (a dead local port)' },
  { nr: 566, name: 'ipc_receive', args: [['name', 'int'], ['buf', 'ptr'], ['max', 'size']], returns: 'words', doc: 'wait for a message on the port of receive right `name`; writes {kind (0 message, 1 no-more-senders, 2 port-dead), carried send right name or -1, reply (send-once) right name or -1, words...} to buf (max words in all, at least 3); -EBADF, -EPERM, -ECONNREFUSED' },
  { nr: 567, name: 'ipc_rpc', args: [['name', 'int'], ['buf', 'ptr'], ['nwords', 'size'], ['rbuf', 'ptr'], ['rmax', 'size']], returns: 'reply words', doc: 'send nwords from buf with a send-once reply right to a new reply port and wait for the answer, whose first rmax words go to rbuf; -ECONNREFUSED if the port or the answering task died, -EBADF, -EPERM' },
  { nr: 568, name: 'ipc_reply', args: [['reply', 'int'], ['buf', 'ptr'], ['nwords', 'size']], returns: '0', doc: 'answer an RPC through the send-once right `reply` (used up); -EBADF, -EPERM' },
  { nr: 523, name: 'lwk_job_phase', args: [['phase', 'int']], returns: '0', doc: 'crt0 reports entering main (1) and main returning (2), for the job report\'s phase times; -ESRCH outside a loaded job' },
  // Portals 4: each call takes a pointer to its arguments as 64-bit words, in the C API's order
  // (pointers are user addresses); kernel/portals/calls.ts reads them.
  { nr: 600, name: 'ptl_init', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlInit()' },
  { nr: 601, name: 'ptl_fini', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlFini()' },
  { nr: 602, name: 'ptl_ni_init', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlNIInit(iface, options, pid, desired*, actual*, ni_handle*)' },
  { nr: 603, name: 'ptl_ni_fini', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlNIFini(ni)' },
  { nr: 604, name: 'ptl_ni_status', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlNIStatus(ni, register, status*)' },
  { nr: 605, name: 'ptl_ni_handle', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlNIHandle(handle, ni*)' },
  { nr: 606, name: 'ptl_set_map', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlSetMap(ni, size, mapping*)' },
  { nr: 607, name: 'ptl_get_map', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlGetMap(ni, size, mapping*, actual_size*)' },
  { nr: 608, name: 'ptl_get_uid', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlGetUid(ni, uid*)' },
  { nr: 609, name: 'ptl_get_id', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlGetId(ni, id*)' },
  { nr: 610, name: 'ptl_pt_alloc', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlPTAlloc(ni, options, eq, index, index*)' },
  { nr: 611, name: 'ptl_pt_free', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlPTFree(ni, index)' },
  { nr: 612, name: 'ptl_pt_disable', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlPTDisable(ni, index)' },
  { nr: 613, name: 'ptl_pt_enable', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlPTEnable(ni, index)' },
  { nr: 614, name: 'ptl_eq_alloc', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlEQAlloc(ni, count, eq*)' },
  { nr: 615, name: 'ptl_eq_free', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlEQFree(eq)' },
  { nr: 616, name: 'ptl_eq_get', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlEQGet(eq, event*)' },
  { nr: 617, name: 'ptl_eq_wait', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlEQWait(eq, event*)' },
  { nr: 618, name: 'ptl_eq_poll', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlEQPoll(eqs*, size, timeout_ms, event*, which*)' },
  { nr: 619, name: 'ptl_ct_alloc', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTAlloc(ni, ct*)' },
  { nr: 620, name: 'ptl_ct_free', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTFree(ct)' },
  { nr: 621, name: 'ptl_ct_get', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTGet(ct, ct_event*)' },
  { nr: 622, name: 'ptl_ct_wait', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTWait(ct, test, ct_event*)' },
  { nr: 623, name: 'ptl_ct_poll', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTPoll(cts*, tests*, size, timeout_ms, ct_event*, which*)' },
  { nr: 624, name: 'ptl_ct_set', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTSet(ct, success, failure)' },
  { nr: 625, name: 'ptl_ct_inc', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTInc(ct, success, failure)' },
  { nr: 626, name: 'ptl_ct_cancel_triggered', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlCTCancelTriggered(ct)' },
  { nr: 627, name: 'ptl_md_bind', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlMDBind(ni, md*, md_handle*)' },
  { nr: 628, name: 'ptl_md_release', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlMDRelease(md)' },
  { nr: 629, name: 'ptl_append', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlMEAppend/PtlLEAppend(ni, pt, entry*, list, user_ptr, handle*, is_le)' },
  { nr: 630, name: 'ptl_unlink', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlMEUnlink/PtlLEUnlink(handle)' },
  { nr: 631, name: 'ptl_search', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlMESearch/PtlLESearch(ni, pt, entry*, search_op, user_ptr, is_le)' },
  { nr: 632, name: 'ptl_put', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlPut(md, local_offset, length, ack_req, target*, pt, match_bits, remote_offset, user_ptr, hdr_data)' },
  { nr: 633, name: 'ptl_get', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlGet(md, local_offset, length, target*, pt, match_bits, remote_offset, user_ptr)' },
  { nr: 634, name: 'ptl_atomic', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlAtomic(md, local_offset, length, ack_req, target*, pt, match_bits, remote_offset, user_ptr, hdr_data, op, type)' },
  { nr: 635, name: 'ptl_fetch_atomic', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlFetchAtomic(get_md, get_offset, put_md, put_offset, length, target*, pt, match_bits, remote_offset, user_ptr, hdr_data, op, type)' },
  { nr: 636, name: 'ptl_swap', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlSwap(get_md, get_offset, put_md, put_offset, length, target*, pt, match_bits, remote_offset, user_ptr, hdr_data, operand*, op, type)' },
  { nr: 637, name: 'ptl_triggered', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlTriggered{Put,Get,Atomic,FetchAtomic,Swap}(kind, block*, ct, threshold): the operation block, run when ct reaches threshold' },
  { nr: 638, name: 'ptl_triggered_ct', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlTriggeredCTInc/Set(ct, success, failure, trigger_ct, threshold, is_set)' },
  { nr: 639, name: 'ptl_start_bundle', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlStartBundle(ni)' },
  { nr: 640, name: 'ptl_end_bundle', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlEndBundle(ni)' },
  { nr: 641, name: 'ptl_handle_is_equal', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlHandleIsEqual(a, b): 1 or 0' },
  { nr: 642, name: 'ptl_atomic_sync', args: [['args', 'ptr']], returns: 'PTL_* code', doc: 'PtlAtomicSync()' },
  // Extensions: verified eBPF handlers attached to Portals match entries.
  { nr: 700, name: 'ext_attach', args: [['args', 'ptr']], returns: 'extension id', doc: 'ext_attach(code*, code_len, format (0 bytecode, 1 ELF, 2 assembly text), section*, section_len, me_handle, region*, region_len, payload_max, engine (0 interp, 1 jit), err*, err_len): verify a handler and attach it to an ME; -EINVAL with the verifier\'s reason in err' },
  { nr: 701, name: 'ext_stats', args: [['id', 'int'], ['buf', 'ptr']], returns: '0', doc: 'write {runs, instructions, drops, forwards, faults} (5 x u64) of one of the caller\'s extensions' },
  // U-Net (hw/unet/): endpoint and channel set-up only; sends and receives never trap.
  { nr: 720, name: 'unet_create', args: [['seg', 'ptr'], ['len', 'size'], ['entries', 'int'], ['flags', 'flags']], returns: 'endpoint handle (1, 2, ... in each process)', doc: 'make [seg, seg+len) (page aligned, writable, in one region, so physically contiguous) the communication segment of a new U-Net endpoint with `entries` slots per queue (layout in userland/lib/unet.gen.ts); pins it; flags: UNET_UPCALL (1) raises the upcall when the receive queue becomes non-empty; UNET_USER_UPCALL (2) also diverts a computation of the owner that the upcall interrupts into its message handler (interrupt-driven Active Messages)' },
  { nr: 721, name: 'unet_destroy', args: [['ep', 'int']], returns: '0', doc: 'the NIC forgets the endpoint and its channels at once; the segment is unpinned and stays mapped' },
  { nr: 722, name: 'unet_open', args: [['ep', 'int'], ['chan', 'int'], ['peer_nid', 'int'], ['peer_pid', 'int'], ['peer_ep', 'int'], ['peer_chan', 'int']], returns: '0', doc: 'open channel chan of ep to channel peer_chan of endpoint peer_ep of process peer_pid on node peer_nid; both kernels assign their receive tag and check (by a kernel message) that the peer exists and belongs to the same user; opening both ends is allowed (the second open finds the channel open); -ECONNREFUSED (also for a process of another user: no oracle of other users\' pids), -EBUSY, -EHOSTUNREACH' },
  { nr: 723, name: 'unet_close', args: [['ep', 'int'], ['chan', 'int']], returns: '0', doc: 'close a channel at this end: its tag is forgotten and the peer\'s kernel is told, which closes the peer\'s end, so the peer\'s later sends come back BAD_CHANNEL in its send queue (those already on the wire are dropped and counted by this NIC)' },
  { nr: 724, name: 'unet_wait', args: [['ep', 'int'], ['timeout_ns', 'timeout']], returns: '0', doc: 'block until the receive queue of an endpoint created with UNET_UPCALL is non-empty (woken by the upcall interrupt); timeout_ns < 0 waits forever, 0 polls; -ETIMEDOUT, -EAGAIN' },
] as const satisfies readonly SyscallSpec[];

export type SyscallName = (typeof SYSCALLS)[number]['name'];

export const SYSCALL_BY_NR: ReadonlyMap<number, SyscallSpec> = new Map(SYSCALLS.map((s) => [s.nr, s]));

export const SYSCALL_NR: Readonly<Record<SyscallName, number>> = Object.fromEntries(SYSCALLS.map((s) => [s.name, s.nr])) as Record<SyscallName, number>;
