// The load-time verifier. Structural checks first (opcodes, registers,
// jump targets, lddw), then an abstract interpretation over every path, as
// the Linux verifier does: each register is uninitialised, a scalar with a
// signed range, or a pointer into a region with an offset range; the stack
// tracks which bytes hold data and which slots hold spilled pointers. Every
// memory access must be provably inside its region, every read of a
// register or of stack bytes must be of initialised data, and every helper
// call must be allowed for the hook with arguments of the right kind.
// The abstract values and their arithmetic are in absval.ts, the hook
// contract (regions, helpers, VerifyError) in hookspec.ts.
//
// Termination: loops are accepted (the analysis widens at loop heads and
// branch conditions re-bound loop counters) as long as every instruction the
// analysis reaches can still reach an exit: a loop with no way out is
// refused. A run is stopped by the instruction budget the hook gives it.
// Rejections name the instruction.
//
// Pointer offsets are exact while they stay within +-2^40 and become
// infinite (never again in bounds) past it: a pointer's region is the high
// word of its value, so an offset that wrapped could name another region.

import { ALU_OPS, ATOMIC, BPF_ALU, BPF_ALU64, BPF_JMP, BPF_JMP32, BPF_LDX, BPF_ST, BPF_STX, BPF_X, CALL, CALLX, CODE_MASK, EXIT, LDDW, MODE_ATOMIC, MODE_MASK, OP, type Program, SIZE_BYTES, SIZE_MASK, cls, isConditionalJump, knownOpcode } from './isa.ts';
import { type Reg, U32_MAX, UNINIT, UNKNOWN, alu, decide, joinReg, konst, loadedScalar, refine, sameReg, scalar } from './absval.ts';
import { type ArgSpec, type HelperSpec, type HookSpec, type RegionSpec, VerifyError } from './hookspec.ts';
import { StackFlags } from './stackflags.ts';
import { MAX_CALL_DEPTH, STACK_BYTES, STACK_FRAME, STACK_REGION } from './vmmem.ts';

export type { ArgSpec, HelperSpec, HookSpec, RegionSpec } from './hookspec.ts';
export { VerifyError } from './hookspec.ts';

interface Frame {
  readonly ret: number;
  readonly saved: readonly Reg[];
  /** The caller's call context, resumed at the return. */
  readonly ctx: number;
}

interface State {
  regs: Reg[];
  /** Which stack bytes hold data the program wrote; which 8-byte slots hold a spilled pointer. */
  stack: StackFlags<Reg>;
  frames: Frame[];
  /** The call context: a number naming the chain of return sites (0 for the entry function). */
  ctx: number;
}

function clone(s: State): State {
  return { regs: [...s.regs], stack: s.stack.fork(), frames: [...s.frames], ctx: s.ctx };
}

export interface VerifyResult {
  /** Abstract instructions analysed (a measure of verification effort). */
  readonly steps: number;
  /** Instructions reachable from the entry. */
  readonly reachable: number;
}

// The bounds on one verification's host work. A step costs a bounded amount
// (registers, at most MAX_CALL_DEPTH frames, and a fork of the stack flags
// that copies nothing), so capping the steps caps the work. Well-formed
// programs need few: every handler in the tests and conformance suites
// verifies in under 200. A function is analysed once per chain of calls that
// reaches it, so a call tree multiplies the work by its fan-out at every
// level; MAX_CONTEXTS refuses that by name long before the step cap.
export const MAX_STEPS = 100_000;
export const MAX_CONTEXTS = 64;
const WIDEN_AFTER = 6;

