// Extensions on Portals match entries: verified eBPF handlers that run in
// the receive path, in the kernel, the moment a matching put has arrived
// (after its payload is in kernel staging memory and before anything is
// deposited or any process runs). The handler sees the message (header
// words and payload, read-only) and a region of its owner's memory it was
// granted; its helpers can read the time, add atomically to the region,
// forward a put, reply to the sender; its r0 says deliver (0) or drop (1).
// Its instructions are charged to the core in cycles.
//
// A handler's effects are all-or-nothing. It works on a copy of its granted
// region and its puts are queued; only a handler that exits commits them
// (the copy is written back, the puts leave). One stopped by its instruction
// budget or by a fault has no side effects: the copy and the queue are
// dropped, and so is the message. Either way the core is charged for the
// instructions it did run, a count both engines give exactly.

import { disassembleOne } from '../ext/disasm.ts';
import { type HelperTable, helperMap, helperSpecs } from '../ext/helpers.ts';
import { Vm, type VmStatus } from '../ext/interp.ts';
import type { Engine, LoadedProgram } from '../ext/loader.ts';
import type { HookSpec } from '../ext/verifier.ts';
import { VmMemory } from '../ext/vmmem.ts';
import { type KPath, step } from '../step.ts';
import type { Piece } from './iov.ts';
import type { Pin } from '../pin.ts';
import { gather, scatter } from './iov.ts';
import type { NetworkInterface } from './objects.ts';
import type { PortalsDriver } from './driver.ts';
import type { PortalsProcess } from './state.ts';
import type { Header } from './wire.ts';

/** The message header words the handler sees before the payload. */
const CTX_FIELDS = ['match_bits', 'hdr_data', 'rlength', 'remote_offset', 'initiator_nid', 'initiator_pid', 'initiator_rank', 'pt_index'] as const;
const CTX_HEADER_BYTES = 8 * CTX_FIELDS.length;

const CTX_REGION = 2;
const GRANT_REGION = 3;
/** Instructions one handler run may execute. */
const EXT_BUDGET = 100_000;
export const VERDICT_DELIVER = 0;
const VERDICT_DROP = 1;

/** The portals-rx hook's helpers: ids and argument kinds (the verifier's signatures and the engines' map both come from here). */
export const EXT_HELPERS = {
  now_ns: { id: 1, args: [] },
  forward: { id: 2, args: [{ kind: 'scalar' }, { kind: 'scalar' }, { kind: 'scalar' }, { kind: 'mem', write: false, sizeArg: 5 }, { kind: 'scalar' }] },
  reply: { id: 3, args: [{ kind: 'scalar' }, { kind: 'scalar' }, { kind: 'mem', write: false, sizeArg: 4 }, { kind: 'scalar' }] },
  atomic_add: { id: 4, args: [{ kind: 'mem', write: true, bytes: 8 }, { kind: 'scalar' }] },
} as const satisfies HelperTable;

export interface ExtStats {
  runs: number;
  insns: number;
  drops: number;
  forwards: number;
  faults: number;
}

export interface AttachedExtension {
  readonly id: number;
  readonly prog: LoadedProgram;
  readonly engine: Engine;
  readonly owner: PortalsProcess;
  readonly ni: NetworkInterface;
  readonly payloadMax: number;
  readonly grant: readonly Piece[];
  readonly grantLen: number;
  /** Keeps the granted frames from anyone else while the handler can run (dropped when its entry goes). */
  readonly grantPin: Pin;
  /** The handler may write its grant: it was writable at attach and its owner has not mprotected any of it read-only since. */
  grantWritable: boolean;
  readonly stats: ExtStats;
  /** When set, the handler runs one instruction per traced step (for stepping in the monitor). */
  stepping: boolean;
  /** The last run's interpreter, kept while stepping for inspection. */
  lastVm: Vm | null;
}

/** The hook a handler is verified against. */
export function portalsRxHook(payloadMax: number, grantLen: number): HookSpec {
  return {
    name: 'portals-rx',
    regions: [
      { id: CTX_REGION, name: 'message', size: CTX_HEADER_BYTES + payloadMax, writable: false },
      ...(grantLen > 0 ? [{ id: GRANT_REGION, name: 'granted', size: grantLen, writable: true }] : []),
    ],
    args: [
      { kind: 'ptr', region: CTX_REGION, offset: 0 },
      { kind: 'scalar' },
      ...(grantLen > 0 ? [{ kind: 'ptr' as const, region: GRANT_REGION, offset: 0 }] : [{ kind: 'scalar' as const, value: 0n }]),
    ],
    helpers: helperSpecs(EXT_HELPERS),
    maxInsns: 4096,
    pointerReturn: false,
  };
}

function ctxBytes(h: Header, payload: Uint8Array, payloadMax: number): Uint8Array {
  const out = new Uint8Array(CTX_HEADER_BYTES + payloadMax);
  const dv = new DataView(out.buffer);
  const words = [h.matchBits, h.hdrData, BigInt(h.rlength), BigInt(h.roffset), BigInt(h.srcNid), BigInt(h.srcPid), BigInt(h.srcRank), BigInt(h.ptIndex)];
  words.forEach((w, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, w), true));
  out.set(payload.subarray(0, payloadMax), CTX_HEADER_BYTES);
  return out;
}

