// Differential fuzzing of the eBPF verifier and engines, and fuzzing of the
// ELF loader. `fuzzEbpf(seed, iterations)` is deterministic for a seed: it
// generates random programs (mostly structured so that many verify: loops,
// local calls, helper calls, bounded indexes, stack spills; some raw random
// words), and for each one the verifier accepts it runs the interpreter and
// the compiled engine on the same random memory and budget and checks that
// they agree exactly (status, r0, memory, instruction count) and that
// neither faults. It then mutates test/fixtures/handler.o and loads it:
// every refusal must be an ElfError, DecodeError or VerifyError. Problems
// come back as strings; a driver (test/fuzz/ebpf.test.ts, or a longer
// time-bounded run from a script) asserts there are none.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AsmError, assemble } from '../../kernel/ext/asm.ts';
import { ElfError, loadElf } from '../../kernel/ext/elf.ts';
import { conformanceHook } from '../../kernel/ext/hooks.ts';
import { DecodeError } from '../../kernel/ext/isa.ts';
import { load } from '../../kernel/ext/loader.ts';
import { VerifyError } from '../../kernel/ext/verifier.ts';
import { VmMemory } from '../../kernel/ext/vmmem.ts';

export interface EbpfFuzzCounts {
  readonly programs: number;
  readonly accepted: number;
  readonly rejected: number;
  /** Runs compared across the two engines (two budgets per accepted program). */
  readonly runs: number;
  /** Runs stopped by the budget (identically on both engines). */
  readonly limited: number;
  readonly elfObjects: number;
  readonly elfRefused: number;
  readonly elfLoaded: number;
  /** Disagreements, faults of accepted programs, host exceptions: each a one-line description. */
  readonly problems: string[];
}

const MEM_BYTES = 64;
const FIXTURE = fileURLToPath(new URL('../fixtures/handler.o', import.meta.url));

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)];
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

const ALU = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov'];
const JMP = ['jeq', 'jne', 'jgt', 'jge', 'jlt', 'jle', 'jsgt', 'jsge', 'jslt', 'jsle', 'jset'];
const SIZES = ['b', 'h', 'w', 'dw'] as const;
const BYTES = { b: 1, h: 2, w: 4, dw: 8 } as const;
// r6 holds the memory pointer throughout (callee-saved); data registers:
const DATA = [0, 2, 3, 4, 5, 7, 8, 9];

