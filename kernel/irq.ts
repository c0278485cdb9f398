// The interrupt wrapper: entry, dispatch through the vector table, one EOI
// after the handler (not in every handler, as the OSR meeting notes ask),
// exit. Drivers attach handlers by vector name at boot (request_irq).

import type { CoreContext, KernelContext } from './context.ts';
import { type KPath, step } from './step.ts';
import { vectorName } from './vectors.ts';

export function* interruptPath(k: KernelContext, cpu: CoreContext, vector: number): KPath {
  const v = k.profile.values;
  const name = vectorName(vector);
  yield step('irq', 'entry', v['kernel.irqEntryCycles'], name);
  try {
    const handler = k.irqPath(vector, cpu);
    if (handler) yield* handler;
    else yield step('irq', 'unhandled', 0, name);
  } finally {
    // Also when the handler oopses: a vector left in service would mask the device for good.
    cpu.core.apic.eoi();
  }
  yield step('irq', 'eoi', v['kernel.irqExitCycles'], name);
}

export function* nmiPath(k: KernelContext, cpu: CoreContext): KPath {
  const v = k.profile.values;
  yield step('nmi', 'entry', v['kernel.irqEntryCycles'], '');
  yield* k.nmiHandler(cpu);
  yield step('nmi', 'exit', v['kernel.irqExitCycles'], '');
}
