// Runs the BPF conformance suite through Margay's assembler, verifier and
// one of its engines. A test passes when it assembles, verifies and returns
// the expected r0.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { assemble, assembleRaw } from '../../kernel/ext/asm.ts';
import { CONFORMANCE_BUDGET, conformanceHook } from '../../kernel/ext/hooks.ts';
import { type Engine, load } from '../../kernel/ext/loader.ts';
import { parseTestCase } from '../../kernel/ext/suite.ts';
import { VmMemory } from '../../kernel/ext/vmmem.ts';

export interface ScriptResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped. */
  readonly reason?: string;
}

export interface SuiteSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
  readonly scripts: ScriptResult[];
}

export function runEbpfCase(name: string, text: string, engine: Engine): ScriptResult {
  const tc = parseTestCase(name, text);
  if (tc.result === null) return { name, status: 'skipped', reason: 'no -- result section' };
  let bytes: Uint8Array;
  try {
    bytes = tc.raw !== null ? assembleRaw(tc.raw) : assemble(tc.asm ?? '');
  } catch (e) {
    return { name, status: 'failed', reason: `assembler: ${(e as Error).message}` };
  }
  const { hook, helpers, args } = conformanceHook(tc.mem.length);
  const mem = new VmMemory();
  if (tc.mem.length > 0) mem.add('mem', tc.mem.slice(), true);
  let out;
  try {
    out = load(bytes, hook, helpers).run(engine, mem, args, CONFORMANCE_BUDGET);
  } catch (e) {
    return { name, status: 'failed', reason: `rejected: ${(e as Error).message}` };
  }
  const st = out.status;
  if (st.kind === 'exit' && st.r0 === tc.result) return { name, status: 'passed' };
  if (st.kind === 'exit') return { name, status: 'failed', reason: `r0 = 0x${st.r0.toString(16)}, expected 0x${tc.result.toString(16)}` };
  if (st.kind === 'limit') return { name, status: 'failed', reason: `stopped after ${CONFORMANCE_BUDGET} instructions` };
  return { name, status: 'failed', reason: `fault: ${st.message}` };
}

export function ebpfFiles(path: string): string[] {
  if (statSync(path).isDirectory()) return readdirSync(path).filter((f) => f.endsWith('.data')).sort().map((f) => join(path, f));
  return [path];
}

export function runEbpfSuite(path: string, engine: Engine): SuiteSummary {
  const scripts = ebpfFiles(path).map((f) => runEbpfCase(basename(f), readFileSync(f, 'utf8'), engine));
  const count = (s: ScriptResult['status']) => scripts.filter((x) => x.status === s).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), total: scripts.length, scripts };
}
