// The compiler from verified eBPF to JavaScript. Each register becomes two
// local int32 variables (high and low word); each basic block a `case` of a
// dispatch switch, so straight-line code runs without dispatch and jumps are
// `pc = target; continue`. Results, memory effects, faults and instruction
// counts are the interpreter's, exactly: the budget is checked once per
// block, and a block that would overrun it is not started but handed, with
// the registers and call frames, to the interpreter, which runs the rest of
// the budget one instruction at a time; a fault inside a block takes the
// block's instructions after the faulting one back off the count (nothing
// after it ran). Only bytecode that passed the verifier is
// handed to `compile` (the loader enforces it): the generated code still
// bounds-checks every memory access, but it trusts the control flow.

import { COND32, COND64, conditionOf } from './conditions.ts';
import type { VmHelper, VmStatus } from './interp.ts';
import { ALU_OPS, BPF_ALU, BPF_ALU64, BPF_X, BPF_JMP, BPF_JMP32, BPF_LDX, BPF_ST, BPF_STX, CALL, CALLX, CLASS_MASK, CODE_MASK, EXIT, JMP_OPS, LDDW, MODE_ATOMIC, MODE_MASK, OP, type Program, SIZE_BYTES, SIZE_MASK, isConditionalJump } from './isa.ts';
import { RES, bswap16, bswap32, mul64, sdiv32, sdiv64, smod32, smod64, udiv32, udiv64, umod32, umod64 } from './ops64.ts';
import { MAX_CALL_DEPTH, STACK_BYTES, STACK_FRAME, STACK_REGION, type VmMemory, VmFault } from './vmmem.ts';

export interface CompiledRun {
  (mem: VmMemory, args: readonly bigint[], budget: number): { status: VmStatus; insns: number };
}

/** A run handed to the interpreter at a block that would overrun the budget: pc, registers, and call frames as [l6, h6, .., l10, h10, ret]. */
export interface Handoff {
  readonly pc: number;
  readonly L: Int32Array;
  readonly H: Int32Array;
  readonly frames: readonly number[][];
}

/** What the generated code calls for the long operations. */
const RUNTIME = { RES, bswap16, bswap32, mul64, sdiv32, sdiv64, smod32, smod64, udiv32, udiv64, umod32, umod64, VmFault };

function leaders(p: Program): boolean[] {
  const lead = new Array<boolean>(p.length + 1).fill(false);
  lead[0] = true;
  for (let pc = 0; pc < p.length; pc++) {
    const op = p.op[pc];
    const c = op & CLASS_MASK;
    if (op === LDDW) {
      pc++;
      continue;
    }
    if (c !== BPF_JMP && c !== BPF_JMP32) continue;
    lead[pc + 1] = true;
    const code = op & CODE_MASK;
    if (op === OP.JA32) lead[pc + 1 + p.imm[pc]] = true;
    else if (op === CALL && p.src[pc] === 1) lead[pc + 1 + p.imm[pc]] = true;
    else if (code !== JMP_OPS.call && code !== JMP_OPS.exit) lead[pc + 1 + p.off[pc]] = true;
  }
  return lead;
}

