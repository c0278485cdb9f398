// Active Messages (von Eicken, Culler, Goldstein, Schauser, ISCA 1992): a
// message carries the index of the handler that consumes it in a handler
// table every rank builds identically at start (SPMD: the index is the
// handler's address). The receiver runs the handler when it polls; the
// handler takes the data out of the network and into the computation, and
// never blocks: it may not poll, wait or send a request, and a request
// handler may reply once (a second reply is an AmError). Bulk `store`
// deposits data at an address of the receiver and then runs a handler; `get`
// fetches data from the receiver's memory into the requester's, and runs a
// handler there when it has arrived. Bulk data moves only within memory a
// rank has exposed (`expose`): a store lands, and a get reads, there or
// nowhere.
//
// What arrives is checked before anything runs: a message that is not an
// Active Message, whose length field lies, that names no handler, lacks
// the arguments its kind needs or fewer than its handler declares
// (handler.length, the token not counted: extra ones are passed, missing
// ones never), or moves bulk data outside exposed memory is dropped and
// counted (stats.dropped, stats.drops by reason); the rank goes on. A reply
// that names a request handler runs it, and its token.reply ends the
// handler: dropped and counted as 'kind' (no reply is sent). The sender is the rank the transport says it came from (the U-Net
// channel, the Portals initiator), never the header's claim.
//
//   const am = yield* amStart(env, yield* amOverUnet(env), [
//     function* ping(t, x) { yield* t.reply(PONG, x + 1); },   // handler 0
//     function* pong(_t, x) { got = x; },                      // handler 1
//   ]);
//   yield* am.request(1, PING, 41);
//   yield* am.waitUntil(() => got !== 0);

import type { Env } from '../runtime.ts';
import type { U } from '../ops.ts';
import type { AmTransport } from './transport.ts';
import { AM_HEADER_BYTES, AM_KIND, AM_MAX_ARGS, type AmHeader, type AmKind, decodeHeader, encodeHeader } from './wire.ts';

/** A misuse of the Active Messages layer, with what was wrong. */
export class AmError extends Error {}

/** What a handler receives about the message that invoked it. */
export interface AmToken {
  /** The rank that sent the message. */
  readonly src: number;
  /** Bulk data of a store or get reply: where it now is, and how long. */
  readonly addr: number;
  readonly len: number;
  /** Answers a request (once) with a reply that runs `handler` at the requester. */
  reply(handler: number, ...args: number[]): U;
}

export type AmHandler = (t: AmToken, ...args: number[]) => U;

/** Figures the layer counts, for reports and tests. */
export interface AmStats {
  sent: number;
  handled: number;
  polls: number;
  /** Messages that arrived and were dropped unrun (malformed, or bulk data outside exposed memory). */
  dropped: number;
  /** `dropped` by reason. */
  readonly drops: Record<AmDropReason, number>;
  /** Sends the network gave back undelivered: their target rank had exited (over U-Net; Portals never says). */
  undelivered: number;
}

/** Why an arrived message was dropped. */
export type AmDropReason = 'malformed' | 'length' | 'handler' | 'args' | 'address' | 'kind' | 'lost';

/** How many empty polls in a row waitUntil makes before it asks the transport whether a send came back undelivered. */
const GONE_CHECK_POLLS = 64;

const NO_DROPS: Record<AmDropReason, number> = { malformed: 0, length: 0, handler: 0, args: 0, address: 0, kind: 0, lost: 0 };

/** A reply from a handler that a reply (not a request) invoked: the message's kind does not fit its handler. */
class KindMismatch extends AmError {}