export function verify(p: Program, hook: HookSpec): VerifyResult {
  const second = structural(p, hook);
  const joins = joinPoints(p, second);
  const regionSize = new Map<number, RegionSpec>([[STACK_REGION, { id: STACK_REGION, name: 'stack', size: STACK_BYTES, writable: true }], ...hook.regions.map((r) => [r.id, r] as const)]);
  const helpers = new Map(hook.helpers.map((h) => [h.id, h]));

  const entry: State = { regs: new Array<Reg>(11).fill(UNINIT), stack: new StackFlags<Reg>(STACK_BYTES), frames: [], ctx: 0 };
  hook.args.forEach((a, i) => {
    entry.regs[i + 1] = a.kind === 'uninit' ? UNINIT : a.kind === 'scalar' ? (a.value === undefined ? UNKNOWN : konst(a.value)) : { t: 'ptr', region: a.region, min: a.offset, max: a.offset };
  });
  entry.regs[10] = { t: 'ptr', region: STACK_REGION, min: STACK_BYTES, max: STACK_BYTES };

  const seen = new Map<number, { state: State; visits: number }>();
  /** Call contexts: "callerCtx:returnSite" to its number; and how many contexts each function has. */
  const contexts = new Map<string, number>();
  const contextsOf = new Map<number, number>();
  const work: { pc: number; state: State }[] = [{ pc: 0, state: entry }];
  const reachable = new Set<number>();
  /** Control-flow edges the analysis followed (to each pc, from which pcs), and the exits it reached. */
  const preds = new Map<number, Set<number>>();
  const exits: number[] = [];
  let from = 0;
  let steps = 0;

  const push = (pc: number, s: State) => {
    let ps = preds.get(pc);
    if (ps === undefined) preds.set(pc, (ps = new Set()));
    ps.add(from);
    // Where only the instruction before leads, the state is that instruction's
    // result and nothing can be joined: keeping it would cost memory, not precision.
    if (!joins.has(pc)) {
      work.push({ pc, state: s });
      return;
    }
    const key = s.ctx * p.length + pc;
    const prev = seen.get(key);
    if (prev === undefined) {
      // Keep a copy: the worker mutates the state it pops.
      seen.set(key, { state: clone(s), visits: 1 });
      work.push({ pc, state: s });
      return;
    }
    const widen = prev.visits >= WIDEN_AFTER;
    const joined = clone(prev.state);
    let changed = false;
    for (let r = 0; r < 11; r++) {
      const j = joinReg(prev.state.regs[r], s.regs[r], widen);
      if (!sameReg(j, prev.state.regs[r])) changed = true;
      joined.regs[r] = j;
    }
    if (joined.stack.meet(s.stack, sameReg)) changed = true;
    // The call frames are the same chain of return sites (the key says so), but
    // the callers' saved registers differ from visit to visit: join them too,
    // or the caller resumes with the first visit's registers.
    joined.frames = prev.state.frames.map((f, i) => {
      const saved = f.saved.map((v, r) => joinReg(v, s.frames[i].saved[r], widen));
      if (saved.some((v, r) => !sameReg(v, f.saved[r]))) changed = true;
      return { ret: f.ret, saved, ctx: f.ctx };
    });
    if (!changed) return;
    prev.state = joined;
    prev.visits++;
    work.push({ pc, state: clone(joined) });
  };

  // A refusal carries the steps taken, so the caller is charged for them too.
  try {
    while (work.length > 0) {
      const { pc, state: s } = work.pop()!;
      from = pc;
      if (++steps > MAX_STEPS) throw new VerifyError(pc, `program too complex to verify (over ${MAX_STEPS} steps)`);
      if (pc >= p.length) throw new VerifyError(pc - 1, 'execution falls off the end of the program');
      reachable.add(pc);
      const op = p.op[pc];
      const d = p.dst[pc];
      const src = p.src[pc];
      const off = p.off[pc];
      const imm = p.imm[pc];
      const c = cls(op);
      const need = (r: number): Reg => {
        const v = s.regs[r];
        if (v.t === 'uninit') throw new VerifyError(pc, `reads r${r}, which is not initialised`);
        return v;
      };

      if (op === LDDW) {
        s.regs[d] = konst((BigInt(p.imm[pc + 1] >>> 0) << 32n) | BigInt(imm >>> 0));
        push(pc + 2, s);
        continue;
      }
      if (c === BPF_ALU || c === BPF_ALU64) {
        const code = op & CODE_MASK;
        if (hook.divByZero === 'reject' && (code === ALU_OPS.div || code === ALU_OPS.mod)) {
          const b = (op & BPF_X) !== 0 ? need(src) : konst(BigInt(imm));
          if (b.t === 'scalar' && b.min === b.max && (c === BPF_ALU64 ? b.min : BigInt.asUintN(32, b.min)) === 0n) throw new VerifyError(pc, `${code === ALU_OPS.div ? 'division' : 'modulo'} by zero, which the ${hook.name} hook forbids`);
        }
        s.regs[d] = alu(pc, op, off, imm, c === BPF_ALU64, s.regs[d], (op & BPF_X) !== 0 ? need(src) : konst(BigInt(imm)), need);
        push(pc + 1, s);
        continue;
      }
      if (c === BPF_LDX) {
        const size = SIZE_BYTES[op & SIZE_MASK];
        const base = need(src);
        const r = access(pc, base, off, size, false, regionSize);
        if (r.region === STACK_REGION) {
          checkStackInit(pc, s, r.lo, r.hi);
          const spilled = size === 8 && r.lo === r.hi - 8 + 0 && r.lo % 8 === 0 ? s.stack.spill(r.lo) : undefined;
          s.regs[d] = spilled ?? loadedScalar(op, size);
        } else s.regs[d] = loadedScalar(op, size);
        push(pc + 1, s);
        continue;
      }
      if (c === BPF_ST || c === BPF_STX) {
        const size = SIZE_BYTES[op & SIZE_MASK];
        const base = need(d);
        const value = c === BPF_STX ? need(src) : konst(BigInt(imm));
        const atomic = c === BPF_STX && (op & MODE_MASK) === MODE_ATOMIC;
        if (value.t === 'ptr' && !(size === 8 && !atomic)) throw new VerifyError(pc, 'a pointer may only be spilled whole (8 bytes) to the stack');
        const r = access(pc, base, off, size, true, regionSize);
        if (value.t === 'ptr' && r.region !== STACK_REGION) throw new VerifyError(pc, `storing a pointer into ${regionSize.get(r.region)!.name} would leak it`);
        if (r.region === STACK_REGION) {
          if (atomic) checkStackInit(pc, s, r.lo, r.hi);
          // Only a write at a known offset says which bytes now hold data.
          if (base.t === 'ptr' && base.min === base.max) s.stack.setWritten(r.lo, r.hi, true);
          s.stack.dropSpills(r.lo, r.hi);
          if (value.t === 'ptr' && r.lo === r.hi - 8 && r.lo % 8 === 0) s.stack.setSpill(r.lo, value);
        }
        if (atomic) {
          if (imm === ATOMIC.cmpxchg) {
            need(0);
            s.regs[0] = size === 4 ? scalar(0n, U32_MAX) : UNKNOWN;
          } else if (imm & ATOMIC.fetch) s.regs[src] = size === 4 ? scalar(0n, U32_MAX) : UNKNOWN;
          if (value.t === 'ptr') throw new VerifyError(pc, 'atomic operation on a pointer value');
        }
        push(pc + 1, s);
        continue;
      }
      // Jumps and calls.
      if (op === EXIT) {
        const r0 = need(0);
        if (s.frames.length === 0) {
          if (r0.t === 'ptr' && !hook.pointerReturn) throw new VerifyError(pc, 'returns a pointer (would leak a kernel address)');
          exits.push(pc);
          continue;
        }
        const f = s.frames.pop()!;
        s.ctx = f.ctx;
        for (let r = 6; r <= 10; r++) s.regs[r] = f.saved[r - 6];
        for (let r = 1; r <= 5; r++) s.regs[r] = UNINIT;
        push(f.ret, s);
        continue;
      }
      if (op === CALL && src === 1) {
        if (s.frames.length >= MAX_CALL_DEPTH - 1) throw new VerifyError(pc, `local calls nest deeper than ${MAX_CALL_DEPTH}`);
        const target = pc + 1 + imm;
        const chain = `${s.ctx}:${pc + 1}`;
        let ctx = contexts.get(chain);
        if (ctx === undefined) {
          const n = (contextsOf.get(target) ?? 0) + 1;
          if (n > MAX_CONTEXTS) throw new VerifyError(pc, `program too complex to verify: the function at instruction ${target} is reached through more than ${MAX_CONTEXTS} different chains of calls`);
          contextsOf.set(target, n);
          contexts.set(chain, (ctx = contexts.size + 1));
        }
        s.frames.push({ ret: pc + 1, saved: s.regs.slice(6, 11), ctx: s.ctx });
        s.ctx = ctx;
        const r10 = s.regs[10] as Extract<Reg, { t: 'ptr' }>;
        const top = r10.min - STACK_FRAME;
        // The callee's frame starts out holding nothing.
        s.stack.setWritten(Math.max(0, top - STACK_FRAME), top, false);
        s.stack.dropSpills(-Infinity, top);
        s.regs[10] = { t: 'ptr', region: STACK_REGION, min: top, max: top };
        push(target, s);
        continue;
      }
      if (op === CALL || op === CALLX) {
        let id = imm;
        if (op === CALLX) {
          const t = need(d);
          if (t.t !== 'scalar' || t.min !== t.max) throw new VerifyError(pc, `callx through r${d}, whose value is not a known helper id`);
          id = Number(t.min);
        }
        const h = helpers.get(id);
        if (h === undefined) throw new VerifyError(pc, `helper ${id} is not allowed for the ${hook.name} hook`);
        h.args.forEach((a, i) => checkArg(pc, h, i, a, s, need, regionSize));
        s.regs[0] = UNKNOWN;
        for (let r = 1; r <= 5; r++) s.regs[r] = UNINIT;
        push(pc + 1, s);
        continue;
      }
      if (op === OP.JA) {
        push(pc + 1 + off, s);
        continue;
      }
      if (op === OP.JA32) {
        push(pc + 1 + imm, s);
        continue;
      }
      if (isConditionalJump(op)) {
        const a = need(d);
        const b = (op & BPF_X) !== 0 ? need(src) : konst(BigInt(imm));
        const outcome = decide(op, a, b);
        const k = b.t === 'scalar' && b.min === b.max ? b.min : null;
        if (outcome !== false) {
          const t = clone(s);
          refine(t, op, d, k, true, c === BPF_JMP32);
          push(pc + 1 + off, t);
        }
        if (outcome !== true) {
          refine(s, op, d, k, false, c === BPF_JMP32);
          push(pc + 1, s);
        }
        continue;
      }
      throw new VerifyError(pc, `unhandled instruction 0x${op.toString(16)}`);
    }
    checkWayOut(reachable, preds, exits);
  } catch (e) {
    if (e instanceof VerifyError) e.steps = steps;
    throw e;
  }
  return { steps, reachable: reachable.size };
}

