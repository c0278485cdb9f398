// The Portals system calls (600 and up). Each takes a pointer to its
// arguments as 64-bit words in the C API's order; out-parameters are user
// pointers the kernel writes through copyout. A null out-pointer, a bad
// handle or an out-of-range value is PTL_ARG_INVALID; an unreadable argument
// block is -EFAULT, as for any syscall. This file registers them and checks
// what every call shares (the argument block, PtlInit first, the word
// types); the calls themselves are grouped by what they work on:
// nicalls.ts (NIs, portal table), listcalls.ts (MDs, MEs/LEs),
// sendcalls.ts (data movement), eventcalls.ts (EQs, CTs, triggered), and
// the argument words are read and checked in callargs.ts.

import type { Kernel } from '../kernel.ts';
import { type SyscallHandler, argPtr } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { PTL } from './defs.ts';
import { type Handler, PTL_ARG_TYPES, type Words, readWords, wordsFit } from './callargs.ts';
import { EVENT_CALLS } from './eventcalls.ts';
import { LIST_CALLS } from './listcalls.ts';
import { NI_CALLS } from './nicalls.ts';
import { SEND_CALLS } from './sendcalls.ts';

const HANDLERS: Partial<Record<SyscallName, Handler>> = { ...NI_CALLS, ...EVENT_CALLS, ...LIST_CALLS, ...SEND_CALLS };

/** Each call's syscall handler: made once, so every kernel registers the same ones (kernel/sharedtable.ts). */
const SYSCALLS = (Object.entries(HANDLERS) as [SyscallName, Handler][]).map(([name, h]): [SyscallName, SyscallHandler] => {
  const types = PTL_ARG_TYPES[name];
  if (types === undefined) throw new Error(`no argument types for ${name}`);
  const n = types.length;
  return [
    name,
    function* (c) {
      const ptr = argPtr(c, 0);
      let a: Words;
      if (n === 0) a = [];
      else if (ptr === 0) return PTL.ARG_INVALID;
      else a = yield* readWords(c, ptr, n);
      const pp = c.k.portals.state(c.p);
      if (pp.initCount === 0 && name !== 'ptl_init' && name !== 'ptl_fini' && name !== 'ptl_handle_is_equal') return PTL.NO_INIT;
      if (!wordsFit(a, types)) return PTL.ARG_INVALID;
      return yield* h(c, pp, a);
    },
  ];
});

export function registerPortals(k: Kernel): void {
  for (const [name, handler] of SYSCALLS) k.registerSyscall(name, handler);
}
