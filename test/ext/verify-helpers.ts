// What the verifier tests share: the conformance hook with and without a
// memory region, and `rejects`, which says where and why a program is refused.
import { assemble } from '../../kernel/ext/asm.ts';
import { conformanceHook } from '../../kernel/ext/hooks.ts';
import { decode } from '../../kernel/ext/isa.ts';
import { VerifyError, verify } from '../../kernel/ext/verifier.ts';

export const { hook } = conformanceHook(16);
export const noMem = conformanceHook(0).hook;

/** The instruction and reason of the verifier's refusal; throws if the program is accepted. */
export function rejects(src: string, h = hook): { pc: number; reason: string } {
  try {
    verify(decode(assemble(src)), h);
  } catch (e) {
    if (e instanceof VerifyError) return { pc: e.pc, reason: e.reason };
    throw e;
  }
  throw new Error('accepted');
}