/** Generates the JavaScript source of a program's body (exposed for inspection and tests). */
function generate(p: Program): string {
  const lead = leaders(p);
  const out: string[] = [];
  const R = (r: number) => `l${r}`;
  const Hh = (r: number) => `h${r}`;
  const sync = (regs: number[]) => regs.map((r) => `L[${r}] = l${r}; H[${r}] = h${r};`).join(' ');
  const all = Array.from({ length: 11 }, (_, i) => i);
  const back = (pc: number, status: string) => `${sync(all)} return { status: ${status}, insns: n, pc: ${pc} };`;
  const addr = (base: number, off: number) =>
    `{ const o = (${R(base)} >>> 0) + (${off}); A_HI = ${Hh(base)} + (o > 0xffffffff ? 1 : o < 0 ? -1 : 0); A_LO = o | 0; }`;
  // r10 always points into the stack (it is read-only and the verifier checks its uses),
  // so accesses through it go straight to the stack's DataView, still bounds-checked.
  const region = (base: number, size: number, write: boolean, pc: number) =>
    base === 10
      ? `const at = A_LO >>> 0; if (at + ${size} > ${STACK_BYTES}) throw new rt.VmFault(${pc}, 'stack access out of bounds'); const Rg = STK;`
      : `const Rg = mem.region(A_HI, A_LO, ${size}, ${write}, ${pc}); const at = A_LO >>> 0;`;
  // An access at r10 + off: r10's low word is an offset in the stack region
  // (only calls move it), so the address is that plus off, still bounds-checked.
  const stackAt = (off: number, size: number, pc: number) =>
    `const at = l10 + (${off}); if (at < 0 || at + ${size} > ${STACK_BYTES}) throw new rt.VmFault(${pc}, 'stack access out of bounds'); const Rg = STK;`;
  // Basic-block lengths, for the instruction budget.
  const blockLen: number[] = [];
  for (let pc = 0; pc < p.length; ) {
    let end = pc + 1;
    while (end < p.length && !lead[end]) end++;
    let count = 0;
    for (let i = pc; i < end; i++) {
      count++;
      if (p.op[i] === LDDW) i++;
    }
    blockLen[pc] = count;
    pc = end;
  }
  // A block whose last instruction branches back to its own start (a tight
  // loop) runs as a JavaScript loop inside its case: no switch dispatch per
  // iteration. Within a basic block only the last instruction transfers control.
  const selfLoop = new Set<number>();
  for (let pc = 0, start = 0; pc < p.length; pc++) {
    if (lead[pc]) start = pc;
    const last = pc + (p.op[pc] === LDDW ? 2 : 1);
    if (isConditionalJump(p.op[pc]) && last - 1 + 1 + p.off[pc] === start && (last >= p.length || lead[last])) selfLoop.add(pc);
    if (p.op[pc] === LDDW) pc++;
  }
  const loopStarts = new Set<number>();
  for (let pc = 0, start = 0; pc < p.length; pc++) {
    if (lead[pc]) start = pc;
    if (selfLoop.has(pc)) loopStarts.add(start);
    if (p.op[pc] === LDDW) pc++;
  }
  for (let pc = 0; pc < p.length; pc++) {
    if (lead[pc]) out.push(`case ${pc}: ${loopStarts.has(pc) ? 'for (;;) { ' : ''}if (n + ${blockLen[pc]} > budget) { ${sync(all)} return { status: null, insns: n, pc: ${pc}, frames }; } n += ${blockLen[pc]};`);
    const op = p.op[pc];
    const d = p.dst[pc];
    const s = p.src[pc];
    const off = p.off[pc];
    const imm = p.imm[pc];
    const c = op & CLASS_MASK;
    const x = (op & BPF_X) !== 0;
    const code = op & CODE_MASK;
    const bl = x ? R(s) : `${imm}`;
    const bh = x ? Hh(s) : `${imm >> 31}`;
    const dl = R(d);
    const dh = Hh(d);
    if (op === LDDW) {
      out.push(`${dl} = ${imm}; ${dh} = ${p.imm[pc + 1]};`);
      pc++;
      continue;
    }
    if (c === BPF_ALU64) {
      switch (code) {
        case ALU_OPS.add: out.push(`{ const a = ${dl}, b = ${bl}; ${dl} = (a + b) | 0; ${dh} = (${dh} + ${bh} + ((a >>> 0) + (b >>> 0) > 0xffffffff ? 1 : 0)) | 0; }`); break;
        case ALU_OPS.sub: out.push(`{ const a = ${dl}, b = ${bl}; ${dl} = (a - b) | 0; ${dh} = (${dh} - ${bh} - ((a >>> 0) < (b >>> 0) ? 1 : 0)) | 0; }`); break;
        case ALU_OPS.mul: out.push(`rt.mul64(${dh}, ${dl}, ${bh}, ${bl}); ${dh} = RES[0]; ${dl} = RES[1];`); break;
        case ALU_OPS.div: out.push(`rt.${off ? 'sdiv64' : 'udiv64'}(${dh}, ${dl}, ${bh}, ${bl}); ${dh} = RES[0]; ${dl} = RES[1];`); break;
        case ALU_OPS.mod: out.push(`rt.${off ? 'smod64' : 'umod64'}(${dh}, ${dl}, ${bh}, ${bl}); ${dh} = RES[0]; ${dl} = RES[1];`); break;
        case ALU_OPS.or: out.push(`${dl} |= ${bl}; ${dh} |= ${bh};`); break;
        case ALU_OPS.and: out.push(`${dl} &= ${bl}; ${dh} &= ${bh};`); break;
        case ALU_OPS.xor: out.push(`${dl} ^= ${bl}; ${dh} ^= ${bh};`); break;
        case ALU_OPS.neg: out.push(`{ const a = ${dl}; ${dl} = -a | 0; ${dh} = (~${dh} + (a === 0 ? 1 : 0)) | 0; }`); break;
        case ALU_OPS.mov:
          if (!x || off === 0) out.push(`${dl} = ${bl}; ${dh} = ${bh};`);
          else if (off === 32) out.push(`${dl} = ${bl}; ${dh} = ${bl} >> 31;`);
          else out.push(`${dl} = (${bl} << ${32 - off}) >> ${32 - off}; ${dh} = ${dl} >> 31;`);
          break;
        case ALU_OPS.lsh: case ALU_OPS.rsh: case ALU_OPS.arsh: {
          const sh = x ? `(${bl} & 63)` : `${imm & 63}`;
          const kind = code === ALU_OPS.lsh ? 'lsh' : code === ALU_OPS.rsh ? 'rsh' : 'arsh';
          out.push(`{ const k = ${sh}; if (k !== 0) { ${shift64(kind, dl, dh)} } }`);
          break;
        }
        case ALU_OPS.end: out.push(`${imm === 16 ? `${dl} = rt.bswap16(${dl}); ${dh} = 0;` : imm === 32 ? `${dl} = rt.bswap32(${dl}); ${dh} = 0;` : `{ const t = ${dl}; ${dl} = rt.bswap32(${dh}); ${dh} = rt.bswap32(t); }`}`); break;
      }
      continue;
    }
    if (c === BPF_ALU) {
      const b = x ? R(s) : `${imm}`;
      const set = (e: string) => out.push(`${dl} = ${e}; ${dh} = 0;`);
      switch (code) {
        case ALU_OPS.add: set(`(${dl} + ${b}) | 0`); break;
        case ALU_OPS.sub: set(`(${dl} - ${b}) | 0`); break;
        case ALU_OPS.mul: set(`Math.imul(${dl}, ${b})`); break;
        case ALU_OPS.div: set(`rt.${off ? 'sdiv32' : 'udiv32'}(${dl}, ${b})`); break;
        case ALU_OPS.mod: set(`rt.${off ? 'smod32' : 'umod32'}(${dl}, ${b})`); break;
        case ALU_OPS.or: set(`${dl} | ${b}`); break;
        case ALU_OPS.and: set(`${dl} & ${b}`); break;
        case ALU_OPS.xor: set(`${dl} ^ ${b}`); break;
        case ALU_OPS.lsh: set(`${dl} << (${b} & 31)`); break;
        case ALU_OPS.rsh: set(`(${dl} >>> (${b} & 31)) | 0`); break;
        case ALU_OPS.arsh: set(`${dl} >> (${b} & 31)`); break;
        case ALU_OPS.neg: set(`-${dl} | 0`); break;
        case ALU_OPS.mov: set(x && off ? `(${b} << ${32 - off}) >> ${32 - off}` : b); break;
        case ALU_OPS.end:
          if (x) out.push(imm === 16 ? `${dl} = rt.bswap16(${dl}); ${dh} = 0;` : imm === 32 ? `${dl} = rt.bswap32(${dl}); ${dh} = 0;` : `{ const t = ${dl}; ${dl} = rt.bswap32(${dh}); ${dh} = rt.bswap32(t); }`);
          else out.push(imm === 16 ? `${dl} &= 0xffff; ${dh} = 0;` : imm === 32 ? `${dh} = 0;` : '');
          break;
      }
      continue;
    }
    if (c === BPF_LDX) {
      const size = SIZE_BYTES[op & SIZE_MASK];
      const read = {
        [OP.LDXDW]: `${dl} = Rg.dv.getInt32(at, true); ${dh} = Rg.dv.getInt32(at + 4, true);`,
        [OP.LDXW]: `${dl} = Rg.dv.getInt32(at, true); ${dh} = 0;`,
        [OP.LDXH]: `${dl} = Rg.dv.getUint16(at, true); ${dh} = 0;`,
        [OP.LDXB]: `${dl} = Rg.bytes[at]; ${dh} = 0;`,
        [OP.LDXSW]: `${dl} = Rg.dv.getInt32(at, true); ${dh} = ${dl} >> 31;`,
        [OP.LDXSH]: `${dl} = Rg.dv.getInt16(at, true); ${dh} = ${dl} >> 31;`,
        [OP.LDXSB]: `${dl} = Rg.dv.getInt8(at); ${dh} = ${dl} >> 31;`,
      }[op]!;
      out.push(s === 10 ? `{ ${stackAt(off, size, pc)} ${read} }` : `${addr(s, off)} { ${region(s, size, false, pc)} ${read} }`);
      continue;
    }
    if (c === BPF_ST || c === BPF_STX) {
      const size = SIZE_BYTES[op & SIZE_MASK];
      if ((op & MODE_MASK) === MODE_ATOMIC) {
        out.push(`${sync(all)} ${addr(d, off)} rt_atomic(${op}, A_HI, A_LO, ${s}, ${imm}, ${pc}); ${all.map((r) => `l${r} = L[${r}]; h${r} = H[${r}];`).join(' ')}`);
        continue;
      }
      const vl = c === BPF_STX ? R(s) : `${imm}`;
      const vh = c === BPF_STX ? Hh(s) : `${imm >> 31}`;
      const write = size === 8 ? `Rg.dv.setInt32(at, ${vl}, true); Rg.dv.setInt32(at + 4, ${vh}, true);` : size === 4 ? `Rg.dv.setInt32(at, ${vl}, true);` : size === 2 ? `Rg.dv.setInt16(at, ${vl}, true);` : `Rg.bytes[at] = ${vl};`;
      out.push(d === 10 ? `{ ${stackAt(off, size, pc)} ${write} }` : `${addr(d, off)} { ${region(d, size, true, pc)} ${write} }`);
      continue;
    }
    // jumps, calls, exit
    if (op === OP.JA) {
      out.push(`pc = ${pc + 1 + off}; continue;`);
      continue;
    }
    if (op === OP.JA32) {
      out.push(`pc = ${pc + 1 + imm}; continue;`);
      continue;
    }
    if (op === EXIT) {
      out.push(`if (frames.length === 0) { ${back(pc, '{ kind: "exit", r0: (BigInt(h0 >>> 0) << 32n) | BigInt(l0 >>> 0) }')} } { const f = frames.pop(); l6 = f[0]; h6 = f[1]; l7 = f[2]; h7 = f[3]; l8 = f[4]; h8 = f[5]; l9 = f[6]; h9 = f[7]; l10 = f[8]; h10 = f[9]; pc = f[10]; continue; }`);
      continue;
    }
    if (op === CALL && s === 1) {
      out.push(`if (frames.length >= ${MAX_CALL_DEPTH - 1}) throw new rt.VmFault(${pc}, 'call depth exceeds ${MAX_CALL_DEPTH}'); frames.push([l6, h6, l7, h7, l8, h8, l9, h9, l10, h10, ${pc + 1}]); l10 = (l10 - ${STACK_FRAME}) | 0; pc = ${pc + 1 + imm}; continue;`);
      continue;
    }
    if (op === CALL || op === CALLX) {
      const id = op === CALL ? `${imm}` : R(d);
      out.push(`${sync(all)} if (rt_helper(${id}, ${pc})) { L[0] = 0; H[0] = 0; ${back(pc, '{ kind: "exit", r0: 0n }')} } l0 = L[0]; h0 = H[0]; l1 = 0; h1 = 0; l2 = 0; h2 = 0; l3 = 0; h3 = 0; l4 = 0; h4 = 0; l5 = 0; h5 = 0; pc = ${pc + 1}; continue;`);
      continue;
    }
    if (isConditionalJump(op)) {
      const cmp = (c === BPF_JMP32 ? COND32 : COND64)[conditionOf(op)];
      if (selfLoop.has(pc)) out.push(`{ const a = ${dl}, b = ${bl}, ah = ${dh}, bh = ${bh}; if (${cmp}) continue; } break; }`);
      else out.push(`{ const a = ${dl}, b = ${bl}, ah = ${dh}, bh = ${bh}; if (${cmp}) { pc = ${pc + 1 + off}; continue; } }`);
      continue;
    }
    out.push(`throw new rt.VmFault(${pc}, 'unknown opcode 0x${op.toString(16)}');`);
  }
  out.push(`default: throw new rt.VmFault(pc, 'fell off the program');`);
  const decl = all.map((r) => `l${r} = L[${r}], h${r} = H[${r}]`).join(', ');
  return `let ${decl}; let A_HI = 0, A_LO = 0; const RES = rt.RES; const STK = mem.regions[${STACK_REGION - 1}];
for (;;) { switch (pc) {
${out.join('\n')}
} }`;
}

