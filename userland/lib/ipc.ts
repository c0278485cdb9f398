// Mach-style ports for user programs: a thin wrapper over the ipc_* calls
// (kernel/ipc/calls.ts). Names are the task's own; every call that fails
// throws an IpcError naming the call and the errno (use env.sys.raw for the
// bare -errno).

import { ERRNO, SYS } from './abi.gen.ts';
import { errnoName } from './dsm/errors.ts';
import type { U } from './ops.ts';
import type { Env } from './runtime.ts';

/** Words a message carries (kernel/ipc/ports.ts's PORT_MAX_WORDS). */
export const IPC_MAX_WORDS = 6;

/** ipc_port_alloc's flag: a No More Senders notification when the last send right goes. */
export const IPC_NMS = 1;

/** ipc_receive's message kinds (kernel/ipc/ports.ts's PORT_MSG_KIND). */
export const IPC_KIND = { message: 0, noMoreSenders: 1, portDead: 2 } as const;

export class IpcError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
    /** What the errno means for this call, when the library knows more than its name. */
    why?: string,
  ) {
    super(`ipc: ${call} failed: ${errnoName(errno)}${why === undefined ? '' : ` (${why})`}`);
  }
}

export interface Received {
  readonly kind: number;
  /** The name of the send right the message carried, or -1. */
  readonly carried: number;
  /** The name of the send-once right to answer with (ipc_reply), or -1. */
  readonly reply: number;
  readonly words: number[];
}

export interface Ipc {
  portAlloc(flags?: number): U<number>;
  makeSend(receive: number): U<number>;
  dealloc(name: number): U;
  publish(receive: number, key: number): U;
  /**
   * A send right to what node nid published under key. A key not yet
   * published is waited for, up to `waitNs` in all (the kernel waits at
   * least 100 ms; 0, the default, means 100 ms), at node nid's name server,
   * which answers when it is published: no polling. A key still not
   * published then throws an IpcError with ENOENT.
   *
   * Changed: `waitNs` was a retry interval (the library polled until the
   * key was published, however long that took); it is now the total wait.
   * A program whose publisher may take longer than 100 ms must pass a wait.
   */
  lookup(nid: number, key: number, waitNs?: number): U<number>;
  send(name: number, words: readonly number[], carry?: number): U;
  receive(receive: number): U<Received>;
  rpc(name: number, words: readonly number[]): U<number[]>;
  reply(reply: number, words: readonly number[]): U;
}

/** The longest one ipc_lookup may wait (kernel/ipc/lookups.ts's LOOKUP_WAIT_MAX_NS); lookup() asks again for a longer wait. */
export const LOOKUP_WAIT_MAX_NS = 60e9;

/** The shortest wait of one ipc_lookup (kernel/ipc/lookups.ts's LOOKUP_WAIT_MIN_NS): a smaller one, 0 included, waits this long. */
export const LOOKUP_WAIT_MIN_NS = 100e6;

export function* openIpc(env: Env): U<Ipc> {
  const { sys, mem } = env;
  // One buffer per wrapper for words out and in (3 header words + IPC_MAX_WORDS).
  const out = yield* mem.alloc(8 * IPC_MAX_WORDS);
  const inb = yield* mem.alloc(8 * (3 + IPC_MAX_WORDS));
  function* check(call: string, r: number): U<number> {
    if (r < 0) throw new IpcError(call, -r);
    return r;
  }
  function* put(words: readonly number[]): U {
    if (words.length > IPC_MAX_WORDS) throw new IpcError(`a message of ${words.length} words`, ERRNO.EINVAL);
    for (let i = 0; i < words.length; i++) yield* mem.storeU64(out + 8 * i, BigInt.asUintN(64, BigInt(words[i])));
  }
  function* get(va: number, n: number): U<number[]> {
    const ws: number[] = [];
    for (let i = 0; i < n; i++) ws.push(Number(BigInt.asIntN(64, yield* mem.loadU64(va + 8 * i))));
    return ws;
  }
  return {
    *portAlloc(flags = 0) {
      return yield* check('ipc_port_alloc', yield* sys.raw(SYS.ipc_port_alloc, flags));
    },
    *makeSend(receive) {
      return yield* check('ipc_make_send', yield* sys.raw(SYS.ipc_make_send, receive));
    },
    *dealloc(name) {
      yield* check('ipc_dealloc', yield* sys.raw(SYS.ipc_dealloc, name));
    },
    *publish(receive, key) {
      yield* check('ipc_publish', yield* sys.raw(SYS.ipc_publish, receive, key));
    },
    *lookup(nid, key, waitNs = 0) {
      // One lookup waits at the name server until the key is published (docs/IPC.md); only a wait
      // longer than the kernel's maximum takes more than one.
      let left = Math.max(0, waitNs);
      for (;;) {
        const slice = Math.min(left, LOOKUP_WAIT_MAX_NS);
        left -= slice;
        const r = yield* sys.raw(SYS.ipc_lookup, nid, key, slice);
        if (r === -ERRNO.ENOENT && left > 0) continue;
        if (r === -ERRNO.ENOENT) {
          const ms = Math.max(waitNs, LOOKUP_WAIT_MIN_NS) / 1e6;
          throw new IpcError('ipc_lookup', ERRNO.ENOENT, `key ${key} was not published at node ${nid} within the wait of ${ms} ms`);
        }
        return yield* check('ipc_lookup', r);
      }
    },
    *send(name, words, carry = -1) {
      yield* put(words);
      yield* check('ipc_send', yield* sys.raw(SYS.ipc_send, name, out, words.length, BigInt.asUintN(64, BigInt(carry))));
    },
    *receive(receive) {
      const n = yield* check('ipc_receive', yield* sys.raw(SYS.ipc_receive, receive, inb, 3 + IPC_MAX_WORDS));
      const [kind, carried, reply] = yield* get(inb, 3);
      return { kind, carried, reply, words: yield* get(inb + 24, n) };
    },
    *rpc(name, words) {
      yield* put(words);
      const n = yield* check('ipc_rpc', yield* sys.raw(SYS.ipc_rpc, name, out, words.length, inb, IPC_MAX_WORDS));
      return yield* get(inb, n);
    },
    *reply(reply, words) {
      yield* put(words);
      yield* check('ipc_reply', yield* sys.raw(SYS.ipc_reply, reply, out, words.length));
    },
  };
}
