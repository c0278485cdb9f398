// Runs the Portals 4 reference implementation's XML test scripts
// (test/sfw in sandialabs/portals4) on a simulated node, through the
// user-level Portals library only. The interpreter below follows the
// reference harness (run.c, api.c): each element pushes a copy of its
// parent's parameters, sets its attributes, makes its call and compares
// the return code with `ret`; <check> compares events, counters or memory.
// Where the harness relies on something with no Margay counterpart it is
// mapped and documented in docs/CONFORMANCE.md.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getProfile, withOverrides } from '../../hw/profile.ts';
import { ATOMIC_OP, EVENT as EVENT_TYPE, NI_FAIL as NI_FAIL_TYPE, PTL, RC, TYPE_SIZE } from '../../kernel/portals/defs.ts';
import { System } from '../../system/system.ts';
import { type Portals as PortalsLib, Portals } from '../../userland/lib/portals.ts';
import type { U } from '../../userland/lib/ops.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '../../userland/lib/sys.ts';
import { Runtime } from './ptlrt.ts';
import { checkValue, fillValue } from './values.ts';
import { type XmlElement, parseXml } from './xml.ts';

export interface ScriptOutcome {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  readonly reason?: string;
  /** Ranks the script ran on. */
  readonly ranks?: number;
  /** Messages the simulated network delivered during the run (barriers included). */
  readonly messages?: number;
}

const STACK = ['ni', 'pt', 'md', 'me', 'le', 'eq', 'ct'] as const;
type StackName = (typeof STACK)[number];

interface Info {
  count: number;
  ret: number;
  err: number;
  iface: number;
  niOpt: number;
  pid: number;
  uid: number;
  desired: Record<string, number>;
  desiredNull: boolean;
  actual: Record<string, number>;
  niHandle: number;
  reg: number;
  status: number;
  handle: number;
  ptOpt: number;
  ptIndex: number;
  list: number;
  md: { start: number; length: number; options: number };
  le: { start: number; length: number; options: number };
  me: { start: number; length: number; options: number; match: bigint; ignore: bigint; minFree: number };
  mdHandle: number;
  leHandle: number;
  meHandle: number;
  eqHandle: number;
  ctHandle: number;
  eqCount: number;
  event: Record<string, number | bigint> | null;
  ctEvent: { success: number; failure: number };
  ctTest: number;
  timeout: number;
  which: number;
  atomOp: number;
  type: number;
  getMd: number;
  putMd: number;
  userPtr: bigint;
  hdrData: bigint;
  length: number;
  operand: string | null;
  match: bigint;
  locOffset: number;
  locGetOffset: number;
  locPutOffset: number;
  remOffset: number;
  ackReq: number;
  threshold: number;
  handle1: number;
  handle2: number;
  target: { nid: number; pid: number; rank: number; logical: boolean };
  getMapSize: number;
  searchOp: number;
  rank: number;
  mapSize: number;
  map: { nid: number; pid: number }[] | null;
  id: { nid: number; pid: number; rank: number };
  buf: number;
  bufSize: number;
  ownsBuf: boolean;
  stacks: Record<StackName, number[]>;
  ptr: number | undefined;
  whichPtr: number | undefined;
  threadId: number;
  cond: boolean;
  matchIdNid: number;
  matchIdPid: number;
  /** Bytes of each of the IOV_SIZE iovecs over the buffer (the harness's iovec_length). */
  iovecLength: number;
}

const BUFFER_NODES = new Set(['ptl_md', 'ptl_md_bind', 'ptl_me', 'ptl_me_append', 'ptl_le', 'ptl_le_append']);

function defaults(): Info {
  return {
    count: 1, ret: PTL.OK, err: PTL.OK, iface: PTL.IFACE_DEFAULT, niOpt: PTL.NI_MATCHING | PTL.NI_PHYSICAL, pid: PTL.PID_ANY, uid: PTL.UID_ANY,
    desired: { max_entries: 15, max_mds: 10, max_cts: 10, max_eqs: 10, max_pt_index: 63, max_iovecs: 32, max_list_size: 10, max_msg_size: 32 * 1024, max_atomic_size: 64, max_unexpected_headers: 64 },
    desiredNull: false, actual: {}, niHandle: PTL.INVALID_HANDLE, reg: 0, status: 0, handle: PTL.INVALID_HANDLE, ptOpt: 0, ptIndex: 0, list: PTL.PRIORITY_LIST,
    md: { start: 0, length: 0, options: 0 }, le: { start: 0, length: 0, options: 0 }, me: { start: 0, length: 0, options: 0, match: 0n, ignore: 0n, minFree: 0 },
    mdHandle: PTL.INVALID_HANDLE, leHandle: PTL.INVALID_HANDLE, meHandle: PTL.INVALID_HANDLE, eqHandle: PTL.EQ_NONE, ctHandle: PTL.CT_NONE, eqCount: 10,
    event: null, ctEvent: { success: 0, failure: 0 }, ctTest: 0, timeout: 10, which: -1, atomOp: PTL.SUM, type: PTL.UINT8_T, getMd: PTL.INVALID_HANDLE, putMd: PTL.INVALID_HANDLE,
    userPtr: 0n, hdrData: 0n, length: 1, operand: null, match: 0n, locOffset: 0, locGetOffset: 0, locPutOffset: 0, remOffset: 0, ackReq: PTL.NO_ACK_REQ, threshold: 0,
    handle1: PTL.INVALID_HANDLE, handle2: PTL.INVALID_HANDLE, target: { nid: 0, pid: 0, rank: 0, logical: false }, getMapSize: 0, searchOp: PTL.SEARCH_ONLY, rank: PTL.RANK_ANY, mapSize: 10,
    map: null, id: { nid: 0, pid: 0, rank: 0 }, buf: 0, bufSize: 0, ownsBuf: false, stacks: { ni: [], pt: [], md: [], me: [], le: [], eq: [], ct: [] },
    ptr: undefined, whichPtr: undefined, threadId: 0, cond: false, matchIdNid: PTL.NID_ANY, matchIdPid: PTL.PID_ANY, iovecLength: 1024,
  };
}

function copy(i: Info): Info {
  return {
    ...i,
    desired: { ...i.desired },
    actual: { ...i.actual },
    md: { ...i.md },
    le: { ...i.le },
    me: { ...i.me },
    ctEvent: { ...i.ctEvent },
    target: { ...i.target },
    id: { ...i.id },
    stacks: Object.fromEntries(STACK.map((s) => [s, [...i.stacks[s]]])) as Record<StackName, number[]>,
  };
}

