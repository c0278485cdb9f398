// The DSM fault path: a load or store on a page of the shared region that
// this node may not access (not present, or read-only for a store) enters
// here from the page-fault path. The thread asks the page's manager by a
// kernel-to-kernel message and blocks; the receive interrupt that installs
// the page wakes it; the access is then performed (the instruction
// re-executes) and the thread returns to user mode. No system call, signal
// or user-level handler is involved: one user/kernel crossing per fault.

import type { UserOp } from '../abi.ts';
import type { CoreContext } from '../context.ts';
import { pageFaultPath } from '../fault.ts';
import type { Thread } from '../process.ts';
import { type KPath, block, step } from '../step.ts';
import { userAccess } from '../loadstore.ts';
import type { DsmNode } from './node.ts';
import { ACCESS, ACCESS_NAME, type DsmRegion, PAGE } from './region.ts';

export type AccessOp = Extract<UserOp, { op: 'load' | 'store' }>;

export function* dsmFaultPath(n: DsmNode, r: DsmRegion, cpu: CoreContext, t: Thread, op: AccessOp, va: number, write: boolean): KPath {
  const k = n.k;
  const v = k.profile.values;
  const page = r.pageOf(va);
  const need = write ? ACCESS.write : ACCESS.read;
  const start = k.engine.now;
  k.stats.pageFaults++;
  r.stats.faults++;
  if (write) r.stats.writeFaults++;
  else r.stats.readFaults++;
  yield step('dsm', 'fault', v['kernel.trapEntryCycles'] + v['kernel.pageFaultCycles'], `page ${page} (0x${va.toString(16)}) ${write ? 'write' : 'read'}, have ${ACCESS_NAME[r.access[page]]}`);
  while (r.access[page] < need) {
    if (r.process !== t.process) {
      // Detached while waiting (another thread called dsm_detach): an ordinary fault now.
      yield* pageFaultPath(k, cpu, t, va, write, 'DSM region detached');
      return;
    }
    let ws = r.waiters.get(page);
    if (ws === undefined) r.waiters.set(page, (ws = []));
    ws.push(t);
    if (r.pending[page] === ACCESS.none) {
      // One request per page at a time; a thread that needs more than is asked for asks again when woken.
      r.pending[page] = need;
      const m = r.managerOf(page);
      n.send(r, m, write ? 'write-req' : 'read-req', page, 0);
      yield step('dsm', 'request', v['kernel.portalsSetupCycles'], `${write ? 'write' : 'read'} page ${page} from manager rank ${m} (node ${r.nids[m]})`);
    }
    yield* block();
  }
  // A fault invalidates the faulting core's entry for the address (as x86 does), then the access re-executes.
  cpu.core.tlb.invalidatePage(cpu.core.asid, va - (va % PAGE));
  const res = userAccess(k, cpu, t, op);
  r.stats.faultPs += k.engine.now - start;
  if (res.fault !== null) {
    // The page went away again before the access (or the access spans another page): fault again.
    yield* res.fault;
    return;
  }
  t.userResume = res.value;
  yield step('dsm', 'resume', v['kernel.trapExitCycles'] + res.cycles, `page ${page} ${ACCESS_NAME[r.access[page]]} after ${((k.engine.now - start) / 1000).toFixed(0)} ns`);
}

/** The page-fault hook: the DSM path when `va` is in the faulting process's region, else null. */
export function dsmFault(n: DsmNode, cpu: CoreContext, t: Thread, op: AccessOp, va: number, write: boolean): KPath | null {
  const r = n.regionOf(t.process);
  if (r === undefined || !r.covers(va)) return null;
  return dsmFaultPath(n, r, cpu, t, op, va, write);
}
