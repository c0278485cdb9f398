// copy_from_user / copy_to_user: the kernel reaches user memory only by
// walking the process's page tables in software, checking that every page
// is present, user-accessible and (for writes) writable. A not-present page
// of a lazily filled region (a remote task's copy-on-reference pages) is
// brought in first, as a user load would, blocking the thread. Anything
// else is -EFAULT, never a host exception.

import { PAGE_4K } from '../hw/mmu.ts';
import type { CoreContext, KernelContext } from './context.ts';
import { fail } from './errno.ts';
import type { Process } from './process.ts';
import { type KPath, step } from './step.ts';

/** What copying to and from user memory needs of the kernel. */
export type UserMemoryContext = Pick<KernelContext, 'node' | 'profile'> & Partial<Pick<KernelContext, 'regionPageIn'>> & { readonly recording?: boolean };

/** Largest single copy the kernel will make (bigger requests are -EFAULT). */
const MAX_COPY = 64 * 1024 * 1024;

interface Piece {
  readonly pa: number;
  readonly len: number;
}

/** Physical pieces of [va, va+len), or EFAULT. */
export function userPieces(p: Process, va: number, len: number, write: boolean): Piece[] {
  if (!Number.isSafeInteger(va) || !Number.isSafeInteger(len) || va < 0 || len < 0 || len > MAX_COPY) {
    fail('EFAULT', `bad user range 0x${Number.isFinite(va) ? va.toString(16) : va}+${len}`);
  }
  const pieces: Piece[] = [];
  let done = 0;
  while (done < len) {
    const a = va + done;
    const w = p.aspace.pt.translate(a);
    if (!w.ok || !w.user || (write && !w.writable)) fail('EFAULT', `user address 0x${a.toString(16)} is not ${write ? 'writable' : 'readable'}`);
    const off = a - (a - (a % w.pageSize));
    const n = Math.min(w.pageSize - off, len - done);
    pieces.push({ pa: w.pageBase + off, len: n });
    done += n;
  }
  return pieces;
}

function copyCycles(k: UserMemoryContext, len: number): number {
  return Math.ceil(len / k.profile.values['kernel.copyBytesPerCycle']) + Math.ceil(len / PAGE_4K) * k.profile.values['tlb.missCycles'];
}

/** Brings in the not-present pages of [va, va+len) that a lazily filled region serves (a bad range is left to userPieces). */
function* pageInRange(k: UserMemoryContext, cpu: CoreContext, p: Process, va: number, len: number, write: boolean): KPath {
  if (k.regionPageIn === undefined || !Number.isSafeInteger(va) || !Number.isSafeInteger(len) || va < 0 || len <= 0 || len > MAX_COPY) return;
  for (let a = va - (va % PAGE_4K); a < va + len; a += PAGE_4K) {
    if (p.aspace.pt.translate(a).ok) continue;
    const path = k.regionPageIn(cpu, p, a, write);
    if (path === null) continue;
    const why = yield* path;
    if (why !== null) fail('EFAULT', why);
  }
}

/** Checks that [va, va+len) can be written (or read) now, bringing in lazily filled pages first; EFAULT if not. */
export function* checkUser(k: UserMemoryContext, cpu: CoreContext, p: Process, va: number, len: number, write: boolean): KPath {
  yield* pageInRange(k, cpu, p, va, len, write);
  userPieces(p, va, len, write);
}

export function* copyin(k: UserMemoryContext, cpu: CoreContext, p: Process, va: number, len: number): KPath<Uint8Array> {
  yield* pageInRange(k, cpu, p, va, len, false);
  // The range is checked (and refused with EFAULT) before any host memory is allocated for it.
  const pieces = userPieces(p, va, len, false);
  const out = new Uint8Array(len);
  let at = 0;
  for (const piece of pieces) {
    k.node.memory.read(piece.pa, pieces.length === 1 ? out : out.subarray(at, at + piece.len));
    at += piece.len;
  }
  yield step('uaccess', 'copyin', copyCycles(k, len), k.recording === false ? '' : `0x${va.toString(16)} ${len} B`);
  return out;
}

export function* copyout(k: UserMemoryContext, cpu: CoreContext, p: Process, va: number, bytes: Uint8Array): KPath {
  yield* pageInRange(k, cpu, p, va, bytes.length, true);
  let at = 0;
  const pieces = userPieces(p, va, bytes.length, true);
  for (const piece of pieces) {
    k.node.memory.write(piece.pa, pieces.length === 1 ? bytes : bytes.subarray(at, at + piece.len));
    at += piece.len;
  }
  yield step('uaccess', 'copyout', copyCycles(k, bytes.length), k.recording === false ? '' : `0x${va.toString(16)} ${bytes.length} B`);
}

/** Writes without a traced step (used where the caller charges the cost itself). */
export function pokeUser(k: UserMemoryContext, p: Process, va: number, bytes: Uint8Array): void {
  let at = 0;
  for (const piece of userPieces(p, va, bytes.length, true)) {
    k.node.memory.write(piece.pa, bytes.subarray(at, at + piece.len));
    at += piece.len;
  }
}

export function peekUser(k: UserMemoryContext, p: Process, va: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let at = 0;
  for (const piece of userPieces(p, va, len, false)) {
    k.node.memory.read(piece.pa, out.subarray(at, at + piece.len));
    at += piece.len;
  }
  return out;
}

export function i64bytes(...values: (bigint | number)[]): Uint8Array {
  const b = new Uint8Array(8 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, BigInt(v)), true));
  return b;
}
