// Margay's user library under one name: a program outside the checkout
// imports it as `margay/userland` (package.json "exports"; `margay run`
// resolves the name for a program it loads from any folder).

export { type Env, type Main, type ThreadFn, type ThreadHandle, program } from './lib/runtime.ts';
export * from './lib/sys.ts';
export { CTL_BITS, DATA_BITS, type PtlApp, barrier, gather, sendControl, setup, waitFor } from './lib/ptlapp.ts';
export * from './lib/portals.ts';
export * from './lib/unet.ts';
export { type Am, AmError, type AmHandler, type AmStats, type AmToken, amMaxData, amStart } from './lib/am/am.ts';
export type { AmTransport } from './lib/am/transport.ts';
export { amOverUnet } from './lib/am/unet.ts';
export { amOverPortals } from './lib/am/portals.ts';
export { type GlobalPtr, type SplitC, SPLITC_FIRST_HANDLER, splitcStart } from './lib/am/splitc.ts';