class ScriptError extends Error {}

const num = (v: string): number => {
  const t = v.trim();
  const n = /^-?0x/i.test(t) ? Number(BigInt(t.replace(/^-/, ''))) * (t.startsWith('-') ? -1 : 1) : parseInt(t, /^-?0[0-7]+$/.test(t) ? 8 : 10);
  return Number.isNaN(n) ? 0 : n;
};
const big = (v: string): bigint => {
  const t = v.trim();
  try {
    return BigInt.asUintN(64, t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t));
  } catch {
    return 0n;
  }
};

const RET: Record<string, number> = { ...RC, INVALID: 0xffffffff };
const ATOM_OP: Record<string, number> = { ...ATOMIC_OP, INVALID: 0xffffffff };
const ATOM_TYPE: Record<string, number> = { INT8: 0, UINT8: 1, INT16: 2, UINT16: 3, INT32: 4, UINT32: 5, FLOAT: 6, INT64: 7, UINT64: 8, DOUBLE: 9, COMPLEX: 10, DCOMPLEX: 11, LDOUBLE: 12, LDCOMPLEX: 13, INVALID: 0xffffffff };
const LIST: Record<string, number> = { PRIORITY: 0, OVERFLOW: 1, INVALID: 0xffffffff };
const SEARCH: Record<string, number> = { ONLY: 0, DELETE: 1, INVALID: 0xffffffff };
const ACK: Record<string, number> = { ACK: PTL.ACK_REQ, NO_ACK: PTL.NO_ACK_REQ, CT_ACK: PTL.CT_ACK_REQ, OC_ACK: PTL.OC_ACK_REQ, INVALID: 0xffffffff };
const EVENT: Record<string, number> = { ...EVENT_TYPE, INVALID: 0xffffffff };
const NI_FAIL: Record<string, number> = { ...NI_FAIL_TYPE, INVALID: 0xffffffff };

const enumOr = (table: Record<string, number>, v: string) => table[v.trim()] ?? num(v);

function mask(v: string, table: Record<string, number>, invalid: number): number {
  let out = 0;
  for (const tok of v.trim().split(/\s+/)) {
    if (tok === '') continue;
    if (tok === 'INVALID') return invalid;
    const b = table[tok];
    if (b === undefined) return num(tok);
    out |= b;
  }
  return out >>> 0;
}

const NI_OPT = { MATCH: PTL.NI_MATCHING, NO_MATCH: PTL.NI_NO_MATCHING, LOGICAL: PTL.NI_LOGICAL, PHYSICAL: PTL.NI_PHYSICAL };
const PT_OPT = { ONLY_USE_ONCE: PTL.PT_ONLY_USE_ONCE, ONLY_TRUNCATE: PTL.PT_ONLY_TRUNCATE, FLOW: PTL.PT_FLOWCTRL };
const MD_OPT = { IOVEC: PTL.IOVEC, SUCCESS_DISABLE: PTL.MD_EVENT_SUCCESS_DISABLE, CT_SEND: PTL.MD_EVENT_CT_SEND, CT_REPLY: PTL.MD_EVENT_CT_REPLY, CT_ACK: PTL.MD_EVENT_CT_ACK, CT_BYTES: PTL.MD_EVENT_CT_BYTES, UNORDERED: PTL.MD_UNORDERED, VOLATILE: PTL.MD_VOLATILE };
const LE_OPT = { IOVEC: PTL.IOVEC, OP_PUT: PTL.ME_OP_PUT, OP_GET: PTL.ME_OP_GET, USE_ONCE: PTL.ME_USE_ONCE, SUCCESS_DISABLE: PTL.ME_EVENT_SUCCESS_DISABLE, IS_ACCESSIBLE: PTL.ME_IS_ACCESSIBLE, EVENT_LINK_DISABLE: PTL.ME_EVENT_LINK_DISABLE, COMM_DISABLE: PTL.ME_EVENT_COMM_DISABLE, FLOW_DISABLE: PTL.ME_EVENT_FLOWCTRL_DISABLE, OVER_DISABLE: PTL.ME_EVENT_OVER_DISABLE, UNLINK_DISABLE: PTL.ME_EVENT_UNLINK_DISABLE, CT_COMM: PTL.ME_EVENT_CT_COMM, CT_OVERFLOW: PTL.ME_EVENT_CT_OVERFLOW, CT_BYTES: PTL.ME_EVENT_CT_BYTES };
const ME_OPT = { ...LE_OPT, MANAGE_LOCAL: PTL.ME_MANAGE_LOCAL, NO_TRUNCATE: PTL.ME_NO_TRUNCATE, MAY_ALIGN: PTL.ME_MAY_ALIGN };

function ptr(v: string): number {
  if (v === 'NULL') return 0;
  if (v === 'BAD') return 0x0123;
  return num(v);
}

function handle(info: Info, v: string): number {
  if (v === 'INVALID') return PTL.INVALID_HANDLE;
  if (v === 'CT_NONE') return PTL.CT_NONE;
  if (v === 'EQ_NONE') return PTL.EQ_NONE;
  const m = /^(\w\w)\[(\d+)\]$/.exec(v);
  if (m) {
    const stack = info.stacks[m[1] as StackName];
    if (stack === undefined) return 0xffffffff;
    return stack[Number(m[2])] ?? 0xffffffff;
  }
  return num(v) >>> 0;
}

function dollar(info: Info, v: string): number {
  if (!v.startsWith('$')) return num(v);
  const [a, b] = v.slice(1).split('.');
  if (a === 'count') return info.count;
  if (a === 'thread_id') return info.threadId;
  if (a === 'actual' && b === 'max_pt_index') return info.actual.max_pt_index ?? 0;
  return 0;
}

const DESIRED = ['max_entries', 'max_mds', 'max_eqs', 'max_cts', 'max_pt_index', 'max_iovecs', 'max_list_size', 'max_msg_size', 'max_atomic_size', 'max_volatile_size', 'max_unexpected_headers'];

