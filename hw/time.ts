// Simulated time is an integer number of picoseconds held in a JS number.
// These helpers convert costs into picoseconds, always rounding up so that
// no non-zero cost ever becomes free.

import { SimTimeError } from './errors.ts';

const PS_PER_NS = 1_000;
const PS_PER_US = 1_000_000;
const PS_PER_MS = 1_000_000_000;
const PS_PER_S = 1_000_000_000_000;

/** The last picosecond the engine can represent exactly (about 2.5 simulated hours). */
export const MAX_TIME_PS = Number.MAX_SAFE_INTEGER;

/** Picoseconds taken by `cycles` cycles of a clock running at `hz`. */
export function cyclesToPs(cycles: number, hz: number): number {
  return Math.ceil((cycles * PS_PER_S) / hz);
}

/** Picoseconds taken to move `bytes` at `bytesPerSecond`. */
export function transferPs(bytes: number, bytesPerSecond: number): number {
  return Math.ceil((bytes * PS_PER_S) / bytesPerSecond);
}

export function checkTime(t: number, what: string): void {
  if (!Number.isSafeInteger(t) || t < 0) {
    throw new SimTimeError(
      t > MAX_TIME_PS
        ? `${what}: simulated time ${t} ps is past the last representable picosecond (${MAX_TIME_PS} ps, about 2.5 hours)`
        : `${what}: simulated time must be a non-negative integer number of picoseconds, got ${t}`,
    );
  }
}

/** Human-readable time: "12.345 us". */
export function formatPs(ps: number): string {
  if (ps < PS_PER_NS) return `${ps} ps`;
  if (ps < PS_PER_US) return `${(ps / PS_PER_NS).toFixed(3)} ns`;
  if (ps < PS_PER_MS) return `${(ps / PS_PER_US).toFixed(3)} us`;
  if (ps < PS_PER_S) return `${(ps / PS_PER_MS).toFixed(3)} ms`;
  return `${(ps / PS_PER_S).toFixed(6)} s`;
}

/** Parses "1500", "1500ps", "2.5us", "3ms", "1s" into picoseconds. */
export function parseTime(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ps|ns|us|ms|s)?\s*$/.exec(text);
  if (!m) throw new SimTimeError(`cannot read '${text}' as a time (examples: 1500ps, 2.5us, 3ms)`);
  const unit = m[2] ?? 'ps';
  const scale = { ps: 1, ns: PS_PER_NS, us: PS_PER_US, ms: PS_PER_MS, s: PS_PER_S }[unit as 'ps'];
  const ps = Math.round(Number(m[1]) * scale);
  checkTime(ps, 'time');
  return ps;
}