export interface Am {
  readonly rank: number;
  readonly size: number;
  readonly transport: AmTransport;
  readonly stats: AmStats;
  /** Sends a request that runs handler `handler` at `dest` with `args`. */
  request(dest: number, handler: number, ...args: number[]): U;
  /** Copies `len` bytes at local `from` to `to` at `dest`, then runs `handler(t, ...args)` there (t.addr = to, t.len = len). */
  store(dest: number, from: number, to: number, len: number, handler: number, ...args: number[]): U;
  /** Copies `len` bytes at `from` of `dest` to local `to`, then runs `handler(t, ...args)` here (t.addr = to, t.len = len). */
  get(dest: number, from: number, to: number, len: number, handler: number, ...args: number[]): U;
  /** Runs the handlers of every message that has arrived; returns how many. */
  poll(): U<number>;
  /** Polls until `done()` holds, working `spinCycles` between empty polls. */
  waitUntil(done: () => boolean, spinCycles?: number): U;
  /** Waits until every send has left the node. */
  flush(): U;
  /** Runs arrived handlers from a message upcall: nothing when a handler or a poll is running (that one takes them). */
  upcall(): U<number>;
  /** Lets bulk stores from other ranks land in, and gets read from, `len` bytes at `va` (also where this rank's own gets may deposit). */
  expose(va: number, len: number): void;
  /** Takes back a region given to `expose` (before unmapping it). */
  withdraw(va: number, len: number): void;
}

/**
 * Interrupt-driven mode (transport over U-Net with `interrupt: true`): a
 * message's arrival interrupts the rank's computation, the handlers run at
 * user level, and the computation goes on. Polling still works beside it.
 */
export function amInterrupts(env: Env, am: Am): void {
  env.onMessage(function* () {
    yield* am.upcall();
  });
}

/** The largest bulk transfer in one message of this transport. */
export function amMaxData(t: AmTransport): number {
  return t.maxMessage - AM_HEADER_BYTES;
}

/** Starts the layer on `transport` with a handler table fixed from now on. */
export function* amStart(env: Env, transport: AmTransport, handlers: readonly AmHandler[]): U<Am> {
  if (handlers.length === 0 || handlers.length > 0xffff) throw new AmError(`the handler table has ${handlers.length} entries (1 to 65535)`);
  return new Layer(env, transport, Object.freeze([...handlers]));
}

/** A message to self never touches the network: it waits here for the next poll, as if it had arrived. */
interface Local {
  readonly header: AmHeader;
  readonly data: Uint8Array | null;
}

class Layer implements Am {
  readonly rank: number;
  readonly size: number;
  readonly stats: AmStats = { sent: 0, handled: 0, polls: 0, dropped: 0, drops: { ...NO_DROPS }, undelivered: 0 };
  /** Memory bulk data may move in and out of: [va, len] pairs. */
  private readonly exposed: [number, number][] = [];
  /** The handler running now (handlers run one at a time), or null. */
  private running: string | null = null;
  /** Counts handler invocations: a token replies only during its own. */
  private invocation = 0;
  /** A poll is taking messages (an upcall then leaves them to it). */
  private polling = false;
  private readonly local: Local[] = [];
  /** How many of the transport's lost messages are already in stats. */
  private lostSeen = 0;
  /** Gets and stores of this rank another rank refused (REFUSED answers): a wait ends in an AmError. */
  private readonly refused: { rank: number; kind: number; addr: number; len: number }[] = [];

  constructor(
    private readonly env: Env,
    readonly transport: AmTransport,
    private readonly handlers: readonly AmHandler[],
  ) {
    this.rank = transport.rank;
    this.size = transport.size;
  }

  *request(dest: number, handler: number, ...args: number[]): U {
    this.mayBlock('request');
    yield* this.send(dest, AM_KIND.REQUEST, handler, args, 0, 0);
  }

  *store(dest: number, from: number, to: number, len: number, handler: number, ...args: number[]): U {
    this.mayBlock('store');
    yield* this.send(dest, AM_KIND.STORE, handler, [to, ...args], from, len);
  }

  *get(dest: number, from: number, to: number, len: number, handler: number, ...args: number[]): U {
    this.mayBlock('get');
    this.checkLen(len);
    if (!this.isExposed(to, len)) throw new AmError(`rank ${this.rank}: get into ${len} bytes at 0x${to.toString(16)}, which this rank has not exposed (am.expose)`);
    yield* this.send(dest, AM_KIND.GET, handler, [from, len, to, ...args], 0, 0);
  }

