// Every simulation a test runs in-process stops after 100 million events
// unless the test sets its own bound. A simulation never yields to the
// host's event loop, so vitest's test timeout cannot stop one that never
// ends: without this a hang in one test held CI until its 90-minute limit
// and named no test. The largest run in the suite fires a few million.

import { System } from '../../system/system.ts';

const TEST_MAX_EVENTS = 100_000_000;
const run = System.prototype.run;
System.prototype.run = function boundedRun(this: System, opts = {}) {
  return run.call(this, { ...opts, maxEvents: opts.maxEvents ?? TEST_MAX_EVENTS });
};