function shift64(kind: 'lsh' | 'rsh' | 'arsh', dl: string, dh: string): string {
  if (kind === 'lsh') return `if (k < 32) { ${dh} = (${dh} << k) | (${dl} >>> (32 - k)); ${dl} <<= k; } else { ${dh} = ${dl} << (k - 32); ${dl} = 0; }`;
  if (kind === 'rsh') return `if (k < 32) { ${dl} = (${dl} >>> k) | (${dh} << (32 - k)); ${dh} = (${dh} >>> k) | 0; } else { ${dl} = (${dh} >>> (k - 32)) | 0; ${dh} = 0; }`;
  return `if (k < 32) { ${dl} = (${dl} >>> k) | (${dh} << (32 - k)); ${dh} >>= k; } else { ${dl} = ${dh} >> (k - 32); ${dh} >>= 31; }`;
}

export interface CompileEnv {
  readonly helpers: ReadonlyMap<number, VmHelper>;
  /** Performs an atomic on memory through a VM-shaped view (shared with the interpreter). */
  readonly atomic: (mem: VmMemory, L: Int32Array, H: Int32Array, op: number, hi: number, lo: number, src: number, imm: number, pc: number) => void;
  /** Calls helper `id` with registers in L/H; returns true to unwind. */
  readonly helper: (mem: VmMemory, L: Int32Array, H: Int32Array, id: number, pc: number) => boolean;
  /** Runs up to `budget` more instructions on the interpreter from a handed-off state. */
  readonly resume: (mem: VmMemory, at: Handoff, budget: number) => { status: VmStatus; insns: number };
}