/** A random program in assembly: r6 = mem, r7..r9 and r0, r2..r5 data. */
function structured(r: Rng): string {
  const out: string[] = ['mov %r6, %r1', ...DATA.map((d) => `mov %r${d}, ${r.int(-1000, 1000)}`)];
  const funcs: string[] = [];
  let label = 0;
  const reg = () => r.pick(DATA);
  const imm = () => r.pick([0, 1, 2, 3, 7, 8, 31, 32, 63, 64, -1, -8, 255, 0x7fffffff, -0x80000000, r.int(-100000, 100000)]);
  const reinit = () => [1, 2, 3, 4, 5].forEach((d) => out.push(`mov %r${d}, ${r.int(-50, 50)}`));
  const simple = (): string => {
    const k = r.int(0, 9);
    if (k < 6) return `${r.pick(ALU)}${r.next() < 0.3 ? '32' : ''} %r${reg()}, ${r.next() < 0.5 ? `%r${reg()}` : imm()}`;
    if (k < 7) return `${r.pick(['neg', 'neg32', 'be16', 'be32', 'be64', 'le16', 'le32', 'le64', 'bswap16', 'bswap32', 'bswap64'])} %r${reg()}`;
    const sz = r.pick(SIZES);
    const off = r.int(0, MEM_BYTES - BYTES[sz]) & ~(BYTES[sz] - 1);
    return k < 8 ? `ldx${sz} %r${reg()}, [%r6+${off}]` : k < 9 ? `stx${sz} [%r6+${off}], %r${reg()}` : `st${sz} [%r6+${off}], ${imm()}`;
  };
  const n = r.int(3, 25);
  for (let i = 0; i < n; i++) {
    const k = r.int(0, 19);
    if (k < 8) out.push(simple());
    else if (k < 10) {
      // A forward branch over a few instructions.
      const l = `f${label++}`;
      out.push(`${r.pick(JMP)}${r.next() < 0.3 ? '32' : ''} %r${reg()}, ${r.next() < 0.5 ? `%r${reg()}` : imm()}, ${l}`);
      for (let j = r.int(0, 3); j > 0; j--) out.push(simple());
      out.push(`${l}:`);
    } else if (k < 11) {
      // A counted loop on a register the body leaves alone.
      const c = r.pick([7, 8, 9]);
      const l = `l${label++}`;
      out.push(`mov %r${c}, ${r.int(1, 20)}`, `${l}:`);
      for (let j = r.int(1, 3); j > 0; j--) {
        const s = simple();
        if (!new RegExp(`%r${c}\\b`).test(s.split(',')[0])) out.push(s);
      }
      out.push(`sub %r${c}, 1`, `jne %r${c}, 0, ${l}`);
    } else if (k < 12) {
      // An index from arbitrary arithmetic on loaded data, maybe bounded, then an access through it:
      // the verifier's range tracking must be sound for every operation, 32- and 64-bit.
      const a = r.pick([2, 3, 4, 5]);
      const p = r.pick([7, 8, 9]);
      const l = `f${label++}`;
      out.push(`ldx${r.pick(SIZES)} %r${a}, [%r6+${8 * r.int(0, MEM_BYTES / 8 - 1)}]`);
      for (let j = r.int(1, 3); j > 0; j--) {
        const op = r.pick(['and', 'rsh', 'lsh', 'arsh', 'div', 'mod', 'add', 'sub', 'mul', 'or']);
        const v = r.pick([1, 2, 3, 4, 7, 15, 28, 31, 32, 33, 60, 63, 255, 0x10000000, -1, -16]);
        if (r.next() < 0.3) out.push(`lddw %r${p}, ${r.pick(['0x1ffffffff', '0x100000000', '0xffffffff', '0x8000000000000000', '0x10000000000'])}`, `${op} %r${a}, %r${p}`);
        else out.push(`${op}${r.next() < 0.4 ? '32' : ''} %r${a}, ${v}`);
      }
      if (r.next() < 0.6) {
        if (r.next() < 0.3) out.push(`lddw %r${p}, ${r.pick(['0x100000000', '0x100000010', '0xffffffff'])}`, `${r.pick(['jgt', 'jge', 'jsgt'])} %r${a}, %r${p}, ${l}`);
        else out.push(`${r.pick(['jgt', 'jge', 'jsgt', 'jsge', 'jgt32', 'jge32'])} %r${a}, ${r.int(0, 70)}, ${l}`);
      }
      out.push(`mov %r${p}, %r6`, `${r.next() < 0.8 ? 'add' : 'sub'} %r${p}, %r${a}`, `ldxb %r0, [%r${p}${((o) => (o < 0 ? `${o}` : `+${o}`))(r.int(-4, 8))}]`, `mov %r${p}, 0`, `${l}:`);
    } else if (k < 13) {
      // A loaded index bounded by a mask or a shift (or, sometimes, not at all), then an access through it.
      const a = r.pick([2, 3, 4, 5]);
      const p = r.pick([7, 8, 9].filter((x) => x !== a));
      const sz = r.pick(SIZES);
      out.push(`ldxb %r${a}, [%r6+${r.int(0, MEM_BYTES - 1)}]`);
      const bound = r.int(0, 3);
      if (bound === 0) out.push(`and %r${a}, ${r.pick([7, 15, 31, 63])}`);
      else if (bound === 1) out.push(`rsh32 %r${a}, ${r.int(2, 6)}`, `lsh %r${a}, ${r.int(0, 2)}`);
      else if (bound === 2) out.push(`jgt %r${a}, ${r.int(8, 60)}, f${label}`);
      out.push(`mov %r${p}, %r6`, `add %r${p}, %r${a}`, r.next() < 0.5 ? `ldx${sz} %r0, [%r${p}+0]` : `stx${sz} [%r${p}+0], %r0`, `mov %r${p}, 0`);
      if (bound === 2) out.push(`f${label++}:`);
    } else if (k < 15) {
      // A spill to the stack and a reload.
      const slot = 8 * r.int(1, 8);
      if (r.next() < 0.9) out.push(`stxdw [%r10-${slot}], %r${reg()}`);
      out.push(`ldx${r.pick(SIZES)} %r${reg()}, [%r10-${slot}]`);
    } else if (k < 16) {
      // The unwind helper: stops the program when r1 is 0.
      out.push(`mov %r1, %r${reg()}`, 'call 5');
      reinit();
    } else if (k < 17) {
      // A local call to a small function of its own.
      const f = `fn${funcs.length}`;
      const body = [`${f}:`, `mov %r0, ${r.int(-9, 9)}`];
      for (let j = r.int(0, 3); j > 0; j--) body.push(`${r.pick(ALU)} %r0, ${r.pick([1, 2, 3, -4])}`);
      if (r.next() < 0.5) body.push(`stxdw [%r10-8], %r0`, `ldxdw %r0, [%r10-8]`);
      body.push('exit');
      funcs.push(body.join('\n'));
      out.push(`call local ${f}`);
      reinit();
    } else if (k < 18) {
      const sz = r.pick(['', '32']);
      const off = 8 * r.int(0, MEM_BYTES / 8 - 1);
      out.push(`lock ${r.pick(['add', 'or', 'and', 'xor', 'fetch add', 'xchg', 'cmpxchg'])}${sz} [%r6+${off}], %r${r.pick([2, 3, 4, 5, 7, 8, 9])}`);
    } else out.push(simple());
  }
  out.push('exit', ...funcs);
  return out.join('\n');
}

