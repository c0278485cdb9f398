// An assembler for the text syntax of the BPF conformance suite (and of
// ubpf): `mov %r0, 1`, `ldxw %r0, [%r1+4]`, `jne %r1, 0, +2` or a label,
// `lddw`, `call N`, `call %rN`, `call local LABEL`, `lock fetch add32`,
// `movsx1632`, `be16`, ... and `call NAME` for a helper of the hook the
// program is assembled for (its id from the hook's helper table). Errors
// name the line.

import { ALU_OPS, ATOMIC, BPF_ALU, BPF_ALU64, BPF_JMP, BPF_JMP32, BPF_K, BPF_LDX, BPF_ST, BPF_STX, BPF_X, CALL, CALLX, EXIT, type Insn, JMP_OPS, LDDW, MODE_ATOMIC, MODE_MEM, MODE_MEMSX, SIZE, encode } from './isa.ts';

export class AsmError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'AsmError';
  }
}

const REG = /^%r(\d+)$/;
const MEM = /^\[%r(\d+)\s*(?:([+-])\s*(\w+))?\]$/;

function reg(tok: string, line: number): number {
  const m = REG.exec(tok);
  if (!m || Number(m[1]) > 10) throw new AsmError(line, `expected a register %r0..%r10, got '${tok}'`);
  return Number(m[1]);
}

function num(tok: string, line: number): bigint {
  const t = tok.trim();
  if (!/^[+-]?(0x[0-9a-f]+|\d+)$/i.test(t)) throw new AsmError(line, `expected a number, got '${tok}'`);
  const neg = t.startsWith('-');
  const body = t.replace(/^[+-]/, '');
  const v = BigInt(body);
  return neg ? -v : v;
}

function imm32(tok: string, line: number): number {
  const v = num(tok, line);
  if (v < -(2n ** 63n) || v >= 2n ** 64n) throw new AsmError(line, `immediate ${tok} does not fit in 64 bits`);
  return Number(BigInt.asIntN(32, v));
}

function mem(tok: string, line: number): { base: number; off: number } {
  const m = MEM.exec(tok.replace(/\s+/g, ''));
  if (!m) throw new AsmError(line, `expected a memory operand like [%r1+8], got '${tok}'`);
  const base = Number(m[1]);
  if (base > 10) throw new AsmError(line, `no register %r${base}`);
  const off = m[2] ? (m[2] === '-' ? -1 : 1) * Number(num(m[3], line)) : 0;
  if (off < -32768 || off > 32767) throw new AsmError(line, `offset ${off} does not fit in 16 bits`);
  return { base, off };
}

function operands(rest: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of rest) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

interface Pending {
  insn: Insn;
  label?: string;
  line: number;
  /** For `call local`: the offset is pc-relative in imm. */
  local?: boolean;
  /** For ja32: the target goes in imm. */
  wideJump?: boolean;
}

const SIZES: Record<string, number> = { b: SIZE.b, h: SIZE.h, w: SIZE.w, dw: SIZE.dw };

/** Assembles a program; returns its bytes. */
/** Helper ids by name, for `call NAME` (a hook's helper table). */
export type HelperIds = Readonly<Record<string, { readonly id: number }>>;

export function assemble(source: string, helpers: HelperIds = {}): Uint8Array {
  const out: Pending[] = [];
  const labels = new Map<string, number>();
  const lines = source.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    let text = raw.replace(/#.*$/, '').replace(/\/\/.*$/, '').trim();
    if (text === '') return;
    const lab = /^([A-Za-z_.$][\w.$]*):\s*(.*)$/.exec(text);
    if (lab) {
      if (labels.has(lab[1])) throw new AsmError(line, `label '${lab[1]}' defined twice`);
      labels.set(lab[1], out.length);
      text = lab[2].trim();
      if (text === '') return;
    }
    const sp = text.search(/\s/);
    const mnem = (sp < 0 ? text : text.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : text.slice(sp + 1).trim();
    for (const p of assembleOne(mnem, rest, line, helpers)) out.push(p);
  });
  const insns = out.map((p, pc) => {
    if (p.label === undefined) return p.insn;
    // The suite jumps to "exit" without defining it: the program's final exit instruction.
    const implicitExit = p.label === 'exit' && !labels.has('exit') && out.length > 0 && out[out.length - 1].insn.op === EXIT ? out.length - 1 : undefined;
    const target = labels.get(p.label) ?? implicitExit ?? (/^[+-]?\d+$/.test(p.label) ? undefined : null);
    if (target === null) throw new AsmError(p.line, `unknown label '${p.label}'`);
    const rel = target === undefined ? Number(p.label) : target - pc - 1;
    if (p.local || p.wideJump) return { ...p.insn, imm: rel };
    if (rel < -32768 || rel > 32767) throw new AsmError(p.line, `jump to '${p.label}' is too far for a 16-bit offset`);
    return { ...p.insn, off: rel };
  });
  return encode(insns);
}