/** For each pc, how many instructions of its basic block come after it (not run when it faults). */
function instructionsAfter(p: Program): Int32Array {
  const lead = leaders(p);
  const after = new Int32Array(p.length);
  let block: number[] = [];
  const close = () => block.forEach((q, i) => (after[q] = block.length - 1 - i));
  for (let pc = 0; pc < p.length; pc += p.op[pc] === LDDW ? 2 : 1) {
    if (lead[pc]) {
      close();
      block = [];
    }
    block.push(pc);
  }
  close();
  return after;
}

/** Compiles a verified program into a JavaScript function. */
export function compile(p: Program, env: CompileEnv): CompiledRun {
  const body = generate(p);
  const after = instructionsAfter(p);
  const factory = new Function('rt', 'rt_env', 'AFTER', `return function run(mem, L, H, budget) {
  let n = 0; let pc = 0; const frames = [];
  const rt_atomic = (op, hi, lo, src, imm, at) => rt_env.atomic(mem, L, H, op, hi, lo, src, imm, at);
  const rt_helper = (id, at) => rt_env.helper(mem, L, H, id, at);
  try {
${body}
  } catch (e) {
    if (e instanceof rt.VmFault) return { status: { kind: 'fault', pc: e.pc, message: e.message }, insns: n - (AFTER[e.pc] ?? 0) };
    throw e;
  }
};`) as (rt: typeof RUNTIME, env: CompileEnv, after: Int32Array) => (mem: VmMemory, L: Int32Array, H: Int32Array, budget: number) => { status: VmStatus | null; insns: number; pc?: number; frames?: number[][] };
  const run = factory(RUNTIME, env, after);
  return (mem, args, budget) => {
    const L = new Int32Array(11);
    const H = new Int32Array(11);
    args.forEach((v, i) => {
      const u = BigInt.asUintN(64, v);
      H[i + 1] = Number(BigInt.asIntN(32, u >> 32n));
      L[i + 1] = Number(BigInt.asIntN(32, u));
    });
    H[10] = STACK_REGION;
    L[10] = STACK_BYTES;
    const r = run(mem, L, H, budget);
    if (r.status !== null) return { status: r.status, insns: r.insns };
    const rest = env.resume(mem, { pc: r.pc!, L, H, frames: r.frames! }, budget - r.insns);
    return { status: rest.status, insns: r.insns + rest.insns };
  };
}
