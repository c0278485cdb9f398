// One worker thread of `margay sweep --jobs N` (monitor/sweeps/threads.ts
// starts it). A worker thread does not inherit the main thread's module
// hooks, so it registers tsx and the `margay` package name itself, as
// bin/margay.js does, then runs monitor/sweeps/worker.ts.
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
registerHooks('../monitor/packagename.ts', import.meta.url);
await import('../monitor/sweeps/worker.ts');
