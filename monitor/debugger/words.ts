// Reading the monitor's arguments: numbers (decimal or 0x hex, refused when
// they do not fit exactly), counts with a range, NODE.CORE, and "did you
// mean" for a mistyped command name.

import { formatPs } from '../../hw/time.ts';
import type { TraceRecord } from '../../kernel/trace.ts';
import { UsageError } from '../args.ts';

/** A whole number, decimal or 0x hex; refused (not rounded) when above 2^53. */
export function int(text: string | undefined, what: string): number {
  if (text === undefined || !/^(0x[0-9a-f]+|\d+)$/i.test(text)) throw new UsageError(`${what} must be a whole number (decimal or 0x hex), got '${text ?? ''}'`);
  const v = BigInt(text);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new UsageError(`${what} ${text} is too large (at most 0x${Number.MAX_SAFE_INTEGER.toString(16)})`);
  return Number(v);
}

/** A count in min..max, with a message that says the range. */
export function count(text: string | undefined, what: string, min: number, max: number): number {
  const ok = text !== undefined && /^\d+$/.test(text);
  const v = ok ? Number(text) : NaN;
  if (!ok || v < min || v > max) throw new UsageError(`${what} must be a whole number from ${min} to ${max.toLocaleString('en-US')}, got '${text ?? ''}'`);
  return v;
}

/** A 64-bit value for `set`: decimal (may be negative) or 0x hex, wrapped to 64 bits. */
export function value64(text: string | undefined, what: string): bigint {
  if (text === undefined || !/^(0x[0-9a-f]+|-?\d+)$/i.test(text)) throw new UsageError(`${what} must be a number (decimal or 0x hex), got '${text ?? ''}'`);
  const v = BigInt(text);
  if (v >= 1n << 64n || v < -(1n << 63n)) throw new UsageError(`${what} ${text} does not fit in 64 bits`);
  return BigInt.asUintN(64, v);
}

/** "N.C" → node and core. */
export function nodeCore(text: string | undefined): { node: number; core: number } {
  const m = /^(\d+)\.(\d+)$/.exec(text ?? '');
  if (m === null) throw new UsageError(`give a core as NODE.CORE (e.g. 0.1), got '${text ?? ''}'`);
  return { node: Number(m[1]), core: Number(m[2]) };
}

/** Edits (insert, delete, substitute, swap two neighbours) from a to b. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The closest name (about one edit in three letters away, or a prefix), or null. */
export function didYouMean(word: string, names: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Math.max(1, Math.floor(word.length / 3)) + 1;
  for (const n of names) {
    const dist = n.startsWith(word) && word.length >= 2 ? 1 : distance(word, n);
    if (dist < bestD) {
      bestD = dist;
      best = n;
    }
  }
  return best;
}

export const hex = (n: number | bigint) => `0x${n.toString(16)}`;
export function recordLine(r: TraceRecord): string {
  return `${formatPs(r.t).padStart(12)}  node ${r.node} core ${r.core}${r.pid ? ` pid ${r.pid}` : ''}  ${r.path}/${r.step}${r.detail ? `  ${r.detail}` : ''}`;
}

