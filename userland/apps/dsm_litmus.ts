// dsm_litmus: the litmus tests (MP, SB, IRIW, 2+2W, LB; userland/lib/dsm/litmus.ts)
// `runs` times each with access delays drawn from `seed`, then the
// randomized SC checker (userland/lib/dsm/sccheck.ts) with `ops` random
// operations per rank. Rank 0 publishes runs, forbidden (SC-forbidden
// outcomes seen: must be 0), litmus_<name>_forbidden, checked_ops and
// violations (must be 0). Exits 1 if any forbidden outcome or violation
// was seen. IRIW needs 4 ranks; with fewer it is skipped (and said so).
// Usage: margay run dsm_litmus --nodes N -- kernel|user [thread|poll] [runs=N] [seed=N] [delay=N] [ops=N] [locations=N]

import { dsmApp } from '../lib/dsm/appkit.ts';
import { LITMUS, LITMUS_PAGES, runLitmus } from '../lib/dsm/litmus.ts';
import { checkerPages, runChecker } from '../lib/dsm/sccheck.ts';

export default dsmApp('dsm_litmus', {
  minRanks: 2,
  params: {
    runs: { def: 20, min: 0, max: 100_000, doc: 'runs of each litmus test' },
    seed: { def: 1, min: 0, max: 2 ** 32 - 1, doc: 'seed of the access delays' },
    delay: { def: 30_000, min: 0, max: 1e9, doc: 'most cycles of delay before an access' },
    ops: { def: 200, min: 0, max: 20_000, doc: 'checker operations per rank' },
    locations: { def: 16, min: 1, max: 4096, doc: 'checker locations' },
    threads: { def: 1, min: 1, max: 8, doc: 'checker threads per rank (more than 1: kernel DSM only)' },
  },
  bytes: (p, size) => 4096 * Math.max(LITMUS_PAGES, checkerPages(size, p.ops, p.threads)),
  refuse: (a) => (a.params.threads > 1 && a.impl !== 'kernel' ? 'threads above 1 need the kernel DSM (the user DSM serves one application thread per rank)' : null),
  *body({ env, dsm, p, rank, size, args }) {
    const tests = LITMUS.filter((t) => t.threads.length <= size);
    const counts = yield* runLitmus(env, dsm, rank, p.runs, p.seed, p.delay, tests);
    // The checker runs on a clean region: the litmus left its locations at 0.
    const checked = p.ops > 0 ? yield* runChecker(env, dsm, rank, size, { ops: p.ops, threads: p.threads, locations: p.locations, writePercent: 30, seed: p.seed, maxDelayCycles: p.delay }) : null;
    if (rank !== 0) return 0;
    let runs = 0;
    let forbidden = 0;
    for (const c of counts) {
      runs += c.runs;
      forbidden += c.forbidden;
      yield* env.sys.publish(`litmus_${c.name.replace('+', 'plus')}_forbidden`, c.forbidden);
      yield* env.sys.print(`${c.name.padEnd(5)} ${c.runs} runs, ${c.forbidden} forbidden; outcomes ${[...c.outcomes].map(([k, v]) => `${k}:${v}`).join(' ')}\n`);
    }
    const skipped = LITMUS.filter((t) => t.threads.length > size).map((t) => t.name);
    if (skipped.length > 0) yield* env.sys.print(`skipped (need more ranks): ${skipped.join(', ')}\n`);
    yield* env.sys.publish('runs', runs);
    yield* env.sys.publish('forbidden', forbidden);
    if (checked !== null) {
      yield* env.sys.publish('checked_ops', checked.operations);
      yield* env.sys.publish('violations', checked.violations);
      yield* env.sys.print(`checker: ${checked.operations} operations (${checked.reads} reads, ${checked.writes} writes) on ${size} ranks x ${p.threads} thread(s), ${checked.violations} violations\n`);
    }
    yield* env.sys.print(`dsm_litmus (${args.label}): ${runs} runs, ${forbidden} SC-forbidden outcomes\n`);
    return forbidden === 0 && (checked === null || checked.violations === 0) ? 0 : 1;
  },
});