function assembleOne(mnem: string, rest: string, line: number, helpers: HelperIds): Pending[] {
  const ops = operands(rest);
  const need = (n: number) => {
    if (ops.length !== n) throw new AsmError(line, `${mnem} takes ${n} operand(s), got ${ops.length}`);
  };
  const I = (op: number, dst = 0, src = 0, off = 0, imm = 0): Pending => ({ insn: { op, dst, src, off, imm }, line });

  if (mnem === 'exit') {
    need(0);
    return [I(EXIT)];
  }
  if (mnem === 'lddw') {
    need(2);
    const v = BigInt.asUintN(64, num(ops[1], line));
    return [I(LDDW, reg(ops[0], line), 0, 0, Number(BigInt.asIntN(32, v))), I(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n)))];
  }
  if (mnem === 'call') {
    if (ops.length === 1 && /^local\s+/i.test(ops[0])) {
      return [{ ...I(CALL, 0, 1, 0, 0), label: ops[0].replace(/^local\s+/i, '').trim(), local: true }];
    }
    need(1);
    if (REG.test(ops[0])) return [I(CALLX, reg(ops[0], line))];
    if (/^[A-Za-z_]\w*$/.test(ops[0])) {
      const h = Object.hasOwn(helpers, ops[0]) ? helpers[ops[0]] : undefined;
      if (h === undefined) throw new AsmError(line, `unknown helper '${ops[0]}' (${Object.keys(helpers).length > 0 ? `this hook has ${Object.keys(helpers).join(', ')}` : 'this hook has no helpers by name'})`);
      return [I(CALL, 0, 0, 0, h.id)];
    }
    return [I(CALL, 0, 0, 0, imm32(ops[0], line))];
  }
  if (mnem === 'lock') {
    // lock [fetch] op[32] [dst+off], %src
    const m = /^(fetch\s+)?(\w+?)(32)?\s+(\[[^\]]+\])\s*,\s*(%r\d+)$/i.exec(rest);
    if (!m) throw new AsmError(line, `cannot read atomic operation '${rest}'`);
    const opName = m[2].toLowerCase();
    const base = ATOMIC[opName as keyof typeof ATOMIC];
    if (base === undefined || opName === 'fetch') throw new AsmError(line, `unknown atomic operation '${opName}'`);
    const imm = base | (m[1] ? ATOMIC.fetch : 0);
    const { base: dst, off } = mem(m[4], line);
    return [I(BPF_STX | MODE_ATOMIC | (m[3] ? SIZE.w : SIZE.dw), dst, reg(m[5], line), off, imm)];
  }
  let m = /^(ldx|ldxs)(b|h|w|dw)$/.exec(mnem);
  if (m) {
    need(2);
    const { base, off } = mem(ops[1], line);
    return [I(BPF_LDX | (m[1] === 'ldxs' ? MODE_MEMSX : MODE_MEM) | SIZES[m[2]], reg(ops[0], line), base, off)];
  }
  m = /^(stx|st)(b|h|w|dw)$/.exec(mnem);
  if (m) {
    need(2);
    const { base, off } = mem(ops[0], line);
    if (m[1] === 'stx') return [I(BPF_STX | MODE_MEM | SIZES[m[2]], base, reg(ops[1], line), off)];
    return [I(BPF_ST | MODE_MEM | SIZES[m[2]], base, 0, off, imm32(ops[1], line))];
  }
  m = /^(be|le|bswap|swap)(16|32|64)$/.exec(mnem);
  if (m) {
    need(1);
    const op = m[1] === 'bswap' || m[1] === 'swap' ? BPF_ALU64 | ALU_OPS.end : BPF_ALU | ALU_OPS.end | (m[1] === 'be' ? BPF_X : BPF_K);
    return [I(op, reg(ops[0], line), 0, 0, Number(m[2]))];
  }
  m = /^movsx(8|16|32)(32|64)$/.exec(mnem);
  if (m) {
    need(2);
    return [I((m[2] === '64' ? BPF_ALU64 : BPF_ALU) | ALU_OPS.mov | BPF_X, reg(ops[0], line), reg(ops[1], line), Number(m[1]))];
  }
  m = /^(s?)(add|sub|mul|div|or|and|lsh|rsh|neg|mod|xor|mov|arsh)(32|64)?$/.exec(mnem);
  if (m) {
    const signed = m[1] === 's';
    if (signed && m[2] !== 'div' && m[2] !== 'mod') throw new AsmError(line, `unknown instruction '${mnem}'`);
    const c = m[3] === '32' ? BPF_ALU : BPF_ALU64;
    const code = ALU_OPS[m[2] as keyof typeof ALU_OPS];
    if (m[2] === 'neg') {
      need(1);
      return [I(c | code, reg(ops[0], line))];
    }
    need(2);
    const dst = reg(ops[0], line);
    if (REG.test(ops[1])) return [I(c | code | BPF_X, dst, reg(ops[1], line), signed ? 1 : 0)];
    return [I(c | code | BPF_K, dst, 0, signed ? 1 : 0, imm32(ops[1], line))];
  }
  m = /^(ja|jeq|jgt|jge|jset|jne|jsgt|jsge|jlt|jle|jslt|jsle)(32)?$/.exec(mnem);
  if (m) {
    const c = m[2] ? BPF_JMP32 : BPF_JMP;
    const code = JMP_OPS[m[1] as keyof typeof JMP_OPS];
    if (m[1] === 'ja') {
      need(1);
      return [{ ...I(c | code), label: ops[0], wideJump: c === BPF_JMP32 }];
    }
    need(3);
    const dst = reg(ops[0], line);
    const base = REG.test(ops[1]) ? I(c | code | BPF_X, dst, reg(ops[1], line)) : I(c | code | BPF_K, dst, 0, 0, imm32(ops[1], line));
    return [{ ...base, label: ops[2] }];
  }
  throw new AsmError(line, `unknown instruction '${mnem}'`);
}

/** Assembles the suite's `-- raw` form: one hex 64-bit word per line. */
export function assembleRaw(source: string): Uint8Array {
  const words = source
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
  const out = new Uint8Array(8 * words.length);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setBigUint64(8 * i, BigInt.asUintN(64, BigInt(w)), true));
  return out;
}
