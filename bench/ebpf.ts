// eBPF engine benchmark: instructions per second of the interpreter and of
// the compiled form on a loop-heavy program (64-bit adds, xors, shifts, a
// 32-bit multiply, a stack store and load, and a conditional back edge).

import { assemble } from '../kernel/ext/asm.ts';
import { load } from '../kernel/ext/loader.ts';
import { VmMemory } from '../kernel/ext/vmmem.ts';
import type { HookSpec } from '../kernel/ext/verifier.ts';

const LOOP = `
  mov %r0, 0
  lddw %r1, ITERATIONS
  mov %r2, 7
loop:
  add %r0, %r1
  xor %r0, %r2
  lsh %r2, 1
  rsh %r2, 1
  mul32 %r2, 3
  stxdw [%r10-8], %r0
  ldxdw %r3, [%r10-8]
  add %r0, %r3
  sub %r1, 1
  jne %r1, 0, loop
  exit`;

const HOOK: HookSpec = { name: 'bench', regions: [], args: [], helpers: [], maxInsns: 4096, pointerReturn: false };

export interface EbpfBenchResult {
  engine: string;
  insns: number;
  wall_s: number;
  insns_per_s: number;
  r0: string;
}

function once(engine: 'interp' | 'jit', iterations: number): EbpfBenchResult {
  const prog = load(assemble(LOOP.replace('ITERATIONS', String(iterations))), HOOK, new Map());
  if (engine === 'jit') prog.run('jit', new VmMemory(), [], 1e6); // compile and warm up
  const t0 = process.hrtime.bigint();
  const out = prog.run(engine, new VmMemory(), [], Number.MAX_SAFE_INTEGER);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (out.status.kind !== 'exit') throw new Error(`bench program did not exit: ${JSON.stringify(out.status)}`);
  return { engine, insns: out.insns, wall_s: +wall.toFixed(3), insns_per_s: Math.round(out.insns / wall), r0: `0x${out.status.r0.toString(16)}` };
}

/** The median of `reps` runs (this machine's speed varies by a third from run to run), with every run's rate. */
function median(engine: 'interp' | 'jit', iterations: number, reps = 3): EbpfBenchResult & { runs_insns_per_s: number[] } {
  const runs = Array.from({ length: reps }, () => once(engine, iterations));
  const sorted = [...runs].sort((a, b) => a.insns_per_s - b.insns_per_s);
  return { ...sorted[Math.floor(reps / 2)], runs_insns_per_s: runs.map((r) => r.insns_per_s) };
}

export function benchEbpf(): { interp: EbpfBenchResult; jit: EbpfBenchResult; same_result: boolean } {
  const interp = median('interp', 5_000_000);
  const jit = median('jit', 40_000_000);
  const check = [once('interp', 100_000), once('jit', 100_000)];
  return { interp, jit, same_result: check[0].r0 === check[1].r0 };
}
