// The kernel DSM's system calls: create (collective over the job), attach,
// detach, lock, unlock, barrier and stats. The region is always the calling
// process's job's: the kernel derives it from the job (region.ts's key), so
// no argument can name another job's region.

import { LAYOUT } from '../abi.ts';
import { type ErrnoName, fail } from '../errno.ts';
import type { Kernel } from '../kernel.ts';
import type { Process } from '../process.ts';
import { type KPath, block, step } from '../step.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { shootdown } from '../tlbflush.ts';
import { copyout, i64bytes } from '../uaccess.ts';
import { type DsmNode, type Endpoint, JOIN_LIMIT, JOIN_OUTCOME, JOIN_REFUSAL, jobKey } from './node.ts';
import { setEntry } from './protocol.ts';
import { ACCESS, DsmRegion, PAGE, keyString } from './region.ts';
import { LOCKS_PER_MANAGER, LOCK_TABLE_FULL, validLock } from './sync.ts';

/** Largest region (per node: every rank holds frames for all of it). */
export const MAX_DSM_BYTES = 1 << 30;

/** Where every rank's region is mapped: one address on every rank. */
export const DSM_BASE = LAYOUT.DSM_BASE;

/** The node of every rank of `p`'s job. */
function jobNids(p: Process, nid: number): number[] {
  const size = p.info.jobSize;
  if (size <= 1) return [nid];
  const nids: number[] = [];
  for (let i = 0; i < size; i++) {
    const at = p.info.jobMap?.at(i);
    if (at === undefined) fail('ESRCH', `rank ${i} of the job has no node yet`);
    nids.push(at.nid);
  }
  return nids;
}

/** The caller's attached region; `count`: a protocol call (dsm_stats is only a reading). */
function mine(c: SyscallCtx, count = true): DsmRegion {
  const r = c.k.dsm.regionOf(c.p);
  if (r === undefined) fail('ENOENT', 'no DSM region attached (dsm_create first)');
  if (count) r.stats.syscalls++;
  return r;
}