/** Refuses a loop with no way out: every reached instruction must reach an exit along edges the analysis followed. */
function checkWayOut(reachable: Set<number>, preds: Map<number, Set<number>>, exits: number[]): void {
  const live = new Set<number>(exits);
  const todo = [...exits];
  while (todo.length > 0) {
    for (const q of preds.get(todo.pop()!) ?? []) {
      if (live.has(q)) continue;
      live.add(q);
      todo.push(q);
    }
  }
  const stuck = [...reachable].filter((pc) => !live.has(pc)).sort((a, b) => a - b);
  if (stuck.length === 0) return;
  // Name the loop's head: the first stuck instruction some later one jumps back to.
  const head = stuck.find((pc) => [...(preds.get(pc) ?? [])].some((q) => q >= pc)) ?? stuck[0];
  throw new VerifyError(head, `loop with no way out (instructions ${stuck[0]}..${stuck[stuck.length - 1]} never reach an exit)`);
}

/**
 * The instructions where paths can meet: the entry, every jump or call
 * target, and every return site. Every loop passes through one (its head is
 * a jump target), so joining and widening there alone still terminates.
 */
function joinPoints(p: Program, second: Set<number>): Set<number> {
  const at = new Set<number>([0]);
  for (let pc = 0; pc < p.length; pc++) {
    const op = p.op[pc];
    if (second.has(pc)) continue;
    const c = cls(op);
    if (c !== BPF_JMP && c !== BPF_JMP32) continue;
    if (op === EXIT || op === CALLX) continue;
    if (op === CALL) {
      if (p.src[pc] === 1) at.add(pc + 1 + p.imm[pc]).add(pc + 1);
      continue;
    }
    at.add(op === OP.JA32 ? pc + 1 + p.imm[pc] : pc + 1 + p.off[pc]);
  }
  return at;
}

