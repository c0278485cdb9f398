// Typed wrappers over the raw syscall, one per call in the ABI. Results are
// returned as the kernel gave them: a negative number is -errno.

import { CLOCK_MONOTONIC, RTASK, SYS } from './abi.gen.ts';
import type { Memory } from './memory.ts';
import type { U, UserCpu } from './ops.ts';
import { type Arg, syscallN } from './syscall.ts';

// The flags user programs pass, as the kernel's syscall table defines them.
export {
  CLOCK_MONOTONIC,
  CLOCK_REALTIME,
  CLONE_CHILD_CLEARTID,
  CLONE_CHILD_SETTID,
  CLONE_FILES,
  CLONE_FS,
  CLONE_PARENT_SETTID,
  CLONE_SIGHAND,
  CLONE_SYSVSEM,
  CLONE_THREAD,
  CLONE_VM,
  FUTEX_PRIVATE_FLAG,
  FUTEX_WAIT,
  FUTEX_WAKE,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_EXEC,
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
} from './abi.gen.ts';

/** rtask_create's choices: codes from RTASK (abi.gen.ts). */
export interface RtaskCreate {
  readonly image: number;
  readonly imageLen: number;
  readonly block: number;
  readonly blockLen: number;
  readonly vmAreas: number;
  readonly algorithm: number;
  readonly creation: number;
  readonly paging: number;
  readonly nms: boolean;
  readonly threads: number;
  readonly timeoutUs: number;
}

export class Sys {
  private kmsgArgs = 0;

  constructor(
    private readonly cpu: UserCpu,
    private readonly mem: Memory,
  ) {}

  /** Any call by number (for numbers the wrappers do not cover, or deliberate mistakes). */
  raw(nr: number, ...args: Arg[]): U<number> {
    // syscallN's generator itself, not one more around it: this runs on every syscall.
    return syscallN(this.cpu, nr, ...args);
  }

  *read(fd: number, buf: number, count: number): U<number> {
    return yield* this.raw(SYS.read, fd, buf, count);
  }

  *write(fd: number, buf: number, count: number): U<number> {
    return yield* this.raw(SYS.write, fd, buf, count);
  }

  /** Writes text to stdout (copying it into user memory first). */
  *print(text: string, fd = 1): U<number> {
    const s = yield* this.mem.string(text);
    const r = yield* this.write(fd, s.va, s.len);
    this.mem.release(s.va, s.len + 1);
    return r;
  }

  *mmap(addr: number, length: number, prot: number, flags: number, fd = -1, offset = 0): U<number> {
    return yield* this.raw(SYS.mmap, addr, length, prot, flags, fd, offset);
  }

  *munmap(addr: number, length: number): U<number> {
    return yield* this.raw(SYS.munmap, addr, length);
  }

  *mprotect(addr: number, length: number, prot: number): U<number> {
    return yield* this.raw(SYS.mprotect, addr, length, prot);
  }

  *brk(addr: number): U<number> {
    return yield* this.raw(SYS.brk, addr);
  }

  *schedYield(): U<number> {
    return yield* this.raw(SYS.sched_yield);
  }

  /** Sleeps for `ns` nanoseconds of simulated time. */
  *nanosleep(ns: number): U<number> {
    const ts = yield* this.mem.alloc(16);
    yield* this.mem.storeU64(ts, Math.floor(ns / 1e9));
    yield* this.mem.storeU64(ts + 8, ns % 1e9);
    const r = yield* this.raw(SYS.nanosleep, ts, 0);
    this.mem.release(ts, 16);
    return r;
  }

  *getpid(): U<number> {
    return yield* this.raw(SYS.getpid);
  }

  *gettid(): U<number> {
    return yield* this.raw(SYS.gettid);
  }

  *clone(flags: number, stack: number, parentTid: number, childTid: number, tls = 0): U<number> {
    return yield* this.raw(SYS.clone, flags, stack, parentTid, childTid, tls);
  }

  *exit(status: number): U<never> {
    yield* this.raw(SYS.exit, status);
    throw new Error('exit returned');
  }

  *exitGroup(status: number): U<never> {
    yield* this.raw(SYS.exit_group, status);
    throw new Error('exit_group returned');
  }

  *futex(uaddr: number, op: number, val: number, timeout = 0): U<number> {
    return yield* this.raw(SYS.futex, uaddr, op, val, timeout, 0, 0);
  }

  /** Simulated nanoseconds since boot (CLOCK_MONOTONIC). */
  *clockNs(): U<number> {
    const ts = yield* this.mem.alloc(16);
    const r = yield* this.raw(SYS.clock_gettime, CLOCK_MONOTONIC, ts);
    const ns = r < 0 ? r : Number(yield* this.mem.loadU64(ts)) * 1e9 + Number(yield* this.mem.loadU64(ts + 8));
    this.mem.release(ts, 16);
    return ns;
  }

  *getcpu(): U<number> {
    return yield* this.raw(SYS.lwk_getcpu);
  }

  *getnid(): U<number> {
    return yield* this.raw(SYS.lwk_getnid);
  }

  *getrank(): U<number> {
    return yield* this.raw(SYS.lwk_getrank);
  }

  *getsize(): U<number> {
    return yield* this.raw(SYS.lwk_getsize);
  }

