// Kernel services over the transport: a kernel subsystem registers a service
// by name on its node, and a subsystem on any node sends it a request (a few
// words and an optional payload) whose reply, or failure, runs a
// continuation. A handler may reply at once or later, after asking someone
// else. One-way posts share the path. This is the kernel-facing API of
// distributed IPC; Mach ports across nodes are built on it.

import { ERRNO } from '../errno.ts';
import type { Cpu } from '../cpu.ts';
import type { Kernel } from '../kernel.ts';
import { type KPath, step } from '../step.ts';
import { type Delivered, type IpcBuffer, Kkt, MAX_PAYLOAD, type OutPayload } from './kkt.ts';
import type { PersonalityName } from './personality.ts';
import { MAX_WORDS, serviceCode, serviceName } from './wire.ts';

/** Words a request, reply or post may carry (the rest of a header is the transport's and this layer's). */
export const MAX_SERVICE_WORDS = MAX_WORDS - 3;

/** Payload to send: bytes (copied into a kernel buffer first) or physical memory the caller keeps until the reply. */
export type IpcPayload = { readonly bytes: Uint8Array } | { readonly pa: number; readonly len: number } | null;

export type IpcReply =
  | { readonly ok: true; readonly src: number; readonly words: readonly number[]; readonly payload: IpcBuffer | null }
  | { readonly ok: false; readonly errno: number; readonly reason: string };

/** What a request's continuation runs with (a payload is released after it returns unless kept). */
export type IpcContinuation = (reply: IpcReply, cpu: Cpu) => KPath;

/** A request a service got: reply (now or later) or refuse it. */
export interface IpcRequest {
  readonly src: number;
  readonly service: string;
  readonly words: readonly number[];
  /** The request's payload; released when the handler's path returns unless kept (IpcBuffer.keep). */
  readonly payload: IpcBuffer | null;
  /** False for a one-way post (reply and refuse then do nothing). */
  readonly wantsReply: boolean;
  reply(words: readonly number[], payload?: IpcPayload): KPath;
  refuse(errno: number, reason: string): KPath;
}

export type IpcHandler = (req: IpcRequest, cpu: Cpu) => KPath;

const OP = { request: 1, reply: 2, refused: 3, post: 4 } as const;

/** The reply stream: replies need no order among themselves. */
const REPLY_STREAM = 0;

/** Bytes of a refusal's reason that travel (the rest is cut). */
export const MAX_REASON_BYTES = 512;

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A request waiting for its reply, and the transport message that carries it (-1 before it is sent). */
interface Pending {
  readonly dst: number;
  readonly service: string;
  readonly then: IpcContinuation;
  readonly msg: { id: number };
}

export class IpcServices {
  readonly transport: Kkt;
  private readonly handlers = new Map<number, { name: string; handler: IpcHandler }>();
  private readonly pending = new Map<number, Pending>();
  private nextReq = 1;
  readonly stats = { requests: 0, replies: 0, posts: 0, refused: 0, noService: 0 };

  constructor(
    private readonly k: Kernel,
    personality: PersonalityName,
  ) {
    this.transport = new Kkt(k, personality, (m, cpu) => this.arrived(m, cpu));
  }

  /** Registers service `name` (up to 6 letters, digits, '-' or '_') on this node. */
  serve(name: string, handler: IpcHandler): void {
    const code = serviceCode(name);
    if (code === null) throw new Error(`ipc: bad service name '${name}'`);
    this.handlers.set(code, { name, handler });
  }

  /** Requests still waiting for their reply. */
  get waiting(): number {
    return this.pending.size;
  }

