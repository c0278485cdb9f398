// The page-fault path. LWK memory is mapped up front, so a fault is an
// error: by default the process is killed with the address, the access and
// rip; a process that installed a user-level fault handler gets an upcall
// instead (its runtime calls the handler and retries the access).

import type { FaultUpcall } from './abi.ts';
import type { CoreContext, KernelContext } from './context.ts';
import type { Thread } from './process.ts';
import { type KPath, step } from './step.ts';

/** Exit status of a process killed by a page fault (128 + SIGSEGV). */
const FAULT_STATUS = 139;

export function* pageFaultPath(k: KernelContext, cpu: CoreContext, t: Thread, va: number, write: boolean, reason: string): KPath {
  const v = k.profile.values;
  const rip = cpu.core.get('rip') - 4n;
  const access = write ? 'write' : 'read';
  k.stats.pageFaults++;
  yield step('fault', 'entry', v['kernel.trapEntryCycles'], `#PF 0x${va.toString(16)} ${access}`);
  yield step('fault', 'decode', v['kernel.pageFaultCycles'], reason);
  const p = t.process;
  if (p.faultHandler !== 0) {
    const upcall: FaultUpcall = { upcall: 'fault', address: va, write };
    t.userResume = upcall;
    // Retry the faulting operation after the handler: rewind rip.
    cpu.core.set('rip', rip);
    cpu.core.set('rdi', va);
    cpu.core.set('rsi', write ? 1 : 0);
    yield step('fault', 'upcall', v['kernel.trapExitCycles'], `handler 0x${p.faultHandler.toString(16)}`);
    return;
  }
  const why = `page fault at 0x${va.toString(16)}: ${access}, ${reason} (rip 0x${rip.toString(16)})`;
  yield step('fault', 'kill', 0, why);
  k.killProcess(p, FAULT_STATUS, why);
}
