// Lookups that wait at the name server. A lookup of a name not yet
// published used to be refused at once, and its caller asked again: every
// ask cost the name server's node transport work on core 0 (receive, answer,
// acknowledgement, before any process there runs), so clients asking in a
// tight loop starved that node (receive livelock, docs/IPC.md). Now a
// lookup registers an interest here, at the name server's node, and is
// answered when the name is published, or refused (-ENOENT) when its
// timeout expires, never before LOOKUP_WAIT_MIN_NS, or dropped when the
// asking process ends (its kernel posts a cancel). So one waiting lookup
// costs the server at most one exchange per LOOKUP_WAIT_MIN_NS, however
// eagerly its caller asks again. Interests are bounded per asking node and
// uid (the asking kernel refuses one more itself with -EAGAIN, sending
// nothing; the server refuses it too), so a hostile client can neither grow
// the server's memory nor multiply its rate by threads.

import { ERRNO } from '../errno.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import type { KPath } from '../step.ts';
import type { Deadline } from '../timer.ts';

/** The longest a lookup may wait for its name (ns of simulated time); a larger timeout is -EINVAL. */
export const LOOKUP_WAIT_MAX_NS = 60e9;

/** The shortest: a lookup of a name not published is refused no sooner (a shorter timeout, 0 included, waits this long). */
export const LOOKUP_WAIT_MIN_NS = 100e6;

/** Lookups one (asking node, uid) may have waiting at one name server; one more is refused with -EAGAIN. */
export const MAX_WAITING_LOOKUPS = 4;

/** How an interest ends: answered with the published port's id, or refused with an errno. */
export type InterestEnd = (outcome: { readonly port: number } | { readonly errno: number; readonly why: string }, cpu: Cpu) => KPath;

interface Interest {
  readonly src: number;
  readonly uid: number;
  readonly key: number;
  readonly ask: number;
  readonly end: InterestEnd;
  timer: Deadline | null;
}

export class WaitingLookups {
  /** Interests by (uid, key), oldest first. */
  private readonly byName = new Map<string, Interest[]>();
  /** Interests by (asking node, its ask id), for a cancel. */
  private readonly byAsk = new Map<string, Interest>();
  /** Interests per (asking node, uid), for the bound. */
  private readonly perAsker = new Map<string, number>();
  readonly stats = { waited: 0, answered: 0, timedOut: 0, cancelled: 0, refusedFull: 0 };

  constructor(private readonly k: Kernel) {}

  /** Interests waiting now. */
  get size(): number {
    return this.byAsk.size;
  }

  /**
   * Registers an interest of node `src`'s process of `uid` in `key`, for
   * `timeoutNs`; false (and nothing registered) when that asker already has
   * MAX_WAITING_LOOKUPS waiting here, or the ask id is in use.
   */
  add(src: number, uid: number, key: number, ask: number, timeoutNs: number, end: InterestEnd): boolean {
    const asker = `${src}:${uid}`;
    const n = this.perAsker.get(asker) ?? 0;
    if (n >= MAX_WAITING_LOOKUPS || this.byAsk.has(`${src}:${ask}`)) {
      this.stats.refusedFull++;
      return false;
    }
    const i: Interest = { src, uid, key, ask, end, timer: null };
    this.perAsker.set(asker, n + 1);
    this.byAsk.set(`${src}:${ask}`, i);
    const name = `${uid}:${key}`;
    const list = this.byName.get(name);
    if (list === undefined) this.byName.set(name, [i]);
    else list.push(i);
    this.stats.waited++;
    const self = this;
    i.timer = this.k.timer(0).add({
      at: this.k.engine.now + timeoutNs * 1000,
      kind: 'sleep',
      thread: null,
      *expire(tc) {
        i.timer = null;
        if (!self.drop(i)) return;
        self.stats.timedOut++;
        yield* i.end({ errno: -ERRNO.ENOENT, why: `nothing published under ${key} within ${timeoutNs} ns` }, self.k.cpus[tc.index]);
      },
    });
    return true;
  }

  /** `uid` published `port` under `key`: every interest in it is answered, oldest first. */
  *published(uid: number, key: number, port: number, cpu: Cpu): KPath {
    const list = this.byName.get(`${uid}:${key}`);
    if (list === undefined) return;
    for (const i of [...list]) {
      if (!this.drop(i)) continue;
      this.stats.answered++;
      yield* i.end({ port }, cpu);
    }
  }

  /** The asking process on node `src` ended (or gave up): its interest goes, refused so its node's request ends. */
  *cancel(src: number, ask: number, cpu: Cpu): KPath {
    const i = this.byAsk.get(`${src}:${ask}`);
    if (i === undefined || !this.drop(i)) return;
    this.stats.cancelled++;
    yield* i.end({ errno: -ERRNO.ESRCH, why: 'the asking process ended' }, cpu);
  }

  /** Removes an interest from every index; false if it was gone already. */
  private drop(i: Interest): boolean {
    if (this.byAsk.get(`${i.src}:${i.ask}`) !== i) return false;
    this.byAsk.delete(`${i.src}:${i.ask}`);
    const asker = `${i.src}:${i.uid}`;
    const n = (this.perAsker.get(asker) ?? 1) - 1;
    if (n > 0) this.perAsker.set(asker, n);
    else this.perAsker.delete(asker);
    const name = `${i.uid}:${i.key}`;
    const list = this.byName.get(name)!;
    list.splice(list.indexOf(i), 1);
    if (list.length === 0) this.byName.delete(name);
    if (i.timer !== null) this.k.timer(0).remove(i.timer);
    i.timer = null;
    return true;
  }
}