/** Reads `len` bytes at a VM pointer (region id in the high word), or null if out of bounds. */
function vmBytes(mem: VmMemory, ptr: bigint, len: number): Uint8Array | null {
  const region = mem.regions[Number(ptr >> 32n) - 1];
  const off = Number(ptr & 0xffffffffn);
  if (region === undefined || off + len > region.bytes.length) return null;
  return region.bytes.slice(off, off + len);
}

/**
 * Runs an extension on an arrived put. Returns the verdict. Forwarded and
 * replied puts leave through the NIC from inside the run.
 */
export function* runExtension(driver: PortalsDriver, ext: AttachedExtension, h: Header, payload: Uint8Array): KPath<'deliver' | 'drop'> {
  const k = driver.k;
  const v = k.profile.values;
  const mem = new VmMemory();
  mem.add('message', ctxBytes(h, payload, ext.payloadMax), false);
  const grantBytes = ext.grantLen > 0 ? gather(k.node.memory, ext.grant) : new Uint8Array(0);
  // A grant its owner made read-only is read-only to the handler too: a store faults, atomic_add fails.
  if (ext.grantLen > 0) mem.add('granted', grantBytes, ext.grantWritable);
  const sends: (() => void)[] = [];
  const helpers = helperMap(EXT_HELPERS, {
    now_ns: () => BigInt(Math.floor(k.engine.now / 1000)),
    forward: (r, m) => {
      const data = vmBytes(m, r.get(4), Number(r.get(5)));
      if (data === null) return BigInt.asUintN(64, -1n);
      const target = Number(r.get(1));
      const pt = Number(r.get(2));
      const bits = r.get(3);
      // A rank on a logical NI; on a physical NI a nid, with the owner's Portals pid (one program everywhere).
      sends.push(() => driver.sendFromKernel(ext.owner, ext.ni, { nid: target, pid: ext.ni.pid, rank: target }, pt, bits, data));
      return 0n;
    },
    reply: (r, m) => {
      const data = vmBytes(m, r.get(3), Number(r.get(4)));
      if (data === null) return BigInt.asUintN(64, -1n);
      const pt = Number(r.get(1));
      const bits = r.get(2);
      sends.push(() => driver.sendFromKernel(ext.owner, ext.ni, { nid: h.srcNid, pid: h.srcPid, rank: h.srcRank }, pt, bits, data, true));
      return 0n;
    },
    atomic_add: (r, m) => {
      const p = r.get(1);
      const region = m.regions[Number(p >> 32n) - 1];
      const off = Number(p & 0xffffffffn);
      if (region === undefined || !region.writable || off + 8 > region.bytes.length) return BigInt.asUintN(64, -1n);
      const old = region.dv.getBigUint64(off, true);
      region.dv.setBigUint64(off, BigInt.asUintN(64, old + r.get(2)), true);
      return old;
    },
  });
  const args = [Vm.pointer(CTX_REGION, 0), BigInt(CTX_HEADER_BYTES + Math.min(payload.length, ext.payloadMax)), ext.grantLen > 0 ? Vm.pointer(GRANT_REGION, 0) : 0n];
  ext.stats.runs++;
  let status: VmStatus;
  let insns: number;
  if (ext.stepping) {
    // One traced step per instruction, so the monitor can stop inside the handler.
    const stepVm = new Vm(ext.prog.prog, mem, helpers);
    args.forEach((a, i) => stepVm.set(i + 1, a));
    ext.lastVm = stepVm;
    for (;;) {
      const pc = stepVm.pc;
      const s = stepVm.run(1);
      yield step('ext', 'insn', v['kernel.extInsnCycles'], `ext ${ext.id} ${pc}: ${disassembleOne(ext.prog.prog, pc)}  r0=0x${stepVm.get(0).toString(16)}`);
      if (s.kind !== 'limit' || stepVm.insns >= EXT_BUDGET) {
        status = s.kind === 'limit' ? { kind: 'limit' } : s;
        break;
      }
    }
    insns = stepVm.insns;
  } else {
    const out = ext.prog.run(ext.engine, mem, args, EXT_BUDGET, helpers);
    status = out.status;
    insns = out.insns;
  }
  ext.stats.insns += insns;
  let verdict: 'deliver' | 'drop' = 'deliver';
  let detail: string;
  if (status.kind === 'exit') {
    // Commit: the region's copy goes back, the queued puts leave.
    if (ext.grantLen > 0 && ext.grantWritable) scatter(k.node.memory, ext.grant, mem.regions[GRANT_REGION - 1].bytes);
    for (const send of sends) send();
    ext.stats.forwards += sends.length;
    verdict = status.r0 === BigInt(VERDICT_DROP) ? 'drop' : 'deliver';
    detail = `ext ${ext.id}: ${insns} insns, ${verdict}${sends.length ? `, ${sends.length} put(s)` : ''}`;
  } else {
    ext.stats.faults++;
    verdict = 'drop';
    detail = `ext ${ext.id}: ${status.kind === 'limit' ? `stopped at the ${EXT_BUDGET}-instruction budget` : status.message}; message dropped, no side effects`;
  }
  if (verdict === 'drop') ext.stats.drops++;
  yield step('ext', 'run', v['kernel.extRunCycles'] + Math.ceil(insns * v['kernel.extInsnCycles']), detail);
  return verdict;
}
