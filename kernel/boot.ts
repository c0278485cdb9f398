// Boot: the syscall table, the console and Portals drivers, the interrupt
// vectors (timer, cross-call, reschedule, and the NIC's two, which
// nicdispatch.ts routes), then every core idles with interrupts open.

import { registerConsole } from './console.ts';
import type { Cpu } from './cpu.ts';
import type { IrqHandler, Kernel } from './kernel.ts';
import { attachNic } from './nicdispatch.ts';
import { registerPortals } from './portals/calls.ts';
import { registerExtensions } from './portals/extcalls.ts';
import { registerUnet } from './unet/calls.ts';
import { registerDsm } from './dsm/calls.ts';
import { registerRtask } from './rtask/calls.ts';
import { registerIpc } from './ipc/calls.ts';
import { type KPath, step } from './step.ts';
import { HANDLERS } from './syscalls/handlers.ts';
import type { SyscallName } from './syscalls/table.ts';
import { VECTOR } from './vectors.ts';
import { xcallHandler } from './xcall.ts';

// Handlers are module-level functions, so every kernel registers the same ones and shares the tables (sharedtable.ts).
const apicTimer: IrqHandler = (k, cpu) => k.timer(cpu.index).onInterrupt();

function* reschedule(_k: Kernel, cpu: Cpu): KPath {
  cpu.needResched = true;
  yield step('sched', 'resched-ipi', 10, `${cpu.runQueue.length} runnable`);
}

export function bootKernel(k: Kernel): void {
  for (const [name, handler] of Object.entries(HANDLERS)) k.registerSyscall(name as SyscallName, handler);
  registerConsole(k);
  k.requestIrq('apic-timer', apicTimer);
  k.requestIrq('xcall', xcallHandler);
  k.requestIrq('reschedule', reschedule);
  attachNic(k);
  registerPortals(k);
  registerExtensions(k);
  registerUnet(k);
  k.unet.attach(VECTOR.unet);
  registerDsm(k);
  registerRtask(k);
  registerIpc(k);
  k.node.nic.irq = { core: 0, rxVector: VECTOR['nic-rx'], completionVector: VECTOR['nic-completion'] };
  for (const cpu of k.cpus) {
    cpu.core.setInterruptsEnabled(true);
    cpu.halted = true;
    cpu.core.setMode('idle', k.engine.now);
  }
  k.traceStep(k.cpus[0], 'boot', 'done', `${k.cpus.length} cores, ${k.registeredSyscalls().length} syscalls`);
}
