// Where the conformance suites live. They are other people's data and stay
// outside the repository; this is the one place that looks them up:
// $MARGAY_CONFORMANCE if set, else ../shared/conformance/ beside the checkout.
// A fresh clone without them skips their tests with a line that says where to
// put them; with CI set, a missing suite fails instead.

import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { it } from 'vitest';

export const SUITE_PATHS = { ebpf: 'ebpf', portals4: 'portals4/test_n1' } as const;
export type SuiteName = keyof typeof SUITE_PATHS;

export function conformanceRoot(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.MARGAY_CONFORMANCE ?? '../shared/conformance');
}

/** The suite's directory, or null when it is not there. */
export function suiteDir(name: SuiteName, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = join(conformanceRoot(env), SUITE_PATHS[name]);
  return existsSync(dir) ? dir : null;
}

export function missingMessage(name: SuiteName, env: NodeJS.ProcessEnv = process.env): string {
  return `the ${name} conformance suite is not at ${join(conformanceRoot(env), SUITE_PATHS[name])}: set MARGAY_CONFORMANCE to the folder holding ebpf/ and portals4/test_n1/, or put them in ../shared/conformance/ (see README.md)`;
}

/**
 * `it` for a test that needs a suite: runs `body` with the suite's directory,
 * or, when it is absent, registers a skipped test whose name says where to put
 * it (and prints that line), or a failing one when CI is set.
 */
export function itWithSuite(name: SuiteName, title: string, body: (dir: string) => void | Promise<void>): void {
  const dir = suiteDir(name);
  if (dir !== null) {
    it(title, () => body(dir));
    return;
  }
  const why = missingMessage(name);
  if (process.env.CI) {
    it(title, () => {
      throw new Error(`${why} (CI is set, so a missing suite is a failure)`);
    });
    return;
  }
  process.stderr.write(`SKIPPED: ${why}\n`);
  it.skip(`${title} (SKIPPED: ${why})`, () => {});
}