  /**
   * Sends a request to service `name` on node `dst`; `then` runs with the
   * reply, or with an error: -EHOSTUNREACH (the node is down or unreachable),
   * -ENOMEM (no buffer for the payload there or here), -ENOSYS (no such
   * service there), -EINVAL (a bad name, node, word count or payload), or
   * what the handler refused with.
   */
  *request(dst: number, name: string, words: readonly number[], payload: IpcPayload, then: IpcContinuation, ticket?: { id: number }): KPath {
    const id = this.nextReq++;
    // The requester may give the request up later (forget) by this id.
    if (ticket !== undefined) ticket.id = id;
    const bad = this.check(dst, name, words, payload);
    if (bad !== null) {
      yield* then({ ok: false, errno: -ERRNO.EINVAL, reason: bad }, this.cpu());
      return;
    }
    const out = this.stage(payload);
    if (out === 'nomem') {
      yield* then({ ok: false, errno: -ERRNO.ENOMEM, reason: 'no kernel buffer for the payload' }, this.cpu());
      return;
    }
    const msg = { id: -1 };
    this.pending.set(id, { dst, service: name, then, msg });
    this.stats.requests++;
    yield* this.transport.send(dst, serviceCode(name)!, [OP.request, serviceCode(name)!, id, ...words], out, (reason, cpu) => this.failed(id, reason, cpu), msg);
  }

  /**
   * The requester gave up on request `id` (its deadline passed): its reply,
   * if one ever comes, is dropped, and its message stops holding a kernel
   * buffer here (a node that never acknowledges would otherwise keep it).
   */
  *forget(id: number, cpu: Cpu): KPath {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    if (p.msg.id >= 0) yield* this.transport.cancel(p.msg.id, cpu);
  }

  /** Sends a one-way message to service `name` on node `dst`; `onFail` runs if it cannot be delivered; `ticket` gets its transport message's id (transport.cancel). */
  *post(dst: number, name: string, words: readonly number[], payload: IpcPayload, onFail: ((errno: number, reason: string, cpu: Cpu) => KPath) | null = null, ticket?: { id: number }): KPath {
    const bad = this.check(dst, name, words, payload);
    const out = bad === null ? this.stage(payload) : null;
    if (bad !== null || out === 'nomem') {
      if (onFail !== null) yield* onFail(bad !== null ? -ERRNO.EINVAL : -ERRNO.ENOMEM, bad ?? 'no kernel buffer for the payload', this.cpu());
      return;
    }
    this.stats.posts++;
    yield* this.transport.send(dst, serviceCode(name)!, [OP.post, serviceCode(name)!, 0, ...words], out, function* (reason, cpu) {
      if (onFail !== null) yield* onFail(-ERRNO.EHOSTUNREACH, reason, cpu);
    }, ticket);
  }

  private check(dst: number, name: string, words: readonly number[], payload: IpcPayload): string | null {
    if (!Number.isInteger(dst) || dst < 0 || dst >= this.k.host.nodeCount) return `no node ${dst}`;
    if (serviceCode(name) === null) return `bad service name '${name}'`;
    if (words.length > MAX_SERVICE_WORDS) return `${words.length} words (at most ${MAX_SERVICE_WORDS})`;
    if (!words.every((w) => Number.isSafeInteger(w))) return 'a word is not a safe integer';
    if (payload !== null) {
      const len = 'bytes' in payload ? payload.bytes.length : payload.len;
      if (!Number.isSafeInteger(len) || len < 0 || len > MAX_PAYLOAD) return `payload of ${len} bytes`;
      if ('pa' in payload && (!Number.isSafeInteger(payload.pa) || payload.pa < 0 || payload.pa + len > this.k.node.memory.size)) return 'payload outside physical memory';
    }
    return null;
  }

  /** The payload as physical memory the transport may read: bytes go into a kernel buffer first. */
  private stage(payload: IpcPayload): OutPayload | null | 'nomem' {
    if (payload === null) return null;
    if ('pa' in payload) return payload.len === 0 ? null : { pa: payload.pa, len: payload.len, owned: null };
    if (payload.bytes.length === 0) return null;
    const pa = this.k.phys.alloc(payload.bytes.length, 8);
    if (pa === null) return 'nomem';
    this.k.node.memory.write(pa, payload.bytes);
    return { pa, len: payload.bytes.length, owned: pa };
  }

  /** A core to run a continuation that fails before anything was sent: the one executing. */
  private cpu(): Cpu {
    return (this.k.executing as Cpu | null) ?? this.k.cpus[0];
  }

  private *failed(id: number, reason: string, cpu: Cpu): KPath {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    yield* p.then({ ok: false, errno: -ERRNO.EHOSTUNREACH, reason: `node ${p.dst} unreachable: ${reason}` }, cpu);
  }