/** Structural checks; returns the set of lddw second halves. */
function structural(p: Program, hook: HookSpec): Set<number> {
  if (p.length === 0) throw new VerifyError(0, 'empty program');
  if (p.length > hook.maxInsns) throw new VerifyError(hook.maxInsns, `${p.length} instructions is more than the ${hook.name} hook allows (${hook.maxInsns})`);
  const second = new Set<number>();
  for (let pc = 0; pc < p.length; pc++) {
    const op = p.op[pc];
    if (p.dst[pc] > 10) throw new VerifyError(pc, `bad destination register r${p.dst[pc]}`);
    if (p.src[pc] > 10) throw new VerifyError(pc, `bad source register r${p.src[pc]}`);
    const bad = knownOpcode(op, p.src[pc], p.off[pc], p.imm[pc]);
    if (bad !== null) throw new VerifyError(pc, bad);
    const c = cls(op);
    const writesDst = c === BPF_ALU || c === BPF_ALU64 || c === BPF_LDX || op === LDDW;
    if (writesDst && p.dst[pc] === 10) throw new VerifyError(pc, 'writes r10, the read-only frame pointer');
    if (c === BPF_STX && (op & MODE_MASK) === MODE_ATOMIC && (p.imm[pc] & ATOMIC.fetch) && p.src[pc] === 10) throw new VerifyError(pc, 'atomic fetch into r10');
    if (op === LDDW) {
      if (pc + 1 >= p.length) throw new VerifyError(pc, 'incomplete lddw (no second half)');
      if (p.op[pc + 1] !== 0 || p.dst[pc + 1] !== 0 || p.src[pc + 1] !== 0 || p.off[pc + 1] !== 0) throw new VerifyError(pc + 1, 'malformed second half of lddw');
      second.add(pc + 1);
      pc++;
    }
  }
  for (let pc = 0; pc < p.length; pc++) {
    const op = p.op[pc];
    if (second.has(pc)) continue;
    const c = cls(op);
    if (c !== BPF_JMP && c !== BPF_JMP32) continue;
    if (op === EXIT || op === CALLX || (op === CALL && p.src[pc] === 0)) continue;
    const target = op === OP.JA32 || op === CALL ? pc + 1 + p.imm[pc] : pc + 1 + p.off[pc];
    if (target < 0 || target >= p.length) throw new VerifyError(pc, `jump to ${target}, outside the program (0..${p.length - 1})`);
    if (second.has(target)) throw new VerifyError(pc, `jump into the middle of the lddw at ${target - 1}`);
  }
  return second;
}

