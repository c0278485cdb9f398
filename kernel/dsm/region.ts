// One node's share of a job's DSM region: the frames that hold this node's
// copies (kernel memory, mapped into the attached process page by page), the
// access this node has to each page, the threads waiting for a page, and, for
// the pages, locks and barrier this rank manages, the manager's records.
//
// Manager choice: a FIXED manager per page, rank (page mod ranks), as in Li
// and Hudak's fixed distributed manager. A request then takes at most three
// hops (requester -> manager -> owner -> requester) whatever the history, the
// manager serialises the transactions on its pages (so single writer /
// multiple readers holds without extra messages), and a node that dies takes
// with it only the pages it owned or managed, which the others can name.
// Dynamic ownership with forwarding (probable owners) would save the hop to
// the manager when the owner is stable; it is kept possible: `managerOf` is
// the one place that says where a request goes first, and the manager's
// record (owner, copyset) is what a probable-owner chain would carry along.

import type { Process, Thread } from '../process.ts';
import type { RegionKey } from './wire.ts';

export const PAGE = 4096;

/** Exit status of a process killed because a page or a lock it needs is lost with a node (128 + SIGBUS). */
export const DSM_LOST_STATUS = 135;

/** A node's access to a page; the numbers go on the wire. */
export const ACCESS = { none: 0, read: 1, write: 2 } as const;
export type Access = (typeof ACCESS)[keyof typeof ACCESS];
export const ACCESS_NAME = ['none', 'read', 'write'] as const;

export interface Request {
  readonly access: Access;
  readonly requester: number;
}

/** The manager's record of a page. */
export interface ManagedPage {
  /** The rank whose copy is current (-1: never written or read; every frame is zero). */
  owner: number;
  /** Ranks holding a copy (the owner included). */
  readonly copyset: Set<number>;
  /** The transaction in progress (the next waits in `queue`). */
  busy: (Request & { acks: number; needData: boolean }) | null;
  readonly queue: Request[];
  /** Set when the only current copy went with a node that is down: the node. */
  lostWith: number;
}

export interface ManagedLock {
  /** The rank holding it, -1 when free. */
  holder: number;
  readonly queue: number[];
  /** A rank that ended while holding it (-1: none): the lock is broken for good, every request refused. */
  diedHolding: number;
}

/** What a rank measures (dsm_stats). */
export interface DsmCounters {
  faults: number;
  readFaults: number;
  writeFaults: number;
  invalidations: number;
  syscalls: number;
  messages: number;
  faultPs: number;
  served: number;
  grants: number;
  dataBytes: number;
}

export class DsmRegion {
  /** The process this node's frames are mapped into (dsm_attach), or null. */
  process: Process | null = null;
  /** This rank detached (or its process ended): final; the node serves its pages until every rank has. */
  detached = false;
  readonly access: Uint8Array;
  /** The access this node asked its manager for and has not been granted yet. */
  readonly pending: Uint8Array;
  readonly waiters = new Map<number, Thread[]>();
  readonly managed = new Map<number, ManagedPage>();
  readonly locks = new Map<number, ManagedLock>();
  /** Threads of this rank waiting for a lock grant, by lock id. */
  readonly lockWaiters = new Map<number, Thread[]>();
  /** Locks this rank holds. */
  readonly held = new Set<number>();
  /** The next barrier epoch this rank enters. */
  epoch = 1;
  readonly barrierWaiters = new Map<number, Thread[]>();
  /** Rank 0 only: the ranks that arrived at each open epoch. */
  readonly arrivals = new Map<number, Set<number>>();
  /** Rank 0 only: ranks that detached (or ended); a barrier they have not entered cannot complete. */
  readonly gone = new Set<number>();
  /** Nodes a probe found down (watch.ts): their ranks are departed, and nobody waits on them again. */
  readonly down = new Set<number>();
  readonly stats: DsmCounters = { faults: 0, readFaults: 0, writeFaults: 0, invalidations: 0, syscalls: 0, messages: 0, faultPs: 0, served: 0, grants: 0, dataBytes: 0 };

  constructor(
    readonly key: RegionKey,
    readonly rank: number,
    /** The node of each rank. */
    readonly nids: readonly number[],
    readonly base: number,
    readonly bytes: number,
    /** Physical address of page 0's frame on this node. */
    readonly pa: number,
    /** The rank's process that created it (its end detaches the rank if it never attached). */
    readonly creator: Process,
  ) {
    this.access = new Uint8Array(this.pages);
    this.pending = new Uint8Array(this.pages);
  }

  get size(): number {
    return this.nids.length;
  }

  get pages(): number {
    return this.bytes / PAGE;
  }

  /** The rank that manages `page` (fixed by page number: see the header). */
  managerOf(page: number): number {
    return page % this.size;
  }

  /** The rank that manages lock `id`. */
  lockManagerOf(id: number): number {
    return id % this.size;
  }

  /** The rank whose node counts barrier arrivals. */
  get home(): number {
    return 0;
  }

  managedPage(page: number): ManagedPage {
    let m = this.managed.get(page);
    if (m === undefined) this.managed.set(page, (m = { owner: -1, copyset: new Set(), busy: null, queue: [], lostWith: -1 }));
    return m;
  }

  pageOf(va: number): number {
    return Math.floor((va - this.base) / PAGE);
  }

  covers(va: number): boolean {
    return va >= this.base && va < this.base + this.bytes;
  }

  rankOfNid(nid: number): number {
    return this.nids.indexOf(nid);
  }
}

export function keyString(k: RegionKey): string {
  return `${k.uid}:${k.nid0}:${k.pid0}`;
}