export function* sys_dsm_create(c: SyscallCtx): KPath<number> {
  const n = c.k.dsm;
  const asked = argSize(c, 0);
  const nids = jobNids(c.p, c.k.nid);
  n.entered(c.p);
  // Every rank sees the same job map, so each refuses alone: no rendezvous (two ranks on a node would share its one slot).
  if (new Set(nids).size !== nids.length) fail('EINVAL', 'the kernel DSM takes one rank per node (a node holds one copy of each page)');
  const key = jobKey(c.p, c.k.nid);
  const ks = keyString(key);
  const rank = c.p.info.rank;
  const previous = n.jobRegion(c.p);
  if (previous !== undefined) {
    // The job's previous region is still here (its release has not arrived, or this rank never detached):
    // rank 0's node hears of it, so the other ranks of this create get -EBUSY and none waits; this rank gets
    // -EEXIST if it never detached, else the same -EBUSY.
    if (rank === 0) yield* n.countJoin(key, 0, { nid: c.k.nid, value: JOIN_REFUSAL.busy }, c.cpu, nids);
    else n.joinFor(key, rank, JOIN_REFUSAL.busy);
    if (!previous.detached) fail('EEXIST', "the job's region exists on this node (dsm_detach it first)");
    fail('EBUSY', "the job's previous region is still on this node (every rank must detach, then its release reaches every node); try again");
  }
  if (n.creating.has(ks)) fail('EBUSY', "a create of the job's region is in progress on this node");
  if (nids[rank] !== c.k.nid) fail('EINVAL', `rank ${rank} is not on this node`);
  const bytes = Math.ceil(asked / PAGE) * PAGE;
  // A rank that cannot create still takes part, so every rank learns the create failed (none waits for ever).
  let err: [ErrnoName, string] | null = null;
  let region: DsmRegion | null = null;
  if (asked === 0 || bytes > MAX_DSM_BYTES) err = ['EINVAL', `size ${asked}: from 1 byte to ${MAX_DSM_BYTES}`];
  else {
    const pa = c.k.phys.alloc(bytes, PAGE);
    if (pa === null) err = ['ENOMEM', `no ${bytes}-byte contiguous extent for the region's frames`];
    else {
      c.k.node.memory.zero(pa, bytes);
      region = new DsmRegion(key, rank, nids, DSM_BASE, bytes, pa, c.p);
      region.stats.syscalls++;
      n.regions.set(ks, region);
    }
  }
  const ep: Endpoint = region ?? { key, rank, nids, stats: { messages: 0, dataBytes: 0 } };
  n.creating.set(ks, c.t);
  yield step('dsm', 'create', c.k.profile.values['kernel.mapPageCycles'], `${bytes} B, rank ${rank} of ${nids.length}${err ? `: ${err[1]}` : ''}`);
  // Rank 0's node counts the announcements; its own is counted here, the others' arrive by message.
  let outcome: number;
  if (rank === 0 && (yield* n.countJoin(key, 0, { nid: c.k.nid, value: err ? JOIN_REFUSAL.cannot : bytes }, c.cpu, nids)) === JOIN_OUTCOME.full) {
    n.creating.delete(ks);
    outcome = JOIN_OUTCOME.full;
  } else {
    if (rank !== 0) n.send(ep, 0, 'join', 0, err ? JOIN_REFUSAL.cannot : bytes);
    outcome = (yield* block()) as number;
  }
  if (outcome !== JOIN_OUTCOME.complete) {
    if (region !== null) n.release(region);
    if (err !== null) fail(...err);
    if (outcome === JOIN_OUTCOME.full) fail('EAGAIN', `rank 0's node has ${JOIN_LIMIT} create announcements pending; try again`);
    if (outcome === JOIN_OUTCOME.noRankZero) fail('ESRCH', "rank 0's process is not there to count the create (it ended, or never called dsm_create)");
    if (outcome === JOIN_OUTCOME.rankGone) fail('ESRCH', 'a rank of the job ended (returned or was killed) before it called dsm_create');
    if (outcome === JOIN_OUTCOME.busy) fail('EBUSY', "a rank's node still holds the job's previous region (its release has not arrived); try again");
    fail('EINVAL', 'the ranks asked for different sizes, or one could not create its part');
  }
  return 0;
}

export function* sys_dsm_attach(c: SyscallCtx): KPath<number> {
  const r = c.k.dsm.jobRegion(c.p);
  if (r === undefined) fail('ENOENT', "the caller's job has no DSM region on this node");
  if (r.process === c.p) return r.base;
  if (r.detached) fail('ENOENT', 'this rank detached from the region (detach is final)');
  if (r.process !== null) fail('EBUSY', `process ${r.process.pid} has the region attached`);
  if (c.p.aspace.overlaps(r.base, r.bytes)) fail('ENOMEM', `0x${r.base.toString(16)} is already mapped`);
  r.process = c.p;
  r.stats.syscalls++;
  let mapped = 0;
  for (let page = 0; page < r.pages; page++) {
    if (r.access[page] === ACCESS.none) continue;
    setEntry(r, page, r.access[page] as 1 | 2);
    mapped++;
  }
  yield step('dsm', 'attach', c.k.profile.values['kernel.mapPageCycles'] * Math.max(1, mapped), `0x${r.base.toString(16)}, ${r.pages} page(s), ${mapped} held here`);
  return r.base;
}

export function* sys_dsm_detach(c: SyscallCtx): KPath<number> {
  const r = mine(c);
  const pages: { va: number; size: number }[] = [];
  for (let page = 0; page < r.pages; page++) {
    if (r.access[page] === ACCESS.none) continue;
    setEntry(r, page, ACCESS.none);
    pages.push({ va: r.base + page * PAGE, size: PAGE });
  }
  // The frames stay: this node goes on serving the pages it holds until every rank has detached.
  c.k.dsm.detach(r, false);
  yield step('dsm', 'detach', c.k.profile.values['kernel.mapPageCycles'] * Math.max(1, pages.length), `${pages.length} page(s) unmapped`);
  yield* shootdown(c.k, c.cpu, c.p.aspace, pages);
  return 0;
}