/** Checks a memory access and returns its byte range in the region. */
function access(pc: number, base: Reg, off: number, size: number, write: boolean, regions: Map<number, RegionSpec>): { region: number; lo: number; hi: number } {
  if (base.t !== 'ptr') throw new VerifyError(pc, `memory access through a ${base.t === 'scalar' ? 'scalar (not a pointer)' : 'uninitialised register'}`);
  const r = regions.get(base.region)!;
  const lo = base.min + off;
  const hi = base.max + off + size;
  if (lo < 0 || hi > r.size) {
    throw new VerifyError(pc, `${size}-byte ${write ? 'write' : 'read'} at ${r.name}${fmtRange(base.min + off, base.max + off)} is outside ${r.name} (0..${r.size})`);
  }
  if (write && !r.writable) throw new VerifyError(pc, `write to read-only ${r.name}`);
  return { region: base.region, lo, hi };
}

function fmtRange(lo: number, hi: number): string {
  const f = (x: number) => (Number.isFinite(x) ? String(x) : x < 0 ? '-inf' : 'inf');
  return lo === hi ? `+${f(lo)}` : `+[${f(lo)}, ${f(hi)}]`;
}

function checkStackInit(pc: number, s: State, lo: number, hi: number): void {
  const i = s.stack.firstUnwritten(lo, hi);
  if (i >= 0) throw new VerifyError(pc, `reads stack byte ${i - STACK_BYTES} (relative to the frame top), which was never written`);
}

function checkArg(pc: number, h: HelperSpec, i: number, a: ArgSpec, s: State, need: (r: number) => Reg, regions: Map<number, RegionSpec>): void {
  const r = i + 1;
  const v = need(r);
  if (a.kind === 'any') return;
  if (a.kind === 'scalar') {
    if (v.t !== 'scalar') throw new VerifyError(pc, `${h.name} wants a number in r${r}, got a pointer`);
    return;
  }
  if (v.t !== 'ptr') throw new VerifyError(pc, `${h.name} wants a pointer in r${r}`);
  let bytes = a.bytes ?? 0;
  if (a.sizeArg !== undefined) {
    const sz = need(a.sizeArg);
    if (sz.t !== 'scalar' || sz.min < 0n || sz.max > 1n << 30n) throw new VerifyError(pc, `${h.name}: the size in r${a.sizeArg} is not bounded`);
    bytes = Number(sz.max);
  }
  const range = access(pc, v, 0, bytes, a.write, regions);
  if (!a.write && range.region === STACK_REGION) checkStackInit(pc, s, range.lo, range.hi);
  // A helper that writes the stack may overwrite a spilled pointer: what is reloaded from there is a number.
  if (a.write && range.region === STACK_REGION) s.stack.dropSpills(range.lo, range.hi);
}
