// Runs eBPF test files (.data) through Margay's assembler, verifier and one
// of its engines: the BPF conformance suite, other runtimes' test trees, and
// Margay's own rejection suite. A test with a result passes when it
// assembles, verifies and returns that r0; a test with "-- error" or
// "-- error pattern" passes when the program is refused (by the assembler or
// the verifier, or stopped by a fault at run time). Another runtime's
// messages are its own, so by default any refusal passes; with
// `messages: 'exact'` (Margay's own suites) the message must equal the
// "-- error" text or match the "-- error pattern" regular expression.

import { match } from 'ts-pattern';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { assemble, assembleRaw } from '../../kernel/ext/asm.ts';
import { CONFORMANCE_BUDGET, conformanceHook } from '../../kernel/ext/hooks.ts';
import { type Engine, load } from '../../kernel/ext/loader.ts';
import { type EbpfTestCase, TestFileError, parseTestCase } from '../../kernel/ext/suite.ts';
import type { HookSpec } from '../../kernel/ext/verifier.ts';
import { VmMemory } from '../../kernel/ext/vmmem.ts';

export interface ScriptResult {
  readonly name: string;
  readonly status: 'passed' | 'failed' | 'skipped';
  /** Why it failed or was skipped (or, for a refusal, the message). */
  readonly reason?: string;
}

export interface SuiteSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly total: number;
  readonly scripts: ScriptResult[];
}

export interface EbpfRunOptions {
  /** 'exact': a refusal's message must be the expected one; 'any' (default): any refusal passes. */
  readonly messages?: 'exact' | 'any';
  /** The directory of the test file, for sections read from a file ("-- asm @ prog.asm"). */
  readonly dir?: string;
}

/** The conformance hook with a test's "-- hook" settings applied. */
function testHook(tc: EbpfTestCase): ReturnType<typeof conformanceHook> {
  const base = conformanceHook(tc.mem.length);
  const o = tc.hook;
  const hook: HookSpec = {
    ...base.hook,
    ...(o.maxInsns !== undefined ? { maxInsns: o.maxInsns } : {}),
    ...(o.divByZero !== undefined ? { divByZero: o.divByZero } : {}),
    ...(o.pointerReturn === false ? { pointerReturn: false } : {}),
    ...(o.noHelpers ? { helpers: [] } : {}),
  };
  return { ...base, hook };
}

export function runEbpfCase(name: string, text: string, engine: Engine, opts: EbpfRunOptions = {}): ScriptResult {
  let tc: EbpfTestCase;
  try {
    const dir = opts.dir;
    tc = parseTestCase(name, text, dir === undefined ? undefined : (file) => readFileSync(join(dir, file), 'utf8'));
  } catch (e) {
    if (e instanceof TestFileError) return { name, status: 'failed', reason: `test file: ${e.message}` };
    throw e;
  }
  if (tc.notApplicable !== null) return { name, status: 'skipped', reason: tc.notApplicable };
  if (!tc.engines.includes(engine)) return { name, status: 'skipped', reason: `applies to the ${tc.engines.join(' and ') || 'no'} engine only` };
  if (tc.result === null && tc.error === null) return { name, status: 'skipped', reason: 'no -- result or -- error section' };
  const refused = (stage: string, message: string): ScriptResult => {
    if (tc.error === null) return { name, status: 'failed', reason: `${stage}: ${message}` };
    return judgeRefusal(name, tc.error, message, opts.messages ?? 'any');
  };
  let bytes: Uint8Array;
  try {
    bytes = tc.raw !== null ? assembleRaw(tc.raw) : assemble(tc.asm ?? '');
  } catch (e) {
    return refused('assembler', (e as Error).message);
  }
  const { hook, helpers, args } = testHook(tc);
  const mem = new VmMemory();
  if (tc.mem.length > 0) mem.add('mem', tc.mem.slice(), true);
  let out;
  try {
    out = load(bytes, hook, helpers).run(engine, mem, args, CONFORMANCE_BUDGET);
  } catch (e) {
    return refused('rejected', (e as Error).message);
  }
  const expectRefusal = tc.error !== null;
  return match(out.status)
    .with({ kind: 'fault' }, (st) => refused('fault', st.message))
    .with({ kind: 'exit' }, (st): ScriptResult => {
      if (expectRefusal) return { name, status: 'failed', reason: `accepted (r0 = 0x${st.r0.toString(16)}), expected a refusal` };
      if (st.r0 === tc.result) return { name, status: 'passed' };
      return { name, status: 'failed', reason: `r0 = 0x${st.r0.toString(16)}, expected 0x${tc.result!.toString(16)}` };
    })
    .with({ kind: 'limit' }, (): ScriptResult => ({ name, status: 'failed', reason: expectRefusal ? `accepted, then stopped after ${CONFORMANCE_BUDGET} instructions; expected a refusal` : `stopped after ${CONFORMANCE_BUDGET} instructions` }))
    .exhaustive();
}

function judgeRefusal(name: string, want: NonNullable<EbpfTestCase['error']>, got: string, mode: 'exact' | 'any'): ScriptResult {
  if (mode === 'any') return { name, status: 'passed', reason: `refused: ${got}` };
  if (want.message !== null && got !== want.message) return { name, status: 'failed', reason: `refused with '${got}', expected '${want.message}'` };
  if (want.pattern !== null) {
    let re: RegExp;
    try {
      re = new RegExp(want.pattern);
    } catch {
      return { name, status: 'failed', reason: `test file: bad error pattern '${want.pattern}'` };
    }
    if (!re.test(got)) return { name, status: 'failed', reason: `refused with '${got}', which does not match /${want.pattern}/` };
  }
  return { name, status: 'passed', reason: `refused: ${got}` };
}

/** Every .data file under a directory tree (sorted by path), or the one file given. */
function ebpfFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.data')) out.push(p);
    }
  };
  walk(path);
  return out;
}

export function runEbpfSuite(path: string, engine: Engine, opts: EbpfRunOptions = {}): SuiteSummary {
  const root = statSync(path).isDirectory() ? path : join(path, '..');
  const scripts = ebpfFiles(path).map((f) => runEbpfCase(relative(root, f), readFileSync(f, 'utf8'), engine, { ...opts, dir: dirname(f) }));
  const count = (s: ScriptResult['status']) => scripts.filter((x) => x.status === s).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped'), total: scripts.length, scripts };
}
