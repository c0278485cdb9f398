// Attaching extension handlers from user code: ext_attach with the handler
// as bytecode, an ELF object, or assembly text (the kernel assembles it).
// Handlers see r1 = the message (8 header words, then the payload), r2 = its
// length, r3 = the granted region; helpers now_ns(), forward(rank, pt,
// match_bits, ptr, len), reply(pt, match_bits, ptr, len), atomic_add(ptr,
// value), called by name in assembly text (`call now_ns`) or by the id in
// EXT_HELPER in bytecode; r0 = 0 delivers the message, 1 drops it.

import { SYS } from './abi.gen.ts';
import type { Env } from './runtime.ts';
import type { U } from './ops.ts';

export { EXT_HEADER_WORDS, EXT_HELPER } from './abi.gen.ts';

export const EXT_FORMAT = { bytecode: 0, elf: 1, asm: 2 } as const;

export interface AttachOptions {
  readonly code: Uint8Array | string;
  readonly format: keyof typeof EXT_FORMAT;
  readonly section?: string;
  /** The ME or LE the handler runs for. */
  readonly entry: number;
  readonly region?: number;
  readonly regionLen?: number;
  readonly payloadMax?: number;
  readonly engine?: 'interp' | 'jit';
}

export type AttachResult = { readonly ok: true; readonly id: number } | { readonly ok: false; readonly errno: number; readonly reason: string };

export function* attachExtension(env: Env, o: AttachOptions): U<AttachResult> {
  const { mem, sys } = env;
  const code = typeof o.code === 'string' ? new TextEncoder().encode(o.code) : o.code;
  const codeVa = yield* mem.alloc(code.length);
  yield* mem.store(codeVa, code);
  const section = o.section ? yield* mem.string(o.section) : { va: 0, len: 0 };
  const errVa = yield* mem.alloc(512);
  yield* mem.store(errVa, new Uint8Array(512));
  const words = [codeVa, code.length, EXT_FORMAT[o.format], section.va, section.len, o.entry, o.region ?? 0, o.regionLen ?? 0, o.payloadMax ?? 64, o.engine === 'jit' ? 1 : 0, errVa, 512];
  const args = yield* mem.alloc(8 * words.length);
  for (let i = 0; i < words.length; i++) yield* mem.storeU64(args + 8 * i, words[i]);
  const r = yield* sys.raw(SYS.ext_attach, args);
  if (r >= 0) return { ok: true, id: r };
  return { ok: false, errno: -r, reason: yield* mem.cstring(errVa, 512) };
}

export function* extensionStats(env: Env, id: number): U<{ runs: number; insns: number; drops: number; forwards: number; faults: number }> {
  const buf = yield* env.mem.alloc(40);
  yield* env.sys.raw(SYS.ext_stats, id, buf);
  const get = function* (i: number) {
    return Number(yield* env.mem.loadU64(buf + 8 * i));
  };
  return { runs: yield* get(0), insns: yield* get(1), drops: yield* get(2), forwards: yield* get(3), faults: yield* get(4) };
}
