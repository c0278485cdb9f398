// Cross-calls: run a function on other cores of the node. The caller posts
// the request in each target's mailbox, sends each an IPI, and spins until
// every target has run the function and checked in (Kitten's xcall.c with its
// `finished` counter). Interrupts stay open while spinning.

import type { CoreContext, KernelContext } from './context.ts';
import { type KPath, spin, step } from './step.ts';
import { VECTOR } from './vectors.ts';

export interface XcallRequest {
  readonly what: string;
  readonly fn: (cpu: CoreContext) => KPath;
  readonly initiator: CoreContext;
  finished: number;
}

/** One mailbox of posted requests per core of the node. */
export class XcallMailboxes {
  private readonly boxes: XcallRequest[][];

  constructor(cores: number) {
    this.boxes = Array.from({ length: cores }, () => []);
  }

  of(core: number): XcallRequest[] {
    return this.boxes[core];
  }
}

/** What a cross-call needs of the kernel: its mailboxes beside the narrow context. */
export type XcallContext = Pick<KernelContext, 'profile' | 'stats'> & { readonly xcalls: XcallMailboxes };

export function* xcall(k: XcallContext, from: CoreContext, targets: readonly number[], what: string, fn: (cpu: CoreContext) => KPath): KPath {
  const req: XcallRequest = { what, fn, initiator: from, finished: 0 };
  for (const t of targets) {
    k.xcalls.of(t).push(req);
    yield step('xcall', 'send', k.profile.values['kernel.ipiSendCycles'], `${what} -> core ${t}`);
    from.core.apic.sendIpi(t, VECTOR.xcall);
    k.stats.ipisSent++;
  }
  yield* spin('xcall-wait', () => req.finished === targets.length);
  yield step('xcall', 'done', 0, `${targets.length} core(s) acknowledged ${what}`);
}

/** The xcall vector's handler: runs every posted request, then checks in. */
export function* xcallHandler(k: XcallContext, cpu: CoreContext): KPath {
  const box = k.xcalls.of(cpu.index);
  while (box.length > 0) {
    const req = box.shift()!;
    yield step('xcall', 'run', 0, `${req.what} from core ${req.initiator.index}`);
    yield* req.fn(cpu);
    req.finished++;
    req.initiator.kick();
  }
}
