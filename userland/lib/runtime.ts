// The user runtime: crt0 and thread start-up. A program is a `main`
// generator; `program()` turns it into loadable code. The kernel "jumps" to
// the code with rip at the entry point: the first thread reads argc, argv
// and envp off its stack (SysV layout), calls main and exits with its
// status; a thread made by clone finds its function and argument at the top
// of its new stack, as libc's clone trampoline does.
//
// A process created by the job loader also finds the job block (nid map and
// job parameters) at the bottom of its BSS, its address in the auxv; crt0
// reads it into env.job, runs the load protocol itself when init is linked
// into the executable (one-phase), and reports main's start and end.
//
// Program state belongs in simulated memory or in locals: a module-level
// variable would be shared by every process on every node.

import { createHash } from 'node:crypto';
import type { UserCode, UserProgram } from '../../kernel/abi.ts';
import { AT_MARGAY_JOB, ENTRY_START, JOB_BLOCK, KMSG, LAYOUT } from './abi.gen.ts';
import { type JobInfo, decodeJobBlock } from './jobblock.ts';
import { loadSubtree } from './loader.ts';
import { type FaultHandler, Memory, type MessageHandler, ProcessShared } from './memory.ts';
import { type U, type UserCpu, asThread, isMessageUpcall, nameThread } from './ops.ts';
import { CLONE_CHILD_CLEARTID, CLONE_FILES, CLONE_FS, CLONE_PARENT_SETTID, CLONE_SIGHAND, CLONE_SYSVSEM, CLONE_THREAD, CLONE_VM, FUTEX_WAIT, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './abi.gen.ts';
import { Sys } from './sys.ts';

/** The flags pthread_create passes to clone (glibc's, less CLONE_SETTLS). */
export const CLONE_THREAD_FLAGS = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
export const THREAD_STACK = 256 * 1024;

export interface ThreadHandle {
  readonly tid: number;
  /** Holds the tid until the thread exits, then 0 (CLONE_CHILD_CLEARTID). */
  readonly tidWord: number;
  /** The thread's stack, THREAD_STACK bytes: join leaves it mapped; the spawner may munmap it after join. */
  readonly stack: number;
}

export interface Env {
  readonly argv: readonly string[];
  readonly envp: readonly string[];
  readonly sys: Sys;
  readonly mem: Memory;
  readonly cpu: UserCpu;
  /** Works for `cycles` cycles. */
  compute(cycles: number): U;
  /** Starts `fn(env, arg)` on a new thread (on the least loaded core). */
  spawn(fn: ThreadFn, arg?: number): U<ThreadHandle>;
  /** Waits for a thread to exit. */
  join(h: ThreadHandle): U;
  /** Installs a user-level page-fault handler; the faulting access is retried after it returns. */
  onFault(handler: FaultHandler): U;
  /** Installs the handler a message upcall runs (endpoints created with UNET_USER_UPCALL); the interrupted computation goes on after it returns. */
  onMessage(handler: MessageHandler): void;
  /** The job block, when the job loader created this process (null when started directly). */
  readonly job: JobInfo | null;
  /** Where the data segment starts (a program's initial data, e.g. yod's image store). */
  readonly dataVa: number;
}

export type Main = (env: Env) => U<number | void>;
export type ThreadFn = (env: Env, arg: number) => U<number | void>;

export interface ProgramOptions {
  readonly textBytes?: number;
  readonly dataBytes?: number;
  readonly bssBytes?: number;
  readonly data?: Uint8Array;
  /** The program is the job loader's init, not the job's main (crt0 then reports no main phases). */
  readonly loader?: boolean;
}

export function program(name: string, main: Main, opts: ProgramOptions = {}): UserProgram {
  const text = programText(name, main);
  const textBytes = Math.max(opts.textBytes ?? 64 * 1024, text.length);
  const dataVa = LAYOUT.TEXT_BASE + Math.ceil(textBytes / 4096) * 4096;
  return {
    name,
    textBytes,
    dataBytes: Math.max(opts.dataBytes ?? 4096, opts.data?.length ?? 0),
    bssBytes: opts.bssBytes ?? 4096,
    data: opts.data,
    text,
    instantiate: () => processCode(main, dataVa, opts.loader === true),
  };
}

/**
 * The text segment an image carries for a program: its name and a digest of
 * its main's source, so that an image changes whenever its code does. The
 * digest, not the source itself: the source is as the host's compiler left
 * it (tsx for the margay command, vite under vitest, each version its own
 * whitespace and import names), and an image whose length followed it made
 * every load time depend on the compiler.
 */
function programText(name: string, main: Main): Uint8Array {
  const digest = createHash('sha256').update(main.toString()).digest('hex');
  return new TextEncoder().encode(`margay-text 2\0${name}\0${digest}\0`);
}

/** Fresh code for one process: its own function table and shared heap state. */
function processCode(main: Main, dataVa: number, isLoader: boolean): UserCode {
  const shared = new ProcessShared();
  // User "functions" live at addresses in the text region, as real code would.
  const functions = new Map<number, ThreadFn | FaultHandler>();
  let nextFn = LAYOUT.TEXT_BASE + 0x1000;
  const register = (f: ThreadFn | FaultHandler): number => {
    const va = nextFn;
    nextFn += 16;
    functions.set(va, f);
    return va;
  };

  return (cpu: UserCpu) => asThread(cpu, thread(cpu));

  function* thread(cpu: UserCpu): U {
    const mem = new Memory(cpu, shared);
    const sys = new Sys(cpu, mem);
    const argv: string[] = [];
    const envp: string[] = [];
    let job: JobInfo | null = null;
    const env: Env = {
      argv,
      envp,
      get job() {
        return job;
      },
      dataVa,
      sys,
      mem,
      cpu,
      *compute(cycles) {
        // A message upcall cuts the computation short: run the handler, then compute what was left.
        for (let left = cycles; ; ) {
          const r = yield { op: 'compute', cycles: left };
          if (!isMessageUpcall(r)) return;
          if (shared.messageHandler !== null) yield* shared.messageHandler(r.endpoint, env);
          if (r.remaining <= 0) return;
          left = r.remaining;
        }
      },
      *spawn(fn, arg = 0) {
        const stack = yield* sys.mmap(0, THREAD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
        if (stack < 0) throw new Error(`no stack for a new thread (errno ${-stack})`);
        const top = stack + THREAD_STACK - 16;
        yield* mem.storeU64(top, register(fn));
        yield* mem.storeU64(top + 8, arg);
        const tidWord = yield* mem.alloc(8);
        const tid = yield* sys.clone(CLONE_THREAD_FLAGS, top, tidWord, tidWord);
        if (tid < 0) throw new Error(`clone failed (errno ${-tid})`);
        return { tid, tidWord, stack };
      },
      *join(h) {
        for (;;) {
          const v = yield* mem.loadU32(h.tidWord);
          if (v === 0) return;
          yield* sys.futex(h.tidWord, FUTEX_WAIT, v);
        }
      },
      onMessage(handler) {
        shared.messageHandler = handler;
      },
      *onFault(handler) {
        shared.faultHandler = handler;
        yield* sys.setFaultHandler(register(handler));
      },
    };

    mem.env = env;
    const sp = Number(cpu.get('rsp'));
    const isMain = cpu.get('rip') === BigInt(ENTRY_START);
    nameThread(cpu, isMain ? 'the main thread' : 'a spawned thread');
    if (isMain) {
      // crt0: argc, argv[], NULL, envp[], NULL at the stack pointer.
      const argc = Number(yield* mem.loadU64(sp));
      for (let i = 0; i < argc; i++) argv.push(yield* mem.cstring(Number(yield* mem.loadU64(sp + 8 + 8 * i))));
      let at = sp + 8 + 8 * (argc + 1);
      for (; ; at += 8) {
        const p = Number(yield* mem.loadU64(at));
        if (p === 0) break;
        envp.push(yield* mem.cstring(p));
      }
      // auxv: (type, value) pairs up to AT_NULL.
      let jobVa = 0;
      for (at += 8; ; at += 16) {
        const type = Number(yield* mem.loadU64(at));
        if (type === 0) break;
        if (type === AT_MARGAY_JOB) jobVa = Number(yield* mem.loadU64(at + 8));
      }
      let jobBytes = 0;
      if (jobVa !== 0) {
        jobBytes = yield* mem.loadU32(jobVa + 4 * JOB_BLOCK.W_TOTAL_BYTES);
        job = decodeJobBlock(yield* mem.load(jobVa, jobBytes));
      }
      if (job !== null && job.mode === 'one-phase') {
        // init is linked in: this rank loads its subtree before main.
        const rank = yield* sys.getrank();
        const r = yield* loadSubtree(env, job, rank, jobBytes);
        if (r.status.failed > 0) {
          yield* sys.exitGroup(1);
          return;
        }
      }
      const phases = job !== null && !isLoader;
      if (phases) yield* sys.jobPhase(KMSG.PHASE_MAIN);
      const status = exitStatus('main', yield* main(env));
      if (phases) yield* sys.jobPhase(KMSG.PHASE_MAIN_DONE);
      yield* sys.exitGroup(status);
      return;
    }
    // A thread made by clone: function and argument at the top of its stack.
    const fn = functions.get(Number(yield* mem.loadU64(sp)));
    const arg = Number(yield* mem.loadU64(sp + 8));
    if (fn === undefined) yield* sys.exit(127);
    const status = exitStatus('a thread function', yield* (fn as ThreadFn)(env, arg));
    yield* sys.exit(status);
  }
}

/**
 * The exit status a returned value stands for: nothing is 0, a whole number
 * 0..255 is itself. Anything else is a mistake (a string, NaN, 1e10, 256
 * that the kernel would cut to 0), refused rather than passed as success.
 */
export function exitStatus(who: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255) return v;
  const shown = typeof v === 'string' ? `'${v}'` : typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean' || v === null ? String(v) : typeof v;
  throw new Error(`${who} returned ${shown}: an exit status is a whole number from 0 to 255 (or return nothing for 0)`);
}
