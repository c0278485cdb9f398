// `margay conformance <suite> <dir|file>`: runs a conformance suite through
// Margay and prints pass/fail per script, the reason for each failure, and
// a summary (or the JSON document with --json).

import { existsSync } from 'node:fs';
import { UsageError, flag, parse, str } from '../args.ts';
import { type SuiteSummary, runEbpfSuite } from '../conformance/ebpf.ts';
import { MAX_RANKS, runPortalsSuite } from '../conformance/portals4.ts';
import type { Output } from '../output.ts';

export const HELP = `usage: margay conformance ebpf <dir|file.data> [--engine interp|jit] [--json]
       margay conformance portals4 <dir|file.xml> [--ranks N] [--json]

ebpf: runs the BPF conformance suite (RFC 9669 semantics), or any tree of
.data files, through Margay's assembler, verifier and the chosen engine
(default: interp). A test passes when it assembles, verifies and returns
the expected r0; a test with "-- error" passes when the program is refused
(see docs/CONFORMANCE.md for the sections understood).

portals4: runs the Portals 4 reference implementation's XML test scripts
(the scripts listed in ACTIVE.txt of a directory) through the user-level
Portals library, one process per rank, each rank on its own compute node of
a simulated machine; <barrier/> is Portals messages over the network. A
script runs on as many ranks as it names (<if rank>, target_id), a
directory test_nN on N, or on --ranks N. Prints each failure with the rank
and its first failing check, skipped scripts with the reason, and a summary.

  --engine E         interp (the stepping interpreter) or jit (compiled to JavaScript)
  --ranks N          portals4: run every script on N ranks (1 to 64)
  --json             {"passed", "failed", "skipped", "total", "scripts": [...]} on stdout
  --verbose          list passing scripts too`;

export function run(argv: string[], out: Output): number {
  const p = parse(argv, { engine: { type: 'string' }, ranks: { type: 'string' }, json: { type: 'boolean' }, verbose: { type: 'boolean' } }, 2);
  const [suite, path] = p.positionals;
  if (suite === undefined) throw new UsageError('name a suite: ebpf');
  if (suite !== 'ebpf' && suite !== 'portals4') throw new UsageError(`unknown suite '${suite}' (known: ebpf, portals4)`);
  if (path === undefined) throw new UsageError('give the suite directory or one test file');
  if (!existsSync(path)) throw new UsageError(`no such file or directory: ${path}`);
  const engine = str(p, 'engine') ?? 'interp';
  if (engine !== 'interp' && engine !== 'jit') throw new UsageError(`--engine must be interp or jit, got '${engine}'`);
  if (suite === 'portals4' && str(p, 'engine') !== undefined) throw new UsageError('--engine applies to the ebpf suite only');
  const ranksArg = str(p, 'ranks');
  if (ranksArg !== undefined && suite !== 'portals4') throw new UsageError('--ranks applies to the portals4 suite only');
  const ranks = ranksArg === undefined ? undefined : Number(ranksArg);
  if (ranks !== undefined && !(/^\d+$/.test(ranksArg!) && ranks >= 1 && ranks <= MAX_RANKS)) throw new UsageError(`--ranks must be a whole number from 1 to ${MAX_RANKS}, got '${ranksArg}'`);
  const start = process.hrtime.bigint();
  const summary: SuiteSummary = suite === 'ebpf' ? runEbpfSuite(path, engine) : runPortalsSuite(path, { ranks });
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  if (flag(p, 'json')) out.json({ suite, ...(suite === 'ebpf' ? { engine } : {}), ...summary, wall_s: +wall.toFixed(3) });
  else {
    for (const s of summary.scripts) {
      if (s.status === 'passed' && !flag(p, 'verbose')) continue;
      out.say(`${s.status.toUpperCase().padEnd(7)} ${s.name}${s.reason ? `: ${s.reason}` : ''}`);
    }
    out.say(`${suite}${suite === 'ebpf' ? ` (${engine})` : ''}: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped, ${summary.total} total in ${wall.toFixed(2)} s`);
  }
  // A folder with nothing the runner recognises is a mistake, not a pass.
  if (summary.total === 0) {
    out.note(`no ${suite} tests found in ${path} (${suite === 'ebpf' ? '.data files' : '.xml scripts'})`);
    return 1;
  }
  return summary.failed === 0 ? 0 : 1;
}