  *poll(): U<number> {
    this.mayBlock('poll');
    this.stats.polls++;
    this.polling = true;
    try {
      return yield* this.drain();
    } finally {
      this.polling = false;
    }
  }

  private *drain(): U<number> {
    let n = 0;
    for (;;) {
      const l = this.local.shift();
      if (l !== undefined) {
        const why = this.refusal(l.header);
        if (why !== null) {
          this.drop(why);
          yield* this.answerRefusal(l.header, why);
        } else {
          yield* this.deliver(l.header, l.data);
          n++;
        }
        continue;
      }
      const m = yield* this.transport.poll();
      if (m === null) {
        // What the network dropped for want of room (no flow control) is lost too: counted, never silent.
        const lost = yield* this.transport.lost();
        for (; this.lostSeen < lost; this.lostSeen++) this.drop('lost');
        return n;
      }
      if (m.bytes === null || !(m.src >= 0 && m.src < this.size)) {
        this.drop('lost');
        continue;
      }
      const decoded = decodeHeader(m.bytes);
      if (typeof decoded === 'string') {
        this.drop('malformed');
        continue;
      }
      // The transport knows who sent it; the header's word is only a claim.
      const h: AmHeader = { ...decoded, src: m.src };
      if (m.bytes.length !== AM_HEADER_BYTES + h.dataLen) {
        this.drop('length');
        continue;
      }
      const why = this.refusal(h);
      if (why !== null) {
        this.drop(why);
        yield* this.answerRefusal(h, why);
        continue;
      }
      yield* this.deliver(h, h.dataLen > 0 ? m.bytes.subarray(AM_HEADER_BYTES) : null);
      n++;
    }
  }

  private drop(why: AmDropReason): void {
    this.stats.dropped++;
    this.stats.drops[why]++;
  }

  /**
   * A get or store refused for its address: its requester may be waiting for
   * it to complete (Split-C's sync), which would then never happen. The
   * layer answers with REFUSED, and the requester's wait ends in an AmError
   * naming the address. Nothing else is answered (a reply to a malformed
   * message could go on for ever).
   */
  private *answerRefusal(h: AmHeader, why: AmDropReason): U {
    if (why !== 'address' || (h.kind !== AM_KIND.GET && h.kind !== AM_KIND.STORE)) return;
    const [addr, len] = h.kind === AM_KIND.GET ? [h.args[0], h.args[1]] : [h.args[0], h.dataLen];
    yield* this.send(h.src, AM_KIND.REFUSED, 0, [h.kind, addr, len], 0, 0);
  }

  /** Why an arrived message cannot run here, or null when it can. */
  private refusal(h: AmHeader): AmDropReason | null {
    if (h.kind === AM_KIND.REFUSED) return h.args.length === 3 && h.dataLen === 0 && h.args.every((a) => Number.isSafeInteger(a)) ? null : 'args';
    if (h.handler >= this.handlers.length) return 'handler';
    if (h.args.some((a) => !Number.isSafeInteger(a))) return 'args';
    const need = h.kind === AM_KIND.GET ? 3 : h.kind === AM_KIND.STORE || h.kind === AM_KIND.GET_REPLY ? 1 : 0;
    if (h.args.length < need) return 'args';
    // A handler is never run with fewer arguments than it declares (handler.length counts the token):
    // a missing one would be undefined, and arithmetic on it NaN.
    if (h.kind !== AM_KIND.GET && h.args.length - need < this.handlers[h.handler].length - 1) return 'args';
    if (h.kind !== AM_KIND.STORE && h.kind !== AM_KIND.GET_REPLY && h.dataLen !== 0) return 'length';
    if ((h.kind === AM_KIND.STORE || h.kind === AM_KIND.GET_REPLY) && !this.isExposed(h.args[0], h.dataLen)) return 'address';
    if (h.kind === AM_KIND.GET) {
      const [from, len] = h.args;
      if (!Number.isSafeInteger(len) || len < 0 || len > amMaxData(this.transport)) return 'length';
      if (!this.isExposed(from, len)) return 'address';
    }
    return null;
  }