  /** Fails every request still waiting for node `dst` (its kernel is known to be gone or hung). */
  *abandon(dst: number, reason: string, cpu: Cpu): KPath {
    for (const [id, p] of [...this.pending]) {
      if (p.dst !== dst) continue;
      this.pending.delete(id);
      yield* p.then({ ok: false, errno: -ERRNO.EHOSTUNREACH, reason: `node ${dst}: ${reason}` }, cpu);
    }
  }

  /** Refuses request `id` from node `dst`: its errno, and the reason as the payload (cut to MAX_REASON_BYTES; none if no buffer). */
  private *sendRefusal(dst: number, code: number, id: number, errno: number, reason: string): KPath {
    const out = this.stage({ bytes: enc.encode(reason).subarray(0, MAX_REASON_BYTES) });
    yield* this.transport.send(dst, REPLY_STREAM, [OP.refused, code, id, errno], out === 'nomem' ? null : out, noop);
  }

  /** A complete message from the transport. */
  private *arrived(m: Delivered, cpu: Cpu): KPath {
    const [op, code, id, ...words] = m.words;
    if (op === OP.reply || op === OP.refused) {
      const p = this.pending.get(id);
      // A reply must come from the node the request went to.
      if (p === undefined || p.dst !== m.src) {
        this.transport.stats.dropped++;
        yield step('ipc', 'drop', 0, `reply ${id} from node ${m.src}: no such request to that node`);
        return;
      }
      this.pending.delete(id);
      this.stats.replies++;
      // A refusal carries the far side's reason as its payload: the caller hears why, not only an errno.
      const why = op === OP.refused && m.payload !== null ? dec.decode(m.payload.bytes().subarray(0, MAX_REASON_BYTES)) : '';
      const reply: IpcReply = op === OP.reply ? { ok: true, src: m.src, words, payload: m.payload } : { ok: false, errno: refusedErrno(words[0]), reason: `node ${m.src}: ${why || `refused the ${p.service} request`}` };
      yield* p.then(reply, cpu);
      return;
    }
    if (op !== OP.request && op !== OP.post) {
      this.transport.stats.dropped++;
      yield step('ipc', 'drop', 0, `op ${op} from node ${m.src}`);
      return;
    }
    const h = this.handlers.get(code);
    const wantsReply = op === OP.request;
    if (h === undefined) {
      this.stats.noService++;
      yield step('ipc', 'drop', 0, `no service ${code} here (from node ${m.src})`);
      if (wantsReply) yield* this.sendRefusal(m.src, code, id, -ERRNO.ENOSYS, `no service '${serviceName(code) ?? code}' here`);
      return;
    }
    let answered = !wantsReply;
    const self = this;
    const req: IpcRequest = {
      src: m.src,
      service: h.name,
      words,
      payload: m.payload,
      wantsReply,
      *reply(ws, payload = null) {
        if (answered) return;
        answered = true;
        const bad = self.check(m.src, h.name, ws, payload);
        const out = bad === null ? self.stage(payload) : 'nomem';
        if (out === 'nomem') {
          self.stats.refused++;
          yield* self.sendRefusal(m.src, code, id, bad === null ? -ERRNO.ENOMEM : -ERRNO.EINVAL, bad ?? 'no kernel buffer for the reply');
          return;
        }
        yield* self.transport.send(m.src, REPLY_STREAM, [OP.reply, code, id, ...ws], out, noop);
      },
      *refuse(errno, reason) {
        if (answered) return;
        answered = true;
        self.stats.refused++;
        yield step('ipc', 'refuse', 0, `${h.name} request ${id} from node ${m.src}: ${reason}`);
        yield* self.sendRefusal(m.src, code, id, errno < 0 ? errno : -ERRNO.EIO, reason);
      },
    };
    yield* h.handler(req, cpu);
  }
}

function* noop(): KPath {}

/** A refusal's errno as the requester takes it: a negative errno, else -EIO. */
function refusedErrno(w: number | undefined): number {
  return w !== undefined && Number.isSafeInteger(w) && w < 0 ? w : -ERRNO.EIO;
}