export function* sys_dsm_lock(c: SyscallCtx): KPath<number> {
  const id = argInt(c, 0);
  const r = mine(c);
  if (!validLock(id)) fail('EINVAL', `lock id ${id}: from 0 to 2^31-1`);
  if (r.held.has(id)) fail('EBUSY', `lock ${id} is held by this rank already`);
  let ws = r.lockWaiters.get(id);
  if (ws === undefined) r.lockWaiters.set(id, (ws = []));
  ws.push(c.t);
  const m = r.lockManagerOf(id);
  c.k.dsm.send(r, m, 'lock-req', id, 0);
  yield step('dsm', 'request', c.k.profile.values['kernel.portalsSetupCycles'], `lock ${id} from manager rank ${m}`);
  const refused = (yield* block()) as number;
  if (refused === LOCK_TABLE_FULL) fail('ENOSPC', `lock ${id}: its manager (rank ${m}) keeps ${LOCKS_PER_MANAGER} locks in use already`);
  if (refused !== 0) fail('ESRCH', `lock ${id}: rank ${refused - 1} ended holding it (what it guards may be half-written)`);
  r.held.add(id);
  return 0;
}

export function* sys_dsm_unlock(c: SyscallCtx): KPath<number> {
  const id = argInt(c, 0);
  const r = mine(c);
  if (!validLock(id)) fail('EINVAL', `lock id ${id}: from 0 to 2^31-1`);
  if (!r.held.delete(id)) fail('EPERM', `lock ${id} is not held by this rank`);
  c.k.dsm.send(r, r.lockManagerOf(id), 'unlock', id, 0);
  yield step('dsm', 'request', c.k.profile.values['kernel.portalsSetupCycles'], `unlock ${id}`);
  return 0;
}

export function* sys_dsm_barrier(c: SyscallCtx): KPath<number> {
  const r = mine(c);
  const epoch = r.epoch++;
  let ws = r.barrierWaiters.get(epoch);
  if (ws === undefined) r.barrierWaiters.set(epoch, (ws = []));
  ws.push(c.t);
  c.k.dsm.send(r, r.home, 'arrive', epoch, 0);
  yield step('dsm', 'request', c.k.profile.values['kernel.portalsSetupCycles'], `barrier epoch ${epoch}`);
  const left = (yield* block()) as number;
  if (left !== 0) fail('ESRCH', `barrier ${epoch}: rank ${left - 1} left the region before entering it`);
  return 0;
}

/** The words dsm_stats writes, in order (one table: the user library reads them by this list). */
export const DSM_STATS_WORDS = ['faults', 'readFaults', 'writeFaults', 'invalidations', 'syscalls', 'messages', 'faultNs', 'served', 'grants', 'dataBytes'] as const;

export function* sys_dsm_stats(c: SyscallCtx): KPath<number> {
  const buf = argPtr(c, 0);
  const r = mine(c, false);
  const s = r.stats;
  const values: Record<(typeof DSM_STATS_WORDS)[number], number> = { ...s, faultNs: Math.round(s.faultPs / 1000) };
  yield* copyout(c.k, c.cpu, c.p, buf, i64bytes(...DSM_STATS_WORDS.map((w) => values[w])));
  return 0;
}

const CALLS: Readonly<Partial<Record<SyscallName, (c: SyscallCtx) => KPath<number>>>> = {
  dsm_create: sys_dsm_create,
  dsm_attach: sys_dsm_attach,
  dsm_detach: sys_dsm_detach,
  dsm_lock: sys_dsm_lock,
  dsm_unlock: sys_dsm_unlock,
  dsm_barrier: sys_dsm_barrier,
  dsm_stats: sys_dsm_stats,
};

/** Registers the DSM's calls at boot (Kitten's syscall_register). */
export function registerDsm(k: Kernel): void {
  for (const [name, h] of Object.entries(CALLS)) k.registerSyscall(name as SyscallName, h!);
}

export type { DsmNode };
