// Reading the BPF conformance suite's .data files: sections introduced by
// "-- name", '#' comments. Used by `margay conformance ebpf`.

export interface EbpfTestCase {
  readonly name: string;
  readonly asm: string | null;
  readonly raw: string | null;
  readonly mem: Uint8Array;
  readonly result: bigint | null;
  readonly noRegisterOffset: boolean;
}

export function parseTestCase(name: string, text: string): EbpfTestCase {
  const sections = new Map<string, string[]>();
  let current: string | null = null;
  for (const line of text.split('\n')) {
    const m = /^--\s*(.+?)\s*$/.exec(line);
    if (m) {
      current = m[1];
      sections.set(current, []);
      continue;
    }
    if (current !== null) sections.get(current)!.push(line);
  }
  const memText = (sections.get('mem') ?? []).map((l) => l.replace(/#.*$/, '')).join(' ');
  const hex = memText.split(/\s+/).filter((x) => x.length > 0);
  const mem = new Uint8Array(hex.map((h) => parseInt(h, 16)));
  const resultText = (sections.get('result') ?? []).map((l) => l.replace(/#.*$/, '').trim()).find((l) => l !== '');
  return {
    name,
    asm: sections.has('asm') ? sections.get('asm')!.join('\n') : null,
    raw: sections.has('raw') ? sections.get('raw')!.join('\n') : null,
    mem,
    result: resultText === undefined ? null : BigInt.asUintN(64, resultText.startsWith('-') ? -BigInt(resultText.slice(1)) : BigInt(resultText)),
    noRegisterOffset: sections.has('no register offset'),
  };
}