/** get_attr: sets a node's parameters from its attributes. Throws on an unknown attribute. */
function* setAttrs(env: Env, info: Info, el: XmlElement): U {
  let data: { kind: 'md' | 'le' | 'me'; value: string } | null = null;
  for (const name of el.order) {
    const v = el.attrs[name];
    switch (name) {
      case 'ret': info.ret = enumOr(RET, v); break;
      case 'ptr': info.ptr = ptr(v); break;
      case 'count': info.count = dollar(info, v); break;
      case 'iface': info.iface = num(v) >>> 0; break;
      case 'ni_opt': info.niOpt = mask(v, NI_OPT, ~15 >>> 0); break;
      case 'pid': info.pid = dollar(info, v); break;
      case 'uid': info.uid = v === 'ANY' ? PTL.UID_ANY : dollar(info, v); break;
      case 'ni_handle': info.niHandle = handle(info, v); break;
      case 'reg': info.reg = dollar(info, v); break;
      case 'status': info.status = dollar(info, v); break;
      case 'handle': info.handle = handle(info, v); break;
      case 'pt_opt': info.ptOpt = mask(v, PT_OPT, ~31 >>> 0); break;
      case 'pt_index': info.ptIndex = v === 'MIN' ? 0 : v === 'MAX' ? (info.actual.max_pt_index ?? 0) : v === 'BIG' ? (info.actual.max_pt_index ?? 0) + 1 : v === 'ANY' ? PTL.PT_ANY : v === 'INVALID' ? 0x7fffffff : dollar(info, v); break;
      case 'list': info.list = enumOr(LIST, v); break;
      case 'md_start': info.md.start = ptr(v); break;
      case 'md_length': info.md.length = dollar(info, v); break;
      case 'md_opt': info.md.options = mask(v, MD_OPT, ~0x3ff >>> 0); break;
      case 'md_handle': info.mdHandle = handle(info, v); break;
      case 'md_data': data = { kind: 'md', value: v }; break;
      case 'le_start': info.le.start = ptr(v); break;
      case 'le_length': info.le.length = dollar(info, v); break;
      case 'le_opt': info.le.options = mask(v, LE_OPT, ~0x7fff >>> 0); break;
      case 'le_data': data = { kind: 'le', value: v }; break;
      case 'search_op': info.searchOp = enumOr(SEARCH, v); break;
      case 'me_start': info.me.start = ptr(v); break;
      case 'me_length': info.me.length = dollar(info, v); break;
      case 'me_match': info.me.match = big(v); break;
      case 'me_ignore': info.me.ignore = big(v); break;
      case 'me_opt': info.me.options = mask(v, ME_OPT, ~0x7ffff >>> 0); break;
      case 'me_min_free': info.me.minFree = dollar(info, v); break;
      case 'me_data': data = { kind: 'me', value: v }; break;
      case 'time': info.timeout = dollar(info, v); break;
      case 'which_ptr': info.whichPtr = ptr(v); break;
      case 'eq_count': info.eqCount = dollar(info, v); break;
      case 'eq_handle': info.eqHandle = handle(info, v); break;
      case 'ct_handle': info.ctHandle = handle(info, v); break;
      case 'ct_event_success': info.ctEvent.success = dollar(info, v); break;
      case 'ct_event_failure': info.ctEvent.failure = dollar(info, v); break;
      case 'ct_test': info.ctTest = dollar(info, v); break;
      case 'atom_op': info.atomOp = enumOr(ATOM_OP, v); break;
      case 'atom_type': case 'type': info.type = enumOr(ATOM_TYPE, v); break;
      case 'get_md_handle': info.getMd = handle(info, v); break;
      case 'put_md_handle': info.putMd = handle(info, v); break;
      case 'user_ptr': info.userPtr = BigInt(ptr(v)); break;
      case 'length': info.length = dollar(info, v); break;
      case 'operand': info.operand = v; break;
      case 'match': info.match = big(v); break;
      case 'loc_offset': info.locOffset = dollar(info, v); break;
      case 'loc_get_offset': info.locGetOffset = dollar(info, v); break;
      case 'loc_put_offset': info.locPutOffset = dollar(info, v); break;
      case 'rem_offset': info.remOffset = dollar(info, v); break;
      case 'ack_req': info.ackReq = enumOr(ACK, v); break;
      case 'threshold': info.threshold = dollar(info, v); break;
      case 'handle1': info.handle1 = handle(info, v); break;
      case 'handle2': info.handle2 = handle(info, v); break;
      case 'event_type': info.event = { ...(info.event ?? {}), type: enumOr(EVENT, v) }; break;
      case 'target_id': info.target = targetId(info, v); break;
      case 'get_map_size': info.getMapSize = dollar(info, v); break;
      case 'iovec_len': info.iovecLength = dollar(info, v); break;
      case 'desired_features': info.desired.features = v.includes('TARGET_BIND_INACCESSIBLE') ? 1 : num(v); break;
      default:
        if (name.startsWith('desired_') && DESIRED.includes(name.slice(8))) {
          info.desired[name.slice(8)] = dollar(info, v);
          break;
        }
        throw new ScriptError(`unsupported attribute ${name} on <${el.name}>`);
    }
  }
  if (data !== null) {
    const bytes = fillValue(info.type, data.value, info.bufSize);
    if (info.buf !== 0 && bytes.length > 0) yield* env.mem.store(info.buf, bytes);
  }
  // PTL_IOVEC: the descriptor points at IOV_SIZE iovecs of iovec_length bytes over the buffer.
  for (const k of ['md', 'le', 'me'] as const) {
    const d = info[k];
    if (!(d.options & PTL.IOVEC) || d.options === 0xffffffff) continue;
    if (!el.order.includes(`${k}_start`)) d.start = yield* iovecs(env, info);
    if (!el.order.includes(`${k}_length`)) d.length = IOV_SIZE;
  }
}

const IOV_SIZE = 32;

function* iovecs(env: Env, info: Info): U<number> {
  const va = yield* env.mem.alloc(16 * IOV_SIZE);
  const b = new Uint8Array(16 * IOV_SIZE);
  const dv = new DataView(b.buffer);
  for (let i = 0; i < IOV_SIZE; i++) {
    dv.setBigUint64(16 * i, BigInt(info.buf + info.iovecLength * i), true);
    dv.setBigUint64(16 * i + 8, BigInt(info.iovecLength), true);
  }
  yield* env.mem.store(va, b);
  return va;
}

function targetId(info: Info, v: string): Info['target'] {
  if (v === 'SELF') return { nid: info.id.nid, pid: info.id.pid, rank: info.id.rank, logical: false, self: true } as Info['target'];
  const colon = v.indexOf(':');
  if (colon >= 0) return { nid: dollar(info, v.slice(0, colon)), pid: dollar(info, v.slice(colon + 1)), rank: 0, logical: false };
  return { nid: 0, pid: 0, rank: dollar(info, v), logical: true };
}

interface Ctx {
  readonly env: Env;
  readonly ptl: PortalsLib;
  readonly log: string[];
  /** The runtime of a multi-rank run (null with one rank: a barrier of one has nothing to wait for). */
  readonly rt: Runtime | null;
}