  private isExposed(va: number, len: number): boolean {
    if (!Number.isSafeInteger(va) || !Number.isSafeInteger(len) || va < 0 || len < 0) return false;
    return this.exposed.some(([start, n]) => va >= start && va + len <= start + n);
  }

  expose(va: number, len: number): void {
    if (!Number.isSafeInteger(va) || !Number.isSafeInteger(len) || va <= 0 || len <= 0) throw new AmError(`rank ${this.rank}: cannot expose ${len} bytes at ${va}`);
    this.exposed.push([va, len]);
  }

  withdraw(va: number, len: number): void {
    const i = this.exposed.findIndex(([s, n]) => s === va && n === len);
    if (i < 0) throw new AmError(`rank ${this.rank}: ${len} bytes at 0x${va.toString(16)} were not exposed`);
    this.exposed.splice(i, 1);
  }

  *upcall(): U<number> {
    if (this.running !== null || this.polling) return 0;
    return yield* this.poll();
  }

  *waitUntil(done: () => boolean, spinCycles = 50): U {
    this.mayBlock('waitUntil');
    for (let idle = 0; !done(); ) {
      this.checkRefused();
      if ((yield* this.poll()) > 0) {
        idle = 0;
        continue;
      }
      // Every GONE_CHECK_POLLS empty polls in a row: cheap, and a wait that is answered at once never looks.
      if (++idle % GONE_CHECK_POLLS === 0) yield* this.checkGone();
      yield* this.env.compute(spinCycles);
    }
  }

  /** A get or store of this rank was refused: what it was waiting for will never complete. */
  private checkRefused(): void {
    const r = this.refused.shift(); // told once: a rank that catches the error may go on
    if (r === undefined) return;
    const what = r.kind === AM_KIND.GET ? `get of ${r.len} bytes from` : `store of ${r.len} bytes to`;
    throw new AmError(`rank ${this.rank}: rank ${r.rank} refused a ${what} 0x${r.addr.toString(16)}: that memory is not exposed there (am.expose, sc.alloc)`);
  }

  /**
   * A message the network gave back because its target rank has exited was
   * lost: whatever the wait is for, the protocol it belongs to can no longer
   * finish, so the wait ends in an AmError naming the rank, not in a spin
   * until the host's limit.
   */
  private *checkGone(): U {
    if (this.transport.gone === undefined) return;
    const g = yield* this.transport.gone();
    this.stats.undelivered = g.undelivered;
    if (g.ranks.length === 0) return;
    const who = g.ranks.length === 1 ? `rank ${g.ranks[0]} has` : `ranks ${g.ranks.join(', ')} have`;
    throw new AmError(`rank ${this.rank}: ${who} exited: ${g.undelivered} message(s) to ${g.ranks.length === 1 ? 'it' : 'them'} came back undelivered, so this wait can never end`);
  }

  *flush(): U {
    this.mayBlock('flush');
    yield* this.transport.flush();
  }

  /** Handlers never block: a handler that waits for a message could wait for one only its own rank's poll would run. */
  private mayBlock(what: string): void {
    if (this.running !== null) throw new AmError(`rank ${this.rank}: handler ${this.running} called ${what}: handlers do not block and send only replies`);
  }

  private checkLen(len: number): void {
    const max = amMaxData(this.transport);
    if (!Number.isSafeInteger(len) || len < 0 || len > max) throw new AmError(`rank ${this.rank}: ${len} bytes in one message; the ${this.transport.name} transport carries 0 to ${max}`);
  }

