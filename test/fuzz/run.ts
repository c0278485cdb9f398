// The time-bounded fuzz run (npm run fuzz -- --seconds N --seed S): finds
// every test/fuzz/*.fuzz.ts, calls each exported function whose name starts
// with `fuzz` as fn(seed, iterations) in batches with seeds S, S+1, ... for
// an equal share of the time, and prints the summed counts per target as
// JSON. Each batch is reproducible from its seed and iteration count (the
// first failing ones are printed). Exit status 1 if any target counted a
// host exception, a kernel oops or another failure; 2 for a usage error.

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const USAGE = 'usage: npm run fuzz -- [--seconds N] [--seed S] [--batch ITERATIONS] [--only NAME]';

/** Counts that must stay zero, whichever fuzzer reports them. */
const MUST_BE_ZERO = /^(oopses|hostExceptions|disagreements|acceptedFaults|acceptedThatFault|crashes|internalErrors|violations)$/;

interface Options {
  seconds: number;
  seed: number;
  batch: number;
  only: string | null;
}

function parse(argv: readonly string[]): Options {
  const o: Options = { seconds: 60, seed: 1, batch: 200, only: null };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const int = (min: number) => {
      if (value === undefined || !/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) usage(`${flag} needs a whole number >= ${min}`);
      i++;
      return Number(value);
    };
    if (flag === '--seconds') o.seconds = int(1);
    else if (flag === '--seed') o.seed = int(0);
    else if (flag === '--batch') o.batch = int(1);
    else if (flag === '--only') {
      if (value === undefined) usage('--only needs a target name');
      o.only = value;
      i++;
    } else if (flag === '--help' || flag === '-h') {
      process.stdout.write(USAGE + '\n');
      process.exit(0);
    } else usage(`unknown argument '${flag}'`);
  }
  return o;
}

function usage(msg: string): never {
  process.stderr.write(`margay fuzz: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

type FuzzFn = (seed: number, iterations: number) => unknown;

async function targets(only: string | null): Promise<{ name: string; fn: FuzzFn }[]> {
  const dir = dirname(fileURLToPath(import.meta.url));
  const files = readdirSync(dir).filter((f) => f.endsWith('.fuzz.ts')).sort();
  const found: { name: string; fn: FuzzFn }[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Record<string, unknown>;
    for (const [name, fn] of Object.entries(mod)) {
      if (name.startsWith('fuzz') && typeof fn === 'function' && (only === null || name === only)) found.push({ name, fn: fn as FuzzFn });
    }
  }
  return found;
}

interface Tally {
  batches: number;
  iterations: number;
  seconds: number;
  counts: Record<string, number>;
  /** Batches that counted a failure: the seed and size to run again. */
  failing: { seed: number; iterations: number; counts: Record<string, number>; failures: unknown }[];
}

/** Adds the numeric fields of a fuzzer's result (any shape) into the tally. */
function add(t: Tally, result: unknown): Record<string, number> {
  const nums: Record<string, number> = {};
  if (typeof result === 'number') nums.result = result;
  else if (result !== null && typeof result === 'object') {
    for (const [k, v] of Object.entries(result)) if (typeof v === 'number' && k !== 'seed') nums[k] = v;
  }
  for (const [k, v] of Object.entries(nums)) t.counts[k] = (t.counts[k] ?? 0) + v;
  return nums;
}

const opts = parse(process.argv.slice(2));
const found = await targets(opts.only);
if (found.length === 0) usage(opts.only === null ? 'no test/fuzz/*.fuzz.ts exports a fuzz function' : `no fuzz target named '${opts.only}'`);
const share = (opts.seconds * 1000) / found.length;
const report: Record<string, Tally> = {};
let failed = false;
for (const { name, fn } of found) {
  const t: Tally = { batches: 0, iterations: 0, seconds: 0, counts: {}, failing: [] };
  const start = performance.now();
  for (let b = 0; performance.now() - start < share; b++) {
    const seed = opts.seed + b;
    let nums: Record<string, number>;
    let failures: unknown = undefined;
    try {
      // Awaited: the image and monitor fuzzers are async (they drive CLI commands).
      const result = await fn(seed, opts.batch);
      nums = add(t, result);
      // Fuzzers list what went wrong as `failures` or `problems`; either non-empty fails the run.
      const r = result as { failures?: unknown; problems?: unknown } | null;
      failures = Array.isArray(r?.problems) && r.problems.length > 0 ? r.problems : r?.failures;
      // A target that counts nothing tested nothing: that is a broken fuzzer, not a pass.
      if (Object.keys(nums).length === 0) failures = [`${name} returned no counts`];
    } catch (e) {
      // A fuzzer that throws is a host exception escaping whatever it drives.
      nums = add(t, { hostExceptions: 1 });
      failures = [(e as Error)?.stack ?? String(e)];
    }
    t.batches++;
    t.iterations += opts.batch;
    const bad = Object.entries(nums).some(([k, v]) => MUST_BE_ZERO.test(k) && v > 0) || (Array.isArray(failures) && failures.length > 0);
    if (bad) {
      failed = true;
      if (t.failing.length < 5) t.failing.push({ seed, iterations: opts.batch, counts: nums, failures });
    }
  }
  t.seconds = Math.round((performance.now() - start) / 100) / 10;
  report[name] = t;
}
process.stdout.write(JSON.stringify({ seed: opts.seed, seconds: opts.seconds, batch: opts.batch, ok: !failed, targets: report }, null, 2) + '\n');
process.exit(failed ? 1 : 0);