/** Walks sibling elements; returns the number of errors (as walk_tree does). */
function* walk(ctx: Ctx, parent: Info, els: readonly XmlElement[]): U<number> {
  let errs = 0;
  let info = parent;
  for (const el of els) {
    const e = yield* node(ctx, info, el);
    errs += e;
    if (e > 0 && ctx.log.length < 3) ctx.log.push(`<${el.name}${el.order.map((a) => ` ${a}="${el.attrs[a]}"`).join('')}> failed`);
  }
  return errs;
}

function fail(ctx: Ctx, msg: string): number {
  if (ctx.log.length < 6) ctx.log.push(msg);
  return 1;
}

function rcCheck(ctx: Ctx, info: Info, name: string, rc: number): number {
  info.err = rc;
  if (info.ret !== rc) return fail(ctx, `${name} returned ${rc}, expected ${info.ret}`);
  return 0;
}

function* allocBuf(ctx: Ctx, info: Info): U {
  const size = Math.max(info.actual.max_msg_size ?? 0, 0);
  info.bufSize = size;
  info.ownsBuf = true;
  if (size === 0) {
    info.buf = 0;
    return;
  }
  const va = yield* ctx.env.sys.mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
  if (va < 0) throw new ScriptError(`cannot map a ${size}-byte buffer (errno ${-va})`);
  info.buf = va;
}

function* push(ctx: Ctx, head: Info, el: XmlElement): U<Info> {
  const info = copy(head);
  info.ownsBuf = false;
  info.count = 1;
  info.ret = PTL.OK;
  info.err = PTL.OK;
  info.type = PTL.UINT8_T;
  info.ptr = undefined;
  if (BUFFER_NODES.has(el.name)) yield* allocBuf(ctx, info);
  const len = info.actual.max_msg_size ?? 0;
  info.md = { start: info.buf, length: len, options: 0 };
  info.le = { start: info.buf, length: len, options: 0 };
  info.me = { start: info.buf, length: len, options: 0, match: 0n, ignore: 0n, minFree: 0 };
  info.matchIdNid = PTL.NID_ANY;
  info.matchIdPid = PTL.PID_ANY;
  switch (el.name) {
    case 'ptl_ni':
    case 'ptl_ni_init':
      info.niOpt = PTL.NI_MATCHING | PTL.NI_PHYSICAL;
      break;
    case 'ptl_pt':
    case 'ptl_pt_alloc':
      info.ptIndex = 0;
      info.ptOpt = 0;
      break;
    case 'ptl_eq_poll':
      info.which = -1;
      info.event = { type: -1 };
      break;
    case 'ptl_fetch':
    case 'ptl_trig_fetch':
    case 'ptl_swap':
    case 'ptl_trig_swap': {
      const mds = info.stacks.md;
      info.getMd = mds.length >= 2 ? mds[mds.length - 1] : PTL.INVALID_HANDLE;
      info.putMd = mds.length >= 2 ? mds[mds.length - 2] : PTL.INVALID_HANDLE;
      if (el.name.includes('swap')) info.atomOp = PTL.SWAP;
      break;
    }
  }
  return info;
}

function* pop(ctx: Ctx, info: Info): U {
  if (info.ownsBuf && info.buf !== 0) yield* ctx.env.sys.munmap(info.buf, info.bufSize);
}

const out = (info: Info) => (info.ptr === undefined ? undefined : { out: info.ptr });

function target(info: Info): { nid: number; pid: number } | { rank: number } {
  return info.target.logical ? { rank: info.target.rank } : { nid: info.target.nid, pid: info.target.pid };
}

function* node(ctx: Ctx, head: Info, el: XmlElement): U<number> {
  const { env } = ctx;
  switch (el.name) {
    case 'desc':
    case 'comment':
      return 0;
    case 'set':
      yield* setAttrs(env, head, el);
      return 0;
    case 'check':
      return yield* check(ctx, head, el);
    case 'if': {
      head.cond = (yield* check({ ...ctx, log: [] }, head, el)) === 0;
      return head.cond ? yield* walk(ctx, head, el.children) : 0;
    }
    case 'else':
      return head.cond ? 0 : yield* walk(ctx, head, el.children);
    case 'arg_check':
    case 'ifdef':
    case 'test':
    case 'subtest':
      return yield* walk(ctx, head, el.children);
    case 'barrier':
      if (ctx.rt !== null) yield* ctx.rt.barrier();
      return 0;
  }
  const info = yield* push(ctx, head, el);
  let errs = 0;
  try {
    yield* setAttrs(env, info, el);
    errs = yield* exec(ctx, info, el);
  } finally {
    yield* pop(ctx, info);
  }
  return errs;
}

