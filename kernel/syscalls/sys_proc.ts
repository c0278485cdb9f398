// Process and thread calls: getpid, gettid, clone, exit, exit_group, and the
// LWK identity calls (core, node, rank, job size, task info).

import { fail } from '../errno.ts';
import { ENTRY_START } from '../abi.ts';
import { type KPath, step } from '../step.ts';
import { copyout, i64bytes, pokeUser } from '../uaccess.ts';
import { type SyscallCtx, argInt, argInt32, argPtr } from './context.ts';
import { FLAGS } from './table.ts';

const { CLONE_VM, CLONE_THREAD, CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID } = FLAGS;

const work = (c: SyscallCtx) => c.k.profile.values['kernel.syscallWorkCycles'];

export function* sys_getpid(c: SyscallCtx): KPath<number> {
  yield step('syscall', 'getpid', work(c));
  return c.p.pid;
}

export function* sys_gettid(c: SyscallCtx): KPath<number> {
  yield step('syscall', 'gettid', work(c));
  return c.t.tid;
}

export function* sys_clone(c: SyscallCtx): KPath<number> {
  const flags = argInt(c, 0);
  const stack = argPtr(c, 1);
  const ptid = argPtr(c, 2);
  const ctid = argPtr(c, 3);
  if ((flags & (CLONE_VM | CLONE_THREAD)) !== (CLONE_VM | CLONE_THREAD)) fail('EINVAL', 'only threads (CLONE_VM|CLONE_THREAD): an LWK does not fork');
  if (stack === 0 || c.p.aspace.find(stack - 8) === undefined) fail('EINVAL', 'the new thread needs a mapped stack');
  const home = c.k.leastLoadedCore();
  const child = c.k.newThread(c.p, home);
  // The child resumes where the parent trapped, with rax = 0 and its own stack.
  child.regs.set(c.cpu.core.regs);
  child.setSaved('rax', 0);
  child.setSaved('rsp', stack);
  if (child.getSaved('rip') === BigInt(ENTRY_START)) child.setSaved('rip', ENTRY_START + 4);
  try {
    if (flags & CLONE_PARENT_SETTID) pokeUser(c.k, c.p, ptid, u32(child.tid));
    if (flags & CLONE_CHILD_SETTID) pokeUser(c.k, c.p, ctid, u32(child.tid));
  } catch (e) {
    // The child never ran and is on no run queue: it must not stay a live thread of the process.
    c.k.discardThread(child);
    throw e;
  }
  if (flags & CLONE_CHILD_CLEARTID) child.clearChildTid = ctid;
  yield step('proc', 'clone', c.k.profile.values['kernel.contextSwitchCycles'], `tid ${child.tid} on core ${home}`);
  yield* c.k.startThread(child, c.cpu);
  return child.tid;
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v, true);
  return b;
}

/** CLONE_CHILD_CLEARTID: zero the word and wake one joiner. */
function* clearChildTid(c: SyscallCtx): KPath {
  const at = c.t.clearChildTid;
  if (at === 0) return;
  try {
    pokeUser(c.k, c.p, at, u32(0));
  } catch {
    return;
  }
  for (const w of c.k.futex.take(c.p.aspace, at, 1)) yield* c.k.wake(w, 'woken', c.cpu);
}

export function* sys_exit(c: SyscallCtx): KPath<number> {
  const status = argInt32(c, 0) & 0xff;
  yield step('proc', 'exit', work(c), `tid ${c.t.tid} status ${status}`);
  yield* clearChildTid(c);
  c.k.exitThread(c.t, status);
  return 0;
}

export function* sys_exit_group(c: SyscallCtx): KPath<number> {
  const status = argInt32(c, 0) & 0xff;
  yield step('proc', 'exit_group', work(c), `pid ${c.p.pid} status ${status}`);
  c.k.killProcess(c.p, status, null);
  return 0;
}

export function* sys_lwk_getcpu(c: SyscallCtx): KPath<number> {
  yield step('syscall', 'getcpu', work(c));
  return c.cpu.index;
}

export function* sys_lwk_getnid(c: SyscallCtx): KPath<number> {
  yield step('syscall', 'getnid', work(c));
  return c.k.nid;
}

export function* sys_lwk_getrank(c: SyscallCtx): KPath<number> {
  yield step('syscall', 'getrank', work(c));
  return c.p.info.rank;
}

export function* sys_lwk_getsize(c: SyscallCtx): KPath<number> {
  yield step('syscall', 'getsize', work(c));
  return c.p.info.jobSize;
}

const STATE_CODE = { runnable: 0, running: 1, blocked: 2, dead: 3 } as const;

export function* sys_lwk_task_info(c: SyscallCtx): KPath<number> {
  const tid = argInt(c, 0);
  const buf = argPtr(c, 1);
  const t = c.p.threads.find((x) => x.tid === tid);
  if (t === undefined) fail('ESRCH', `no thread ${tid} in process ${c.p.pid}`);
  yield* copyout(c.k, c.cpu, c.p, buf, i64bytes(t.tid, t.home, STATE_CODE[t.state], t.userOps));
  return 0;
}

export function* sys_lwk_job_map(c: SyscallCtx): KPath<number> {
  const buf = argPtr(c, 0);
  const max = Math.min(Number(c.args[1] > 1n << 20n ? 1n << 20n : c.args[1]), 1 << 20);
  const map = c.p.info.jobMap ?? [];
  const n = Math.min(max, map.length);
  const bytes = new Uint8Array(16 * n);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) {
    const m = map.at(i) ?? { nid: 0, pid: 0 };
    dv.setBigUint64(16 * i, BigInt(m.nid), true);
    dv.setBigUint64(16 * i + 8, BigInt(m.pid), true);
  }
  if (n > 0) yield* copyout(c.k, c.cpu, c.p, buf, bytes);
  else yield step('syscall', 'job_map', work(c));
  return map.length;
}
