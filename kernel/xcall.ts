// Cross-calls: run a function on other cores of the node. The caller posts
// the request in each target's mailbox, sends each an IPI, and spins until
// every target has run the function and checked in (Kitten's xcall.c with its
// `finished` counter). Interrupts stay open while spinning.

import type { Cpu } from './cpu.ts';
import type { Kernel } from './kernel.ts';
import { type KPath, spin, step } from './step.ts';
import { VECTOR } from './vectors.ts';

export interface XcallRequest {
  readonly what: string;
  readonly fn: (k: Kernel, cpu: Cpu) => KPath;
  readonly initiator: Cpu;
  finished: number;
}

export function* xcall(k: Kernel, from: Cpu, targets: readonly number[], what: string, fn: (k: Kernel, cpu: Cpu) => KPath): KPath {
  const req: XcallRequest = { what, fn, initiator: from, finished: 0 };
  for (const t of targets) {
    k.mailbox(t).push(req);
    yield step('xcall', 'send', k.profile.values['kernel.ipiSendCycles'], `${what} -> core ${t}`);
    from.core.apic.sendIpi(t, VECTOR.xcall);
    k.stats.ipisSent++;
  }
  yield* spin('xcall-wait', () => req.finished === targets.length);
  yield step('xcall', 'done', 0, `${targets.length} core(s) acknowledged ${what}`);
}

/** The xcall vector's handler: runs every posted request, then checks in. */
export function* xcallHandler(k: Kernel, cpu: Cpu): KPath {
  const box = k.mailbox(cpu.index);
  while (box.length > 0) {
    const req = box.shift()!;
    yield step('xcall', 'run', 0, `${req.what} from core ${req.initiator.index}`);
    yield* req.fn(k, cpu);
    req.finished++;
    req.initiator.kick();
  }
}