function* exec(ctx: Ctx, info: Info, el: XmlElement): U<number> {
  const { env, ptl } = ctx;
  const kids = () => walk(ctx, info, el.children);
  const rc = (name: string, r: number) => rcCheck(ctx, info, name, r);
  let errs = 0;
  switch (el.name) {
    case 'repeat':
      for (let i = 0; i < info.count; i++) errs += yield* kids();
      return errs;
    case 'msleep':
      yield* env.sys.nanosleep(info.count * 1_000_000);
      return yield* kids();
    case 'get_time':
      return yield* kids();
    case 'threads': {
      const hs = [];
      for (let t = 0; t < info.count; t++) {
        const sub = copy(info);
        sub.threadId = t;
        hs.push(
          yield* env.spawn(function* (tenv) {
            const e = yield* walk({ env: tenv, ptl: new Portals(tenv.cpu, tenv.mem), log: ctx.log, rt: ctx.rt }, sub, el.children);
            return e > 0 ? 1 : 0;
          }),
        );
      }
      for (const h of hs) yield* env.join(h);
      return 0;
    }
    case 'ompi_rt': {
      info.rank = yield* env.sys.getrank();
      info.mapSize = yield* env.sys.getsize();
      // The runtime's map: where the launcher placed every rank (libtest_get_mapping).
      if (info.niHandle !== PTL.INVALID_HANDLE) info.map = yield* env.sys.jobMap();
      errs += yield* kids();
      info.map = null;
      return errs;
    }
    case 'ptl':
      errs = rc('PtlInit', yield* ptl.PtlInit());
      errs += yield* kids();
      yield* ptl.PtlFini();
      return errs;
    case 'ptl_init':
      errs = rc('PtlInit', yield* ptl.PtlInit());
      return errs + (yield* kids());
    case 'ptl_fini':
      yield* ptl.PtlFini();
      return yield* kids();
    case 'ptl_ni':
    case 'ptl_ni_init': {
      const r = yield* ptl.PtlNIInit(info.iface, info.niOpt, info.pid, info.desiredNull ? null : info.desired, out(info));
      errs = rc('PtlNIInit', r.rc);
      if (r.rc === PTL.OK && info.ptr === undefined) {
        info.niHandle = r.ni;
        info.actual = r.actual;
        info.stacks.ni.push(r.ni);
        const id = yield* ptl.PtlGetId(r.ni);
        info.id = { nid: id.nid, pid: id.pid, rank: id.rank };
        if (info.niOpt & PTL.NI_LOGICAL) yield* ptl.PtlSetMap(r.ni, info.map ?? [{ nid: 0, pid: 0 }]);
      }
      errs += yield* kids();
      if (el.name === 'ptl_ni') errs += rc('PtlNIFini', yield* ptl.PtlNIFini(info.niHandle));
      return errs;
    }
    case 'ptl_ni_fini':
      return rc('PtlNIFini', yield* ptl.PtlNIFini(info.niHandle)) + (yield* kids());
    case 'ptl_ni_status': {
      const r = yield* ptl.PtlNIStatus(info.niHandle, info.reg, out(info));
      info.status = r.status;
      return rc('PtlNIStatus', r.rc) + (yield* kids());
    }
    case 'ptl_ni_handle': {
      const r = yield* ptl.PtlNIHandle(info.handle, out(info));
      if (info.ptr === undefined) info.niHandle = r.ni;
      return rc('PtlNIHandle', r.rc) + (yield* kids());
    }
    case 'ptl_get_uid': {
      const r = yield* ptl.PtlGetUid(info.niHandle, out(info));
      info.uid = r.uid;
      return rc('PtlGetUid', r.rc) + (yield* kids());
    }
    case 'ptl_get_id': {
      const r = yield* ptl.PtlGetId(info.niHandle, out(info));
      if (info.ptr === undefined) info.id = { nid: r.nid, pid: r.pid, rank: r.rank };
      return rc('PtlGetId', r.rc) + (yield* kids());
    }
    case 'ptl_get_map': {
      const r = yield* ptl.PtlGetMap(info.niHandle, info.getMapSize, out(info));
      return rc('PtlGetMap', r.rc) + (yield* kids());
    }
    case 'ptl_pt': {
      const made: number[] = [];
      // Each of `count` entries is allocated with the element's own attributes (the harness re-reads them).
      const requested = info.ptIndex;
      for (let i = 0; i < info.count; i++) {
        const r = yield* ptl.PtlPTAlloc(info.niHandle, info.ptOpt, info.eqHandle, requested, out(info));
        errs += rc('PtlPTAlloc', r.rc);
        if (r.rc === PTL.OK && info.ptr === undefined) {
          info.ptIndex = r.index;
          info.stacks.pt.push(r.index);
          made.push(r.index);
        }
      }
      errs += yield* kids();
      for (const idx of made.reverse()) {
        let r = yield* ptl.PtlPTFree(info.niHandle, idx);
        for (let n = 0; r === PTL.PT_IN_USE && n < 100; n++) {
          yield* env.sys.schedYield();
          r = yield* ptl.PtlPTFree(info.niHandle, idx);
        }
        errs += rc('PtlPTFree', r);
      }
      return errs;
    }
    case 'ptl_pt_alloc': {
      const r = yield* ptl.PtlPTAlloc(info.niHandle, info.ptOpt, info.eqHandle, info.ptIndex, out(info));
      if (r.rc === PTL.OK && info.ptr === undefined) {
        info.ptIndex = r.index;
        info.stacks.pt.push(r.index);
      }
      return rc('PtlPTAlloc', r.rc) + (yield* kids());
    }
    case 'ptl_pt_free':
      return rc('PtlPTFree', yield* ptl.PtlPTFree(info.niHandle, info.ptIndex)) + (yield* kids());
    case 'ptl_pt_disable':
      return rc('PtlPTDisable', yield* ptl.PtlPTDisable(info.niHandle, info.ptIndex)) + (yield* kids());
    case 'ptl_pt_enable':
      return rc('PtlPTEnable', yield* ptl.PtlPTEnable(info.niHandle, info.ptIndex)) + (yield* kids());
    case 'ptl_eq':
    case 'ptl_eq_alloc': {
      const made: number[] = [];
      for (let i = 0; i < (el.name === 'ptl_eq' ? info.count : 1); i++) {
        const r = yield* ptl.PtlEQAlloc(info.niHandle, info.eqCount, out(info));
        errs += rc('PtlEQAlloc', r.rc);
        if (r.rc === PTL.OK && info.ptr === undefined) {
          info.eqHandle = r.eq;
          info.stacks.eq.push(r.eq);
          made.push(r.eq);
        }
      }
      errs += yield* kids();
      if (el.name === 'ptl_eq') for (const h of made.reverse()) errs += rc('PtlEQFree', yield* ptl.PtlEQFree(h));
      return errs;
    }
    case 'ptl_eq_free':
      return rc('PtlEQFree', yield* ptl.PtlEQFree(info.eqHandle)) + (yield* kids());
    case 'ptl_eq_get':
    case 'ptl_eq_wait': {
      const r = el.name === 'ptl_eq_get' ? yield* ptl.PtlEQGet(info.eqHandle, out(info)) : yield* ptl.PtlEQWait(info.eqHandle, out(info));
      if (r.event) info.event = r.event as unknown as Record<string, number | bigint>;
      return rc(el.name === 'ptl_eq_get' ? 'PtlEQGet' : 'PtlEQWait', r.rc) + (yield* kids());
    }
    case 'ptl_eq_poll': {
      const r = yield* ptl.PtlEQPoll([info.eqHandle], info.timeout, { ...(out(info) ?? {}), ...(info.whichPtr !== undefined ? { which: info.whichPtr } : {}) });
      if (r.event) info.event = r.event as unknown as Record<string, number | bigint>;
      info.which = r.which;
      return rc('PtlEQPoll', r.rc) + (yield* kids());
    }
    case 'ptl_ct':
    case 'ptl_ct_alloc': {
      const made: number[] = [];
      for (let i = 0; i < (el.name === 'ptl_ct' ? info.count : 1); i++) {
        const r = yield* ptl.PtlCTAlloc(info.niHandle, out(info));
        errs += rc('PtlCTAlloc', r.rc);
        if (r.rc === PTL.OK && info.ptr === undefined) {
          info.ctHandle = r.ct;
          info.stacks.ct.push(r.ct);
          made.push(r.ct);
        }
      }
      errs += yield* kids();
      if (el.name === 'ptl_ct') for (const h of made.reverse()) errs += rc('PtlCTFree', yield* ptl.PtlCTFree(h));
      return errs;
    }
    case 'ptl_ct_free':
      return rc('PtlCTFree', yield* ptl.PtlCTFree(info.ctHandle)) + (yield* kids());
    case 'ptl_ct_get':
    case 'ptl_ct_wait':
    case 'ptl_ct_poll': {
      const r = el.name === 'ptl_ct_get' ? yield* ptl.PtlCTGet(info.ctHandle, out(info)) : el.name === 'ptl_ct_wait' ? yield* ptl.PtlCTWait(info.ctHandle, info.ctTest, out(info)) : yield* ptl.PtlCTPoll([info.ctHandle], [info.ctTest], info.timeout, out(info));
      if (info.ptr === undefined) info.ctEvent = { success: r.success, failure: r.failure };
      if ('which' in r) info.which = r.which as number;
      return rc(el.name, r.rc) + (yield* kids());
    }
    case 'ptl_ct_set':
      return rc('PtlCTSet', yield* ptl.PtlCTSet(info.ctHandle, info.ctEvent.success, info.ctEvent.failure)) + (yield* kids());
    case 'ptl_ct_inc':
      return rc('PtlCTInc', yield* ptl.PtlCTInc(info.ctHandle, info.ctEvent.success, info.ctEvent.failure)) + (yield* kids());
    case 'ptl_ct_cancel_trig':
      return rc('PtlCTCancelTriggered', yield* ptl.PtlCTCancelTriggered(info.ctHandle)) + (yield* kids());
    case 'ptl_md':
    case 'ptl_md_bind': {
      const made: number[] = [];
      for (let i = 0; i < (el.name === 'ptl_md' ? info.count : 1); i++) {
        const r = yield* ptl.PtlMDBind(info.niHandle, { start: info.md.start, length: info.md.length, options: info.md.options, eq_handle: info.eqHandle, ct_handle: info.ctHandle }, out(info));
        errs += rc('PtlMDBind', r.rc);
        if (r.rc === PTL.OK && info.ptr === undefined) {
          info.mdHandle = r.md;
          info.stacks.md.push(r.md);
          made.push(r.md);
        }
      }
      errs += yield* kids();
      if (el.name === 'ptl_md') {
        for (const h of made.reverse()) {
          let r = yield* ptl.PtlMDRelease(h);
          for (let n = 0; r === PTL.IN_USE && n < 100; n++) {
            yield* env.sys.nanosleep(10_000_000);
            r = yield* ptl.PtlMDRelease(h);
          }
          errs += rc('PtlMDRelease', r);
        }
      }
      return errs;
    }
    case 'ptl_md_release':
      return rc('PtlMDRelease', yield* ptl.PtlMDRelease(info.mdHandle)) + (yield* kids());
    case 'ptl_le':
    case 'ptl_le_append':
    case 'ptl_me':
    case 'ptl_me_append': {
      const isMe = el.name.startsWith('ptl_me');
      const made: number[] = [];
      const e = isMe ? info.me : info.le;
      for (let i = 0; i < (el.name === 'ptl_le' || el.name === 'ptl_me' ? info.count : 1); i++) {
        const entry = { start: e.start, length: e.length, options: e.options, ct_handle: info.ctHandle, uid: info.uid, match_id_nid: info.niOpt & PTL.NI_LOGICAL ? PTL.RANK_ANY : info.matchIdNid, match_id_pid: info.matchIdPid, match_bits: isMe ? info.me.match : 0n, ignore_bits: isMe ? info.me.ignore : 0n, min_free: isMe ? info.me.minFree : 0 };
        const r = isMe ? yield* ptl.PtlMEAppend(info.niHandle, info.ptIndex, entry, info.list, info.userPtr, out(info)) : yield* ptl.PtlLEAppend(info.niHandle, info.ptIndex, entry, info.list, info.userPtr, out(info));
        errs += rc(isMe ? 'PtlMEAppend' : 'PtlLEAppend', r.rc);
        if (r.rc === PTL.OK && info.ptr === undefined) {
          if (isMe) info.meHandle = r.handle;
          else info.leHandle = r.handle;
          info.stacks[isMe ? 'me' : 'le'].push(r.handle);
          made.push(r.handle);
        }
      }
      errs += yield* kids();
      if (el.name === 'ptl_le' || el.name === 'ptl_me') {
        for (const h of made.reverse()) {
          const r = isMe ? yield* ptl.PtlMEUnlink(h) : yield* ptl.PtlLEUnlink(h);
          errs += rc(isMe ? 'PtlMEUnlink' : 'PtlLEUnlink', r);
        }
      }
      return errs;
    }
    case 'ptl_le_unlink':
      return rc('PtlLEUnlink', yield* ptl.PtlLEUnlink(info.leHandle)) + (yield* kids());
    case 'ptl_me_unlink':
      return rc('PtlMEUnlink', yield* ptl.PtlMEUnlink(info.meHandle)) + (yield* kids());
    case 'ptl_le_search':
    case 'ptl_me_search': {
      const isMe = el.name === 'ptl_me_search';
      const e = isMe ? info.me : info.le;
      const entry = { start: e.start, length: e.length, options: e.options, ct_handle: info.ctHandle, uid: info.uid, match_bits: isMe ? info.me.match : 0n, ignore_bits: isMe ? info.me.ignore : 0n };
      const r = isMe ? yield* ptl.PtlMESearch(info.niHandle, info.ptIndex, entry, info.searchOp, info.userPtr) : yield* ptl.PtlLESearch(info.niHandle, info.ptIndex, entry, info.searchOp, info.userPtr);
      return rc(el.name, r) + (yield* kids());
    }
    case 'ptl_put':
      return rc('PtlPut', yield* ptl.PtlPut(info.mdHandle, info.locOffset, info.length, info.ackReq, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData)) + (yield* kids());
    case 'ptl_get':
      return rc('PtlGet', yield* ptl.PtlGet(info.mdHandle, info.locOffset, info.length, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr)) + (yield* kids());
    case 'ptl_atomic':
      return rc('PtlAtomic', yield* ptl.PtlAtomic(info.mdHandle, info.locOffset, info.length, info.ackReq, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData, info.atomOp, info.type)) + (yield* kids());
    case 'ptl_fetch':
      return rc('PtlFetchAtomic', yield* ptl.PtlFetchAtomic(info.getMd, info.locGetOffset, info.putMd, info.locPutOffset, info.length, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData, info.atomOp, info.type)) + (yield* kids());
    case 'ptl_swap':
      return rc('PtlSwap', yield* ptl.PtlSwap(info.getMd, info.locGetOffset, info.putMd, info.locPutOffset, info.length, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData, operandBytes(info), info.atomOp, info.type)) + (yield* kids());
    case 'ptl_trig_put':
      return rc('PtlTriggeredPut', yield* ptl.PtlTriggeredPut(info.mdHandle, info.locOffset, info.length, info.ackReq, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData, info.ctHandle, info.threshold)) + (yield* kids());
    case 'ptl_trig_get':
      return rc('PtlTriggeredGet', yield* ptl.PtlTriggeredGet(info.mdHandle, info.locOffset, info.length, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.ctHandle, info.threshold)) + (yield* kids());
    case 'ptl_trig_atomic':
      return rc('PtlTriggeredAtomic', yield* ptl.PtlTriggeredAtomic(info.mdHandle, info.locOffset, info.length, info.ackReq, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData, info.atomOp, info.type, info.ctHandle, info.threshold)) + (yield* kids());
    case 'ptl_trig_fetch':
      return rc('PtlTriggeredFetchAtomic', yield* ptl.PtlTriggeredFetchAtomic(info.getMd, info.locGetOffset, info.putMd, info.locPutOffset, info.length, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData, info.atomOp, info.type, info.ctHandle, info.threshold)) + (yield* kids());
    case 'ptl_trig_swap':
      return rc('PtlTriggeredSwap', yield* ptl.PtlTriggeredSwap(info.getMd, info.locGetOffset, info.putMd, info.locPutOffset, info.length, target(info), info.ptIndex, info.match, info.remOffset, info.userPtr, info.hdrData, operandBytes(info), info.atomOp, info.type, info.ctHandle, info.threshold)) + (yield* kids());
    case 'ptl_trig_ct_inc':
    case 'ptl_trig_ct_set': {
      const trig = info.stacks.ct.length > 0 ? info.stacks.ct[info.stacks.ct.length - 1] : info.ctHandle;
      const f = el.name === 'ptl_trig_ct_inc' ? ptl.PtlTriggeredCTInc.bind(ptl) : ptl.PtlTriggeredCTSet.bind(ptl);
      return rc(el.name, yield* f(info.ctHandle, info.ctEvent.success, info.ctEvent.failure, trig, info.threshold)) + (yield* kids());
    }
    case 'ptl_start_bundle':
      return rc('PtlStartBundle', yield* ptl.PtlStartBundle(info.niHandle)) + (yield* kids());
    case 'ptl_end_bundle':
      return rc('PtlEndBundle', yield* ptl.PtlEndBundle(info.niHandle)) + (yield* kids());
    case 'ptl_handle_is_equal': {
      const eq = yield* ptl.PtlHandleIsEqual(info.handle1, info.handle2);
      return rc('PtlHandleIsEqual', eq ? PTL.OK : PTL.FAIL) + (yield* kids());
    }
    case 'ptl_atomic_sync':
      return rc('PtlAtomicSync', yield* ptl.PtlAtomicSync()) + (yield* kids());
  }
  throw new ScriptError(`unsupported element <${el.name}>`);
}

