// Random sequences of Portals calls on two nodes: each rank opens an NI with
// a few real objects, then calls ptl_* at random with argument words drawn
// by their C types (kernel/portals/calls.ts, PTL_ARG_TYPES): real handles
// (its own, stale, or with high bits set), hostile sizes and offsets
// (2^64-1, 2^53, past an MD), timeouts near 2^32 ms, and pointers to real
// or garbage structures, to nothing, or past the address space. Puts and
// gets go to the other node. Counts host exceptions and kernel oopses (both
// must stay 0).

import { getProfile, withOverrides } from '../../hw/profile.ts';
import { PTL } from '../../kernel/portals/defs.ts';
import { PTL_ARG_TYPES, type WordType } from '../../kernel/portals/calls.ts';
import { System } from '../../system/system.ts';
import { SYSCALL_NR, type SyscallName } from '../../kernel/syscalls/table.ts';
import { LAYOUT } from '../../userland/lib/abi.gen.ts';
import { Portals } from '../../userland/lib/portals.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { type FuzzCounts, Gen, newCounts, runMachine } from './harness.ts';

const CALLS = Object.keys(PTL_ARG_TYPES) as SyscallName[];
/** Calls that tear the NI down: made rarely, so a sequence gets somewhere. */
const TEARDOWN = new Set<SyscallName>(['ptl_fini', 'ptl_ni_fini']);
const SENDS: readonly SyscallName[] = ['ptl_put', 'ptl_get', 'ptl_atomic', 'ptl_fetch_atomic', 'ptl_swap', 'ptl_triggered'];
const CALLS_PER_RANK = 300;
const BUF = 16384;
const WORDS = 32;

interface Areas {
  readonly args: number;
  readonly out: number;
  readonly struct: number;
  readonly target: number;
  readonly handles: number;
  readonly buf: number;
}

function* setup(env: Env, peer: number, pool: bigint[]) {
  const P = new Portals(env.cpu, env.mem);
  yield* P.PtlInit();
  const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
  const { eq } = yield* P.PtlEQAlloc(ni, 32);
  yield* P.PtlPTAlloc(ni, 0, eq, 0);
  const { ct } = yield* P.PtlCTAlloc(ni);
  const buf = yield* env.mem.alloc(BUF);
  const { md } = yield* P.PtlMDBind(ni, { start: buf, length: BUF, options: 0, eq_handle: eq, ct_handle: ct });
  const me = yield* P.PtlMEAppend(ni, 0, { start: buf, length: BUF, options: PTL.ME_OP_PUT | PTL.ME_OP_GET, ct_handle: PTL.CT_NONE, uid: PTL.UID_ANY, match_bits: 0n, ignore_bits: ~0n }, PTL.PRIORITY_LIST, 0);
  pool.push(...[ni, eq, ct, md, me.handle].map(BigInt));
  const areas: Areas = {
    args: yield* env.mem.alloc(8 * WORDS),
    out: yield* env.mem.alloc(8 * WORDS),
    struct: yield* env.mem.alloc(8 * WORDS),
    target: yield* env.mem.alloc(16),
    handles: yield* env.mem.alloc(8 * WORDS),
    buf,
  };
  yield* env.mem.storeU64(areas.target, BigInt(peer));
  yield* env.mem.storeU64(areas.target + 8, BigInt(yield* env.sys.getpid()));
  return areas;
}

function word(g: Gen, type: WordType, pool: readonly bigint[], a: Areas): bigint {
  switch (type) {
    case 'u32':
      // A handle, or a small number (portal indices, nids, pids are u32 words too).
      if (g.chance(0.55)) return g.pick(pool);
      if (g.chance(0.6)) return BigInt(g.int(4));
      return g.pick([0n, 0xffffffffn, BigInt(g.int(64)), g.u64() & 0xffffffffn, g.pick(pool) + 2n ** 32n, 2n ** 64n - 1n, BigInt(PTL.EQ_NONE), BigInt(PTL.CT_NONE)]);
    case 'ptr':
      return g.pick([BigInt(a.target), BigInt(a.target), BigInt(a.target), BigInt(a.struct), BigInt(a.out), BigInt(a.handles), BigInt(a.buf + g.int(BUF)), 0n, BigInt(LAYOUT.TEXT_BASE), g.edge()]);
    case 'size':
      return g.chance(0.7) ? BigInt(g.pick([0, 1, 8, 16, 64, g.int(BUF), BUF, BUF + 1])) : g.edge();
    case 'offset':
      return g.chance(0.6) ? BigInt(g.pick([0, 8, g.int(BUF), BUF - 8, BUF])) : g.edge();
    case 'timeout':
      return g.pick([0n, 1n, 5n, 2n ** 32n - 2n, g.chance(0.1) ? BigInt(PTL.TIME_FOREVER) : 0n, 2n ** 40n, 2n ** 64n - 1n]);
    case 'int':
      return g.pick([0n, 1n, 2n, 3n, BigInt(g.int(20)), 2n ** 64n - 1n, 2n ** 31n, 2n ** 63n]);
    case 'bits':
      return g.pick([0n, 1n, g.u64(), 2n ** 64n - 1n]);
  }
}

