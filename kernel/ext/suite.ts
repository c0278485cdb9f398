// Reading eBPF test files (.data): sections introduced by "-- name", '#'
// comments. Besides bpf_conformance's sections (asm, raw, mem, result,
// no register offset) it reads the conventions other runtimes' test files
// use: "-- error" (the program must be refused, with this message) and
// "-- error pattern" (with a message matching this pattern), "-- test_jit" /
// "-- test_interpreter" / "-- no jit" / "-- no interpreter" (the test applies
// to one engine only), and memory given as hex in any grouping ("00 11",
// "0011", "0x0011"). Margay's own "-- hook" section adjusts the test's hook
// (one setting a line: "max-insns N", "div-by-zero reject",
// "pointer-return forbid", "helpers none").

export type EbpfEngineName = 'interp' | 'jit';

export interface HookOptions {
  readonly maxInsns?: number;
  readonly divByZero?: 'reject';
  readonly pointerReturn?: false;
  readonly noHelpers?: boolean;
}

export interface EbpfTestCase {
  readonly name: string;
  readonly asm: string | null;
  readonly raw: string | null;
  readonly mem: Uint8Array;
  readonly result: bigint | null;
  readonly noRegisterOffset: boolean;
  /** The program must be refused (at load, or stopped by a fault): the expected message, or null for any. */
  readonly error: { readonly message: string | null; readonly pattern: string | null } | null;
  /** The engines the test applies to. */
  readonly engines: readonly EbpfEngineName[];
  readonly hook: HookOptions;
}

export class TestFileError extends Error {}

export function parseTestCase(name: string, text: string): EbpfTestCase {
  const sections = new Map<string, string[]>();
  let current: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^--\s*(.+?)\s*$/.exec(line);
    if (m) {
      current = m[1].toLowerCase();
      sections.set(current, []);
      continue;
    }
    if (current !== null) sections.get(current)!.push(line);
  }
  const lines = (s: string) => (sections.get(s) ?? []).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');
  const resultText = lines('result')[0];
  const engines: EbpfEngineName[] = sections.has('test_jit') ? ['jit'] : sections.has('test_interpreter') ? ['interp'] : (['interp', 'jit'] as const).filter((e) => !sections.has(e === 'jit' ? 'no jit' : 'no interpreter'));
  const message = sections.has('error') ? (sections.get('error')!.find((l) => l.trim() !== '') ?? '').trim() : null;
  const pattern = sections.has('error pattern') ? (sections.get('error pattern')!.find((l) => l.trim() !== '') ?? '').trim() : null;
  return {
    name,
    asm: sections.has('asm') ? sections.get('asm')!.join('\n') : null,
    raw: sections.has('raw') ? sections.get('raw')!.join('\n') : null,
    mem: parseHexBytes(lines('mem').join(' ')),
    result: resultText === undefined ? null : parseResult(resultText),
    noRegisterOffset: sections.has('no register offset'),
    error: message !== null || pattern !== null ? { message: message || null, pattern: pattern || null } : null,
    engines,
    hook: parseHook(lines('hook')),
  };
}

function parseResult(t: string): bigint {
  try {
    return BigInt.asUintN(64, t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t));
  } catch {
    throw new TestFileError(`result '${t}' is not a number`);
  }
}

/** Hex bytes in any grouping: "00 11", "0011", "0x0011" (each group read left to right). */
export function parseHexBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (const tok of text.split(/[\s,]+/).filter((x) => x.length > 0)) {
    const hex = tok.replace(/^0x/i, '');
    if (!/^[0-9a-f]+$/i.test(hex)) throw new TestFileError(`memory '${tok}' is not hex`);
    const even = hex.length % 2 === 0 ? hex : `0${hex}`;
    for (let i = 0; i < even.length; i += 2) out.push(parseInt(even.slice(i, i + 2), 16));
  }
  return new Uint8Array(out);
}

function parseHook(lines: string[]): HookOptions {
  const o: { maxInsns?: number; divByZero?: 'reject'; pointerReturn?: false; noHelpers?: boolean } = {};
  for (const l of lines) {
    const [key, value] = l.split(/\s+/);
    if (key === 'max-insns' && /^\d+$/.test(value ?? '')) o.maxInsns = Number(value);
    else if (key === 'div-by-zero' && value === 'reject') o.divByZero = 'reject';
    else if (key === 'pointer-return' && value === 'forbid') o.pointerReturn = false;
    else if (key === 'helpers' && value === 'none') o.noHelpers = true;
    else throw new TestFileError(`unknown hook setting '${l}'`);
  }
  return o;
}