function operandBytes(info: Info): Uint8Array | null {
  if (info.operand === null) return new Uint8Array(32);
  const out = new Uint8Array(32);
  out.set(fillValue(info.type, info.operand, TYPE_SIZE[info.type] ?? 1));
  return out;
}

const EV_FIELD: Record<string, string> = {
  event_nid: 'initiator_nid', event_pid: 'initiator_pid', event_rank: 'initiator_nid', event_pt_index: 'pt_index', event_uid: 'uid', event_match: 'match_bits',
  event_rlength: 'rlength', event_mlength: 'mlength', event_offset: 'remote_offset', event_start: 'start', event_user_ptr: 'user_ptr', event_hdr_data: 'hdr_data',
  event_atom_type: 'atomic_type', event_ptl_list: 'ptl_list',
};

/** check_attr: compares the last call's results or memory. */
function* check(ctx: Ctx, info: Info, el: XmlElement): U<number> {
  let offset = 0;
  let length = 1;
  let type = PTL.UINT8_T as number;
  let data: string | null = null;
  for (const name of el.order) {
    const v = el.attrs[name];
    const want = (got: number | bigint, expect: number | bigint, what: string) => (BigInt.asUintN(64, BigInt(got)) === BigInt.asUintN(64, BigInt(expect)) ? 0 : fail(ctx, `check ${what}: got ${got}, expected ${expect}`));
    const ev = info.event ?? {};
    switch (name) {
      case 'err': if (want(info.err, enumOr(RET, v), 'err')) return 1; break;
      case 'thread_id': if (want(info.threadId, dollar(info, v), 'thread_id')) return 1; break;
      case 'which': if (want(info.which, dollar(info, v), 'which')) return 1; break;
      case 'event_type': if (want(ev.type ?? -1, enumOr(EVENT, v), 'event_type')) return 1; break;
      case 'event_ni_fail': if (want(ev.ni_fail_type ?? 0, enumOr(NI_FAIL, v), 'event_ni_fail')) return 1; break;
      case 'event_atom_op': if (want(ev.atomic_operation ?? 0, enumOr(ATOM_OP, v), 'event_atom_op')) return 1; break;
      case 'event_start': if (want(ev.start ?? 0, ptr(v), 'event_start')) return 1; break;
      case 'event_user_ptr': if (want(ev.user_ptr ?? 0n, ptr(v), 'event_user_ptr')) return 1; break;
      case 'event_ptl_list': if (want(ev.ptl_list ?? 0, enumOr(LIST, v), 'event_ptl_list')) return 1; break;
      case 'event_atom_type': if (want(ev.atomic_type ?? 0, enumOr(ATOM_TYPE, v), 'event_atom_type')) return 1; break;
      case 'ct_event_success': if (want(info.ctEvent.success, dollar(info, v), 'ct success')) return 1; break;
      case 'ct_event_failure': if (want(info.ctEvent.failure, dollar(info, v), 'ct failure')) return 1; break;
      case 'rank': if (want(info.id.rank, dollar(info, v), 'rank')) return 1; break;
      case 'length': length = dollar(info, v); break;
      case 'offset': offset = dollar(info, v); break;
      case 'type': type = enumOr(ATOM_TYPE, v); break;
      case 'md_data': case 'le_data': case 'me_data': data = v; break;
      default:
        if (name in EV_FIELD) {
          if (want(ev[EV_FIELD[name]] ?? 0, name === 'event_match' || name === 'event_hdr_data' ? big(v) : dollar(info, v), name)) return 1;
          break;
        }
        if (name.startsWith('actual_')) {
          const key = name.slice(7);
          if (want(info.actual[key] ?? 0, key === 'features' ? (v.includes('TARGET_BIND_INACCESSIBLE') ? 1 : num(v)) : dollar(info, v), name)) return 1;
          break;
        }
        throw new ScriptError(`unsupported check attribute ${name}`);
    }
  }
  if (data !== null) {
    if (info.buf === 0) return fail(ctx, 'check data with no buffer');
    const bytes = yield* ctx.env.mem.load(info.buf + offset, length);
    const bad = checkValue(type, data, bytes);
    if (bad !== null) return fail(ctx, `check data at offset ${offset}: ${bad}`);
  }
  return 0;
}