/** Rewrites the structure area as a random md, entry, process or limits (fields real or hostile). */
function* structs(env: Env, g: Gen, pool: readonly bigint[], a: Areas) {
  const f = (t: WordType) => word(g, t, pool, a);
  const shapes: (() => bigint[])[] = [
    () => [BigInt(a.buf), f('size'), BigInt(g.int(1024)), f('u32'), f('u32')],
    () => [g.chance(0.7) ? BigInt(a.buf) : f('ptr'), f('size'), f('u32'), g.pick([1000n, 0xffffffffn, f('u32')]), BigInt(g.int(1 << 19)), f('u32'), f('u32'), f('bits'), f('bits'), f('size')],
    () => [g.pick([0n, 1n, 0xffffn, f('u32')]), f('u32')],
    () => Array.from({ length: 16 }, () => (g.chance(0.5) ? BigInt(g.int(2048)) : g.edge())),
  ];
  const ws = g.pick(shapes)();
  for (let i = 0; i < ws.length; i++) yield* env.mem.storeU64(a.struct + 8 * i, ws[i]);
  for (let i = 0; i < 4; i++) yield* env.mem.storeU64(a.handles + 8 * i, g.pick(pool));
}

/** The real objects every rank starts with. */
interface Base {
  readonly md: bigint;
  readonly ct: bigint;
}

/** Well-formed data-moving calls (so that the hostile word in them is the one that is tried). */
const SANE = {
  ptl_put: (g: Gen, b: Base, a: Areas) => [b.md, off(g), len(g), BigInt(g.int(4)), BigInt(a.target), 0n, g.u64(), off(g), 0n, 0n],
  ptl_get: (g: Gen, b: Base, a: Areas) => [b.md, off(g), len(g), BigInt(a.target), 0n, g.u64(), off(g), 0n],
  ptl_atomic: (g: Gen, b: Base, a: Areas) => [b.md, off(g), 8n, BigInt(g.int(4)), BigInt(a.target), 0n, g.u64(), off(g), 0n, 0n, BigInt(PTL.SUM), BigInt(PTL.UINT64_T)],
  ptl_fetch_atomic: (g: Gen, b: Base, a: Areas) => [b.md, off(g), b.md, off(g), 8n, BigInt(a.target), 0n, g.u64(), off(g), 0n, 0n, BigInt(PTL.SUM), BigInt(PTL.UINT64_T)],
  ptl_swap: (g: Gen, b: Base, a: Areas) => [b.md, off(g), b.md, off(g), 8n, BigInt(a.target), 0n, g.u64(), off(g), 0n, 0n, BigInt(a.buf), BigInt(PTL.SWAP), BigInt(PTL.UINT64_T)],
  ptl_ct_inc: (g: Gen, b: Base) => [b.ct, BigInt(g.int(3)), 0n],
};

const off = (g: Gen) => BigInt(g.pick([0, 8, 64, BUF - 64]));
const len = (g: Gen) => BigInt(g.pick([0, 8, 64]));

/** Replaces zero to two words by values drawn for their types. */
function mutate(g: Gen, ws: bigint[], types: readonly WordType[], pool: readonly bigint[], a: Areas): bigint[] {
  for (let n = g.int(3); n > 0; n--) {
    const i = g.int(ws.length);
    ws[i] = g.chance(0.5) ? g.edge() : word(g, types[i], pool, a);
  }
  return ws;
}

function rank(seed: number, counts: FuzzCounts, budget: number, log: string[]) {
  return function* (env: Env) {
    const g = new Gen(seed);
    const pool: bigint[] = [];
    const me = yield* env.sys.getnid();
    const a = yield* setup(env, 1 - me, pool);
    const base: Base = { md: pool[3], ct: pool[2] };
    for (let i = 0; i < budget; i++) {
      // Operations that move data (where offsets and lengths meet memory) a third of the time.
      let name = g.chance(0.35) ? g.pick(SENDS) : g.pick(CALLS);
      if (TEARDOWN.has(name) && g.chance(0.95)) name = 'ptl_ct_get';
      const types = PTL_ARG_TYPES[name]!;
      yield* structs(env, g, pool, a);
      const ws = name in SANE && g.chance(0.7) ? mutate(g, SANE[name as keyof typeof SANE](g, base, a), types, pool, a) : types.map((t) => word(g, t, pool, a));
      for (let j = 0; j < ws.length; j++) yield* env.mem.storeU64(a.args + 8 * j, ws[j]);
      counts.calls++;
      const entry = `${me}:${name}(${ws.join(',')})`;
      if (log.length < 8) log.push(entry);
      else log[counts.calls % 8] = entry;
      const rc = yield* env.sys.raw(SYSCALL_NR[name], g.chance(0.02) ? g.edge() : ws.length === 0 ? 0 : a.args);
      if (rc !== PTL.OK) counts.refused++;
      // Whatever came back through the out-pointer may be a new handle.
      const back = yield* env.mem.loadU64(a.out);
      if (back > 0n && back <= 0xffffffffn && pool.length < 64) pool.push(back);
    }
    return 0;
  };
}

export function fuzzPortals(seed: number, iterations: number): FuzzCounts {
  const counts = newCounts('portals', seed);
  const g = new Gen(seed);
  while (counts.calls < iterations) {
    const machine = counts.machines;
    const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': 1, 'memory.bytes': 1 << 26 }, 'fuzz');
    const sys = new System({ profile, shape: { kind: 'mesh', dims: [2] }, seed: g.fork() });
    const budget = Math.max(1, Math.min(CALLS_PER_RANK, Math.ceil((iterations - counts.calls) / 2)));
    const log: string[] = [];
    const s0 = g.fork();
    const s1 = g.fork();
    // Two programs with their own streams; each rank picks its own by node.
    const job = sys.launchDirect(
      program('ptlfuzz', function* (env) {
        const nid = yield* env.sys.getnid();
        return yield* rank(nid === 0 ? s0 : s1, counts, budget, log)(env);
      }),
      [0, 1],
      [],
    );
    const before = counts.calls;
    runMachine(sys, counts, () => sys.jobDone(job), () => `portals seed ${seed} machine ${machine} (recent: ${log.join(' ')})`);
    if (counts.calls === before) counts.calls++; // a machine that made no call still counts, so the loop ends
  }
  return counts;
}
