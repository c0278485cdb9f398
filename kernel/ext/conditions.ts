// What each conditional jump tests, written once. The conditions are
// JavaScript expressions over 32-bit words: a, b (the low words of dst and
// of src or the immediate) and ah, bh (the high words, for 64-bit jumps).
// The compiler pastes them into the code it generates; `conditionHolds`,
// generated from the same text, is what the interpreter evaluates at run
// time and what the verifier evaluates on constants, so all three agree by
// construction.

import { BPF_JMP32, CONDITIONS, type Condition, JMP_OPS } from './isa.ts';

/** 32-bit jumps (JMP32): the low words only. */
export const COND32: Readonly<Record<Condition, string>> = {
  jeq: 'a === b',
  jne: 'a !== b',
  jset: '(a & b) !== 0',
  jgt: 'a >>> 0 > b >>> 0',
  jge: 'a >>> 0 >= b >>> 0',
  jlt: 'a >>> 0 < b >>> 0',
  jle: 'a >>> 0 <= b >>> 0',
  jsgt: 'a > b',
  jsge: 'a >= b',
  jslt: 'a < b',
  jsle: 'a <= b',
};

/** 64-bit jumps: the high words decide unless they are equal (signed for the js* forms), then the low words unsigned. */
export const COND64: Readonly<Record<Condition, string>> = {
  jeq: 'a === b && ah === bh',
  jne: 'a !== b || ah !== bh',
  jset: '(a & b) !== 0 || (ah & bh) !== 0',
  jgt: 'ah >>> 0 > bh >>> 0 || (ah === bh && a >>> 0 > b >>> 0)',
  jge: 'ah >>> 0 > bh >>> 0 || (ah === bh && a >>> 0 >= b >>> 0)',
  jlt: 'ah >>> 0 < bh >>> 0 || (ah === bh && a >>> 0 < b >>> 0)',
  jle: 'ah >>> 0 < bh >>> 0 || (ah === bh && a >>> 0 <= b >>> 0)',
  jsgt: 'ah > bh || (ah === bh && a >>> 0 > b >>> 0)',
  jsge: 'ah > bh || (ah === bh && a >>> 0 >= b >>> 0)',
  jslt: 'ah < bh || (ah === bh && a >>> 0 < b >>> 0)',
  jsle: 'ah < bh || (ah === bh && a >>> 0 <= b >>> 0)',
};

/** The condition of a conditional-jump opcode, by its operation bits. */
export function conditionOf(op: number): Condition {
  const code = op & 0xf0;
  const c = CONDITIONS.find((n) => JMP_OPS[n] === code);
  if (c === undefined) throw new Error(`0x${op.toString(16)} is not a conditional jump`);
  return c;
}

// Generated from the tables so that the case labels are number literals (a jump table in V8).
const cases = (table: Readonly<Record<Condition, string>>) => CONDITIONS.map((n) => `case ${JMP_OPS[n]}: return ${table[n]};`).join(' ');

/**
 * Whether conditional jump `op` (isConditionalJump(op) holds) is taken for
 * dst = (ah, a) and src or the sign-extended immediate = (bh, b).
 */
export const conditionHolds = new Function(
  'op',
  'a',
  'ah',
  'b',
  'bh',
  `if ((op & 0x07) === ${BPF_JMP32}) { switch (op & 0xf0) { ${cases(COND32)} } return false; }
switch (op & 0xf0) { ${cases(COND64)} }
return false;`,
) as (op: number, a: number, ah: number, b: number, bh: number) => boolean;
