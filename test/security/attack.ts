// Shared set-up for the cross-user attack tests: a machine, processes of
// chosen uids on chosen nodes, a Portals NI with one portal table entry, and
// the attacker's and victim's moves as small user-level routines.

import { getProfile, withOverrides } from '../../hw/profile.ts';
import type { Main } from '../../userland/lib/runtime.ts';
import { System } from '../../system/system.ts';
import { SYS } from '../../userland/lib/abi.gen.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';

export const MiB = 2 ** 20;
export const SECRET = new TextEncoder().encode('VICTIM SECRET OF UID 1');
export const OWNED = new TextEncoder().encode('OWNED BY UID 2');

export function machine(dims: number | number[], cores = 2, overrides: Record<string, number> = {}): System {
  const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': cores, ...overrides }, 'test');
  return new System({ profile, shape: { kind: 'mesh', dims: typeof dims === 'number' ? [dims] : dims }, seed: 1 });
}

export function spawn(sys: System, nid: number, uid: number, name: string, main: Main) {
  return sys.kernel(nid).spawn(program(name, main), { rank: 0, jobSize: 1, uid, argv: [name], envp: [] });
}

/** PtlInit, a physical non-matching NI, an EQ and portal table entry 0 (with `ptOptions`). */
export function* openPortals(env: Env, ptOptions = 0) {
  const P = new Portals(env.cpu, env.mem);
  yield* P.PtlInit();
  const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
  const { eq } = yield* P.PtlEQAlloc(ni, 64);
  yield* P.PtlPTAlloc(ni, ptOptions, eq, 0);
  return { P, ni, eq };
}

export function* mmapRw(env: Env, bytes: number) {
  return yield* env.sys.mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
}

/** The physical address behind `va` (from lwk_aspace_regions, which the LWK gives every process). */
export function* physOf(env: Env, va: number) {
  const buf = yield* env.mem.alloc(32 * 64);
  const n = yield* env.sys.raw(SYS.lwk_aspace_regions, buf, 64);
  for (let i = 0; i < n; i++) {
    const start = Number(yield* env.mem.loadU64(buf + 32 * i));
    const end = Number(yield* env.mem.loadU64(buf + 32 * i + 8));
    const pa = Number(yield* env.mem.loadU64(buf + 32 * i + 16));
    if (va >= start && va < end) return pa + (va - start);
  }
  return -1;
}

/**
 * The victim grabs all the memory it can (halving the request on ENOMEM
 * down to `smallest`) and writes its secret into whichever page sits on
 * physical `pa`, if any. Returns that page's address, or 0.
 */
export function* grabFramesAt(env: Env, pa: number, smallest = 2 * MiB) {
  let size = 1024 * MiB;
  let landed = 0;
  while (size >= smallest) {
    const va = yield* mmapRw(env, size);
    if (va < 0 || va > 2 ** 62) {
      size /= 2;
      continue;
    }
    const at = yield* physOf(env, va);
    if (pa >= at && pa < at + size) {
      landed = va + (pa - at);
      yield* env.mem.store(landed, SECRET);
    }
  }
  return landed;
}

export function* waitFor(env: Env, cond: () => boolean, stepNs = 20_000) {
  while (!cond()) yield* env.sys.nanosleep(stepNs);
}

export function includes(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/** The victim's mappings that sit on physical [pa, pa+len) (none, once pinned memory stays owned). */
export function overlapping(sys: System, nid: number, pid: number, pa: number, len: number) {
  const p = sys.kernel(nid).processes.get(pid);
  return (p?.aspace.view() ?? []).filter((r) => r.pa < pa + len && pa < r.pa + (r.end - r.start));
}

export { PTL };

/** Reads `len` bytes at `offset` of a remote entry with a PtlGet; returns them and the reply's ni_fail. */
export function* getRemote(env: Env, P: Portals, ni: number, eq: number, target: { nid: number; pid: number }, offset: number, len: number) {
  const buf = yield* env.mem.alloc(len);
  const { md } = yield* P.PtlMDBind(ni, { start: buf, length: len, eq_handle: eq });
  yield* P.PtlGet(md, 0, len, target, 0, 0n, offset, 0);
  for (;;) {
    const ev = (yield* P.PtlEQWait(eq)).event!;
    if (ev.type === PTL.EVENT_REPLY) return { bytes: yield* env.mem.load(buf, len), fail: ev.ni_fail_type };
  }
}

/** Writes `data` at `offset` of a remote entry with an acknowledged PtlPut; returns the ack's ni_fail. */
export function* putRemote(env: Env, P: Portals, ni: number, eq: number, target: { nid: number; pid: number }, offset: number, data: Uint8Array) {
  const buf = yield* env.mem.alloc(data.length);
  yield* env.mem.store(buf, data);
  const { md } = yield* P.PtlMDBind(ni, { start: buf, length: data.length, eq_handle: eq });
  yield* P.PtlPut(md, 0, data.length, PTL.ACK_REQ, target, 0, 0n, offset, 0, 0);
  for (;;) {
    const ev = (yield* P.PtlEQWait(eq)).event!;
    if (ev.type === PTL.EVENT_ACK) return ev.ni_fail_type;
  }
}