/** Random instruction words from plausible opcodes and fields (mostly refused). */
function rawWords(r: Rng): Uint8Array {
  const ops = [0x07, 0x0f, 0x04, 0x0c, 0x17, 0x37, 0x3f, 0x97, 0x67, 0x77, 0xc7, 0xb7, 0xbf, 0xb4, 0xd4, 0xdc, 0xd7, 0x18, 0x61, 0x69, 0x71, 0x79, 0x62, 0x7a, 0x63, 0x7b, 0xc3, 0xdb, 0x05, 0x06, 0x15, 0x1d, 0x25, 0xa5, 0x16, 0x85, 0x8d, 0x95, 0x00, 0xff, 0x20];
  const n = r.int(1, 24);
  const out = new Uint8Array(8 * n);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    dv.setUint8(8 * i, i === n - 1 && r.next() < 0.7 ? 0x95 : r.pick(ops));
    dv.setUint8(8 * i + 1, (r.int(0, 11) << 4) | r.int(0, 11));
    dv.setInt16(8 * i + 2, r.pick([0, 1, -1, 2, r.int(-20, 20), 8, 16, 32]), true);
    dv.setInt32(8 * i + 4, r.pick([0, 1, -1, 5, 16, 32, 64, r.int(-20, 20), r.int(-(2 ** 31), 2 ** 31 - 1)]), true);
  }
  return out;
}

function mutate(r: Rng, obj: Uint8Array): Uint8Array {
  const k = r.int(0, 3);
  if (k === 0) return obj.subarray(0, r.int(0, obj.length));
  const b = obj.slice();
  const n = k === 1 ? 1 : r.int(2, 8);
  for (let i = 0; i < n; i++) {
    const at = r.int(0, b.length - 1);
    if (r.next() < 0.5) b[at] = r.int(0, 255);
    else {
      // A whole 32- or 64-bit field: huge offsets, sizes, indexes.
      const dv = new DataView(b.buffer);
      const v = r.pick([0, 1, 0xffffffff, 0x7fffffff, b.length, b.length + 1, r.int(0, 4096)]);
      if (at + 8 <= b.length && r.next() < 0.5) dv.setBigUint64(at & ~7, BigInt(v) * (r.next() < 0.2 ? 0x100000000n : 1n), true);
      else if (at + 4 <= b.length) dv.setUint32(at & ~3, v, true);
    }
  }
  return b;
}