export interface RunOptions {
  /** Ranks to run on; by default as many as the script names (see scriptRanks). */
  readonly ranks?: number;
}

/** Simulated time the other ranks get to finish once one has failed (1 s). */
const GRACE_PS = 1e12;

/** The most ranks a run may ask for (each is a node of the simulated machine). */
export const MAX_RANKS = 64;

/**
 * How many ranks a script names: one more than the highest rank it branches
 * on (`<if rank="N">`, `<check rank="N">`) or addresses logically
 * (`target_id="N"`); 1 when it names none.
 */
export function scriptRanks(root: XmlElement): number {
  let most = 0;
  const visit = (el: XmlElement) => {
    const r = el.attrs.rank;
    if (r !== undefined && /^\d+$/.test(r.trim())) most = Math.max(most, Number(r) + 1);
    const t = el.attrs.target_id;
    if (t !== undefined && /^\d+$/.test(t.trim())) most = Math.max(most, Number(t) + 1);
    el.children.forEach(visit);
  };
  visit(root);
  return Math.max(1, most);
}

/** Runs one script on a fresh machine: one process per rank, each on its own compute node. */
export function runPortalsScript(name: string, text: string, opts: RunOptions = {}): ScriptOutcome {
  let root: XmlElement;
  try {
    root = parseXml(text);
  } catch (e) {
    return { name, status: 'failed', reason: `XML: ${(e as Error).message}` };
  }
  const ranks = opts.ranks ?? scriptRanks(root);
  if (!(Number.isInteger(ranks) && ranks >= 1 && ranks <= MAX_RANKS)) return { name, status: 'skipped', reason: `${ranks} ranks: the runner runs 1 to ${MAX_RANKS}` };
  // Nodes with room for the harness's buffers (memory is allocated only when touched).
  const profile = withOverrides(getProfile('redstorm'), { 'memory.bytes': 2 ** 40 }, 'portals conformance');
  const sys = new System({ profile, shape: { kind: 'mesh', dims: [ranks] }, seed: 1 });
  const logs: string[][] = Array.from({ length: ranks }, () => []);
  const unsupported: (string | null)[] = new Array(ranks).fill(null);
  // When one rank has failed, the others may wait for it in a barrier forever: give them a
  // simulated second to finish, then stop and report.
  let failedAt: number | null = null;
  const prog = program('portals-test', function* (env) {
    const rank = yield* env.sys.getrank();
    const log = logs[rank];
    try {
      const rt = ranks > 1 ? yield* Runtime.open(env) : null;
      const errs = yield* walk({ env, ptl: new Portals(env.cpu, env.mem), log, rt }, defaults(), root.name === 'test' ? root.children : [root]);
      if (errs > 0) failedAt ??= sys.now;
      return errs > 0 ? 1 : 0;
    } catch (e) {
      failedAt ??= sys.now;
      if (e instanceof ScriptError) {
        unsupported[rank] = e.message;
        return 2;
      }
      throw e;
    }
  });
  const job = sys.launchDirect(prog, Array.from({ length: ranks }, (_, i) => i), []);
  const stop = sys.run({ done: () => sys.jobDone(job) || (ranks > 1 && failedAt !== null && sys.now - failedAt > GRACE_PS), until: 120e12 });
  const skip = unsupported.find((u) => u !== null);
  if (skip) return { name, status: 'skipped', reason: skip, ranks };
  const problems: string[] = [];
  job.ranks.forEach((r, i) => {
    const p = r.process;
    const log = logs[i];
    let why: string | null = null;
    if (p === null) why = `not started: ${r.error}`;
    else if (p.exitStatus === null) why = `${stop.kind === 'idle' ? 'blocked forever' : 'still running'} after ${log.join('; ') || 'no failed check'}`;
    else if (p.exitStatus !== 0) why = p.exitReason || log.join('; ') || `exit ${p.exitStatus}`;
    if (why !== null) problems.push(ranks > 1 ? `rank ${i}: ${why}` : why);
  });
  const messages = sys.machine.network.delivered;
  if (problems.length === 0) return { name, status: 'passed', ranks, messages };
  return { name, status: 'failed', reason: problems.join(' | '), ranks, messages };
}

