// Where a command's output goes. With --json, stdout carries only the JSON
// document and every message goes to stderr.

export interface Output {
  /** Human-readable line (stdout, or stderr under --json). */
  say(line: string): void;
  /** Warning or progress note (always stderr). */
  note(line: string): void;
  /** The one JSON document (stdout). */
  json(doc: unknown): void;
  /** A progress line (stderr) that the next one replaces on a terminal; `last` ends it. Without it, progress goes to note(). */
  progress?(line: string, last: boolean): void;
}

export function consoleOutput(jsonMode: boolean): Output {
  return {
    say: (line) => (jsonMode ? process.stderr : process.stdout).write(line + '\n'),
    note: (line) => process.stderr.write(line + '\n'),
    json: (doc) => process.stdout.write(JSON.stringify(doc, null, 2) + '\n'),
    // On a terminal one line is rewritten in place; in a log, one line per step.
    progress: (line, last) => process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}${last ? '\n' : ''}` : line + '\n'),
  };
}

/** Collects output in memory (tests and the monitor use it). */
export function bufferOutput(): Output & { lines: string[]; notes: string[]; docs: unknown[] } {
  const lines: string[] = [];
  const notes: string[] = [];
  const docs: unknown[] = [];
  return {
    lines,
    notes,
    docs,
    say: (l) => lines.push(l),
    note: (l) => notes.push(l),
    json: (d) => docs.push(d),
  };
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1 && n % 1024 === 0) {
    n /= 1024;
    i++;
  }
  return `${n} ${units[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  if (bytesPerSecond >= 1e9) return `${+(bytesPerSecond / 1e9).toFixed(3)} GB/s`;
  if (bytesPerSecond >= 1e6) return `${+(bytesPerSecond / 1e6).toFixed(3)} MB/s`;
  return `${+(bytesPerSecond / 1e3).toFixed(3)} kB/s`;
}

/** Left-aligned table with two spaces between columns. */
export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd());
}