  /** Where each rank of the job runs: {nid, pid} in rank order. */
  *jobMap(): U<{ nid: number; pid: number }[]> {
    const n = yield* this.raw(SYS.lwk_job_map, 0, 0);
    if (n <= 0) return [];
    const buf = yield* this.mem.alloc(16 * n);
    yield* this.raw(SYS.lwk_job_map, buf, n);
    const out: { nid: number; pid: number }[] = [];
    for (let i = 0; i < n; i++) out.push({ nid: Number(yield* this.mem.loadU64(buf + 16 * i)), pid: Number(yield* this.mem.loadU64(buf + 16 * i + 8)) });
    this.mem.release(buf, 16 * n);
    return out;
  }

  *setFaultHandler(va: number): U<number> {
    return yield* this.raw(SYS.lwk_set_fault_handler, va);
  }

  /** Sends a kernel-interpreted message (LOAD, STATUS or KILL); the payload must lie in one region. */
  *kmsgSend(m: { type: number; dstNid: number; dstPid: number; rank: number; jobId: number; payload: number; payloadLen: number; imageLen: number; jobSize: number }): U<number> {
    // One argument block per thread, reused: a launcher sends one message per rank.
    if (this.kmsgArgs === 0) this.kmsgArgs = yield* this.mem.alloc(9 * 8);
    const args = this.kmsgArgs;
    const words = [m.type, m.dstNid, m.dstPid, m.rank, m.jobId, m.payload, m.payloadLen, m.imageLen, m.jobSize];
    for (let i = 0; i < words.length; i++) yield* this.mem.storeU64(args + 8 * i, words[i]);
    return yield* this.raw(SYS.lwk_kmsg_send, args);
  }

  /** Waits for the next kernel message into `buf` (timeoutNs < 0: forever); bytes written or -errno. */
  *kmsgRecv(buf: number, len: number, timeoutNs: number): U<number> {
    return yield* this.raw(SYS.lwk_kmsg_recv, buf, len, BigInt.asUintN(64, BigInt(Math.trunc(timeoutNs))));
  }

  /** Replaces this rank by the image at [va, va+len); returns only on failure (-errno). */
  *exec(va: number, len: number): U<number> {
    return yield* this.raw(SYS.lwk_exec, va, len);
  }

  /** Checks an ELF image as the loader would; 0, or -errno with the reason returned. */
  *imageCheck(va: number, len: number): U<{ rc: number; reason: string }> {
    const buf = yield* this.mem.alloc(256);
    const rc = yield* this.raw(SYS.lwk_image_check, va, len, buf, 256);
    const reason = rc < 0 ? yield* this.mem.cstring(buf, 256) : '';
    this.mem.release(buf, 256);
    return { rc, reason };
  }

  /**
   * Creates a task on every rank's node of the job whose block is at
   * [block, block+blockLen), from a template of the image at [image,
   * image+imageLen) (remote tasking). Tasks created, or -errno with the reason.
   */
  *rtaskCreate(o: RtaskCreate): U<{ rc: number; reason: string }> {
    const args = yield* this.mem.alloc(8 * RTASK.ARG_WORDS);
    const reason = yield* this.mem.alloc(256);
    const words: [number, number][] = [
      [RTASK.W_IMAGE, o.image],
      [RTASK.W_IMAGE_LEN, o.imageLen],
      [RTASK.W_BLOCK, o.block],
      [RTASK.W_BLOCK_LEN, o.blockLen],
      [RTASK.W_VM_AREAS, o.vmAreas],
      [RTASK.W_ALGORITHM, o.algorithm],
      [RTASK.W_CREATION, o.creation],
      [RTASK.W_PAGING, o.paging],
      [RTASK.W_NMS, o.nms ? 1 : 0],
      [RTASK.W_THREADS, o.threads],
      [RTASK.W_TIMEOUT_US, o.timeoutUs],
      [RTASK.W_REASON, reason],
      [RTASK.W_REASON_LEN, 256],
    ];
    for (const [i, v] of words) yield* this.mem.storeU64(args + 8 * i, v);
    const rc = yield* this.raw(SYS.rtask_create, args);
    const why = rc < 0 ? yield* this.mem.cstring(reason, 256) : '';
    this.mem.release(reason, 256);
    this.mem.release(args, 8 * RTASK.ARG_WORDS);
    return { rc, reason: why };
  }

  /** Starts the tasks rtask_create made for job `jobId`. */
  *rtaskStart(jobId: number): U<number> {
    return yield* this.raw(SYS.rtask_start, jobId);
  }

  /** Terminates job `jobId`'s tasks; returns when every node has torn down its objects. */
  *rtaskTerminate(jobId: number): U<number> {
    return yield* this.raw(SYS.rtask_terminate, jobId);
  }

  *jobPhase(phase: number): U<number> {
    return yield* this.raw(SYS.lwk_job_phase, phase);
  }

  /** Publishes a named number for the run report. Integers exactly; others as doubles. */
  *publish(name: string, value: number): U<number> {
    const s = yield* this.mem.string(name);
    const dv = new DataView(new ArrayBuffer(8));
    dv.setFloat64(0, value, true);
    const r = Number.isSafeInteger(value) ? yield* this.raw(SYS.lwk_publish, s.va, s.len, BigInt(value), 0) : yield* this.raw(SYS.lwk_publish, s.va, s.len, dv.getBigUint64(0, true), 1);
    this.mem.release(s.va, s.len + 1);
    return r;
  }
}
