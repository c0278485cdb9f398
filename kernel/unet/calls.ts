// The U-Net system calls (numbers and arguments in kernel/syscalls/table.ts).
// Set-up only: creating and destroying endpoints, opening and closing
// channels, and the optional wait for the upcall.

import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { type SyscallCtx, argInt, argPtr, argSize } from '../syscalls/context.ts';
import type { KPath } from '../step.ts';

function* sys_unet_create(c: SyscallCtx): KPath<number> {
  return yield* c.k.unet.create(c.p, argPtr(c, 0), argSize(c, 1), argInt(c, 2), argInt(c, 3));
}

function* sys_unet_destroy(c: SyscallCtx): KPath<number> {
  yield* c.k.unet.destroy(c.cpu, c.k.unet.owned(c.p, argInt(c, 0)));
  return 0;
}

function* sys_unet_open(c: SyscallCtx): KPath<number> {
  const ep = c.k.unet.owned(c.p, argInt(c, 0));
  return yield* c.k.unet.open(c.t, ep, argInt(c, 1), { nid: argInt(c, 2), pid: argInt(c, 3), ep: argInt(c, 4), chan: argInt(c, 5) });
}

function* sys_unet_close(c: SyscallCtx): KPath<number> {
  return yield* c.k.unet.close(c.k.unet.owned(c.p, argInt(c, 0)), argInt(c, 1));
}

function* sys_unet_wait(c: SyscallCtx): KPath<number> {
  return yield* c.k.unet.wait(c.t, c.k.unet.owned(c.p, argInt(c, 0)), argInt(c, 1));
}

// Module-level, so every kernel registers the same handler and shares the vector table (kernel/sharedtable.ts).
function* unetInterrupt(k: Kernel, cpu: Cpu): KPath {
  yield* k.unet.interrupt(cpu);
}

/** Boot: the calls, and the NIC's U-Net interrupt. */
export function registerUnet(k: Kernel): void {
  k.registerSyscall('unet_create', sys_unet_create);
  k.registerSyscall('unet_destroy', sys_unet_destroy);
  k.registerSyscall('unet_open', sys_unet_open);
  k.registerSyscall('unet_close', sys_unet_close);
  k.registerSyscall('unet_wait', sys_unet_wait);
  k.requestIrq('unet', unetInterrupt);
}