  private *send(dest: number, kind: AmKind, handler: number, args: readonly number[], data: number, len: number): U {
    if (!Number.isSafeInteger(dest) || dest < 0 || dest >= this.size) throw new AmError(`rank ${this.rank}: no rank ${dest} (the job has ${this.size})`);
    if (!Number.isSafeInteger(handler) || handler < 0 || handler >= this.handlers.length) throw new AmError(`rank ${this.rank}: no handler ${handler} (the table has ${this.handlers.length})`);
    if (args.length > AM_MAX_ARGS) throw new AmError(`rank ${this.rank}: ${args.length} arguments (at most ${AM_MAX_ARGS})`);
    const bad = args.find((a) => !Number.isSafeInteger(a));
    if (bad !== undefined) throw new AmError(`rank ${this.rank}: argument ${bad} is not a whole number`);
    this.checkLen(len);
    // The receiver refuses fewer arguments than the handler declares (refusal); say so here, where the mistake is.
    const own = args.length - (kind === AM_KIND.GET ? 3 : kind === AM_KIND.STORE || kind === AM_KIND.GET_REPLY ? 1 : 0);
    if (kind !== AM_KIND.GET_REPLY && kind !== AM_KIND.REFUSED && own < this.handlers[handler].length - 1) throw new AmError(`rank ${this.rank}: handler ${handler} takes ${this.handlers[handler].length - 1} arguments, not ${own}`);
    const header: AmHeader = { kind, handler, src: this.rank, dataLen: len, args };
    this.stats.sent++;
    if (dest === this.rank) {
      this.local.push({ header, data: len > 0 ? yield* this.env.mem.load(data, len) : null });
      return;
    }
    yield* this.transport.send(dest, encodeHeader(header), data, len);
  }

  /** Runs the message's handler; stores and get replies first deposit their data. */
  private *deliver(h: AmHeader, data: Uint8Array | null): U {
    if (h.kind === AM_KIND.REFUSED) {
      // No handler runs: the next wait of this rank ends in an AmError saying what was refused.
      this.refused.push({ rank: h.src, kind: h.args[0], addr: h.args[1], len: h.args[2] });
      return;
    }
    let addr = 0;
    let args = h.args;
    if (h.kind === AM_KIND.STORE || h.kind === AM_KIND.GET_REPLY) {
      addr = args[0];
      args = args.slice(1);
      if (data !== null) yield* this.env.mem.store(addr, data);
    }
    if (h.kind === AM_KIND.GET) {
      // The library answers a get itself: the data goes back as a reply that runs the requester's handler.
      const [from, len, to, ...rest] = args;
      this.stats.handled++;
      yield* this.send(h.src, AM_KIND.GET_REPLY, h.handler, [to, ...rest], from, len);
      return;
    }
    const isRequest = h.kind === AM_KIND.REQUEST || h.kind === AM_KIND.STORE;
    const name = `${h.handler} (${this.handlers[h.handler].name || 'anonymous'})`;
    let replied = false;
    const id = ++this.invocation;
    const token: AmToken = {
      src: h.src,
      addr,
      len: h.dataLen,
      reply: (handler: number, ...rargs: number[]) => this.reply(id, name, isRequest, () => replied, () => (replied = true), h.src, handler, rargs),
    };
    this.running = name;
    try {
      yield* this.handlers[h.handler](token, ...args);
    } catch (e) {
      // A reply that names a request handler makes it reply where it may not: the sender's doing, so dropped and counted.
      if (!(e instanceof KindMismatch)) throw e;
      this.drop('kind');
      return;
    } finally {
      this.running = null;
    }
    this.stats.handled++;
  }

  private *reply(id: number, name: string, isRequest: boolean, replied: () => boolean, mark: () => void, dest: number, handler: number, args: readonly number[]): U {
    if (this.running === null || this.invocation !== id) throw new AmError(`rank ${this.rank}: a reply from handler ${name} after it returned: reply inside the handler`);
    if (!isRequest) throw new KindMismatch(`rank ${this.rank}: handler ${name} runs for a reply and may not reply (only request handlers reply)`);
    if (replied()) throw new AmError(`rank ${this.rank}: handler ${name} replied twice: a request handler may reply once`);
    mark();
    yield* this.send(dest, AM_KIND.REPLY, handler, args, 0, 0);
  }
}
