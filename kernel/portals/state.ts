// Portals state of one process: its network interfaces (two NIC interfaces,
// four NI kinds on each) and the threads blocked in its EQ and CT waits.

import type { Process, Thread } from '../process.ts';
import { PTL } from './defs.ts';
import { type NetworkInterface, type ObjectKind, type PortalsObjects, handleKind, handleNi } from './objects.ts';

/** The node's NIC offers two interfaces (0, the default, and 1: a runtime's out-of-band channel). */
export const IFACES = 2;

/** The four NI kinds of a process on each interface, by index. */
export function niIndex(options: number, iface = 0): number {
  return ((options & PTL.NI_NO_MATCHING) !== 0 ? 1 : 0) | ((options & PTL.NI_LOGICAL) !== 0 ? 2 : 0) | (iface << 2);
}

/** Portals state of one process. */
export class PortalsProcess {
  initCount = 0;
  readonly nis: (NetworkInterface | null)[] = new Array(4 * IFACES).fill(null);
  /** Threads blocked in EQ/CT waits. */
  readonly waiters = new Set<Thread>();
  constructor(readonly process: Process) {}

  ni(handle: number): NetworkInterface | null {
    if (handleKind(handle) !== 'ni') return null;
    const ni = this.nis[handleNi(handle)];
    return ni !== null && ni.handle === handle ? ni : null;
  }

  /** The NI whose slot an object handle's bits name (live or not: find() checks that). */
  owner(handle: number): NetworkInterface | null {
    const kind = handleKind(handle);
    if (kind === null) return null;
    return this.nis[handleNi(handle)] ?? null;
  }

  /** The live object a handle names, if it is of one of `kinds` and this process's (every object lookup goes through here). */
  find<K extends ObjectKind>(handle: number, kinds: K | readonly K[]): PortalsObjects[K] | undefined {
    return this.owner(handle)?.objects.get(handle, kinds, this.process);
  }
}

export interface TargetId {
  readonly nid: number;
  readonly pid: number;
  readonly rank: number;
}