const KNOWN = (e: unknown) => e instanceof VerifyError || e instanceof DecodeError || e instanceof ElfError || e instanceof AsmError;

export function fuzzEbpf(seed: number, iterations: number): EbpfFuzzCounts {
  const r = rng(seed);
  const problems: string[] = [];
  let accepted = 0;
  let rejected = 0;
  let runs = 0;
  let limited = 0;
  const { hook, helpers, args } = conformanceHook(MEM_BYTES);
  for (let i = 0; i < iterations; i++) {
    const src = r.next() < 0.85 ? structured(r) : null;
    let bytes: Uint8Array;
    try {
      bytes = src !== null ? assemble(src) : rawWords(r);
    } catch (e) {
      problems.push(`seed ${seed} #${i}: the generator wrote bad assembly (${(e as Error).message})`);
      continue;
    }
    const what = src ?? [...bytes].map((x) => x.toString(16).padStart(2, '0')).join('');
    let prog;
    try {
      prog = load(bytes, hook, helpers);
    } catch (e) {
      if (KNOWN(e)) rejected++;
      else problems.push(`seed ${seed} #${i}: host exception in the verifier: ${String(e)} for ${what}`);
      continue;
    }
    accepted++;
    const mem0 = new Uint8Array(MEM_BYTES).map(() => r.int(0, 255));
    for (const budget of [r.int(0, 200), 100_000]) {
      const outs = (['interp', 'jit'] as const).map((engine) => {
        const mem = new VmMemory();
        const bytesNow = mem0.slice();
        mem.add('mem', bytesNow, true);
        try {
          const o = prog.run(engine, mem, args, budget);
          return { ...o, mem: bytesNow };
        } catch (e) {
          problems.push(`seed ${seed} #${i}: host exception on ${engine}: ${String(e)}`);
          return null;
        }
      });
      const [a, b] = outs;
      if (a === null || b === null) continue;
      runs++;
      if (a.status.kind === 'limit') limited++;
      const same = JSON.stringify(a.status, big) === JSON.stringify(b.status, big) && a.insns === b.insns && a.mem.every((x, j) => x === b.mem[j]);
      if (!same) problems.push(`seed ${seed} #${i} budget ${budget}: engines disagree: interp ${JSON.stringify(a.status, big)} after ${a.insns}, jit ${JSON.stringify(b.status, big)} after ${b.insns} for ${what}`);
      for (const [engine, o] of [['interp', a], ['jit', b]] as const) {
        if (o.status.kind === 'fault') problems.push(`seed ${seed} #${i}: accepted program faulted on ${engine}: ${o.status.message} for ${what}`);
      }
    }
  }
  // The ELF loader on mutated objects.
  const obj = new Uint8Array(readFileSync(FIXTURE));
  const elfObjects = Math.max(1, Math.floor(iterations / 2));
  let elfRefused = 0;
  let elfLoaded = 0;
  for (let i = 0; i < elfObjects; i++) {
    const bad = mutate(r, obj);
    try {
      const e = loadElf(bad, r.next() < 0.5 ? 'margay/sum' : undefined);
      load(e.bytes, hook, helpers);
      elfLoaded++;
    } catch (e) {
      if (KNOWN(e)) elfRefused++;
      else problems.push(`seed ${seed} elf #${i}: host exception: ${String(e)}`);
    }
  }
  return { programs: iterations, accepted, rejected, runs, limited, elfObjects, elfRefused, elfLoaded, problems };
}

function big(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
}