function portalsFiles(path: string): string[] {
  if (statSync(path).isDirectory()) {
    const active = join(path, 'ACTIVE.txt');
    let names: string[];
    try {
      names = readFileSync(active, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l.endsWith('.xml'));
    } catch {
      names = readdirSync(path).filter((f) => f.endsWith('.xml') && !f.startsWith('DEPRECATED')).sort();
    }
    return names.map((n) => join(path, n));
  }
  return [path];
}

/** A directory named test_nN (the reference's layout) runs its scripts on N ranks. */
export function directoryRanks(path: string): number | undefined {
  const m = /^test_n(\d+)$/.exec(basename(path.replace(/\/+$/, '')));
  return m ? Number(m[1]) : undefined;
}

export function runPortalsSuite(path: string, opts: RunOptions = {}): { passed: number; failed: number; skipped: number; total: number; scripts: ScriptOutcome[] } {
  const isDir = statSync(path).isDirectory();
  const ranks = opts.ranks ?? (isDir ? directoryRanks(path) : undefined);
  const scripts = portalsFiles(path).map((f) => runPortalsScript(basename(f), readFileSync(f, 'utf8'), { ranks }));
  const count = (s: ScriptOutcome['status']) => scripts.filter((x) => x.status === s).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), total: scripts.length, scripts };
}
