// The Portals data movement calls: PtlPut, PtlGet, PtlAtomic,
// PtlFetchAtomic and PtlSwap, and the decoding of their words into send
// arguments (PtlTriggered* decode the same way, see eventcalls.ts).

import type { KPath } from '../step.ts';
import type { SyscallCtx } from '../syscalls/context.ts';
import type { SyscallName } from '../syscalls/table.ts';
import { copyin } from '../uaccess.ts';
import { PTL, TYPE_SIZE } from './defs.ts';
import { type SendArgs } from './initiator.ts';
import type { PortalsProcess, TargetId } from './state.ts';
import { type Handler, type Words, i32, num, readTyped, u32 } from './callargs.ts';

/** Decodes an operation's words into send arguments (PtlPut, PtlGet, PtlAtomic, PtlFetchAtomic, PtlSwap). */
export function* sendArgs(c: SyscallCtx, kind: 'put' | 'get' | 'atomic' | 'fetch' | 'swap', a: Words): KPath<SendArgs | null> {
  const proc = (w: bigint) => readTyped(c, num(w), 'process');
  let t: Words | null;
  const common = (md: number | null, getMd: number | null, putOff: number, getOff: number, length: number, ackReq: number, tw: Words, pt: bigint, match: bigint, roff: bigint, up: bigint, hdr: bigint, op: number, type: number, operand: Uint8Array): SendArgs => ({
    op: kind,
    putMd: md,
    putOffset: putOff,
    getMd,
    getOffset: getOff,
    length,
    ackReq,
    target: { nid: u32(tw[0]), pid: u32(tw[1]), rank: u32(tw[0]) } satisfies TargetId,
    ptIndex: u32(pt),
    matchBits: match,
    remoteOffset: num(roff),
    userPtr: up,
    hdrData: hdr,
    atomOp: op,
    atomType: type,
    operand,
  });
  const none = new Uint8Array(32);
  switch (kind) {
    case 'put':
      t = yield* proc(a[4]);
      return t && common(u32(a[0]), null, num(a[1]), 0, num(a[2]), i32(a[3]), t, a[5], a[6], a[7], a[8], a[9], 0, 0, none);
    case 'get':
      t = yield* proc(a[3]);
      return t && common(null, u32(a[0]), 0, num(a[1]), num(a[2]), 0, t, a[4], a[5], a[6], a[7], 0n, 0, 0, none);
    case 'atomic':
      t = yield* proc(a[4]);
      return t && common(u32(a[0]), null, num(a[1]), 0, num(a[2]), i32(a[3]), t, a[5], a[6], a[7], a[8], a[9], i32(a[10]), i32(a[11]), none);
    case 'fetch':
      t = yield* proc(a[5]);
      return t && common(u32(a[2]), u32(a[0]), num(a[3]), num(a[1]), num(a[4]), 0, t, a[6], a[7], a[8], a[9], a[10], i32(a[11]), i32(a[12]), none);
    case 'swap': {
      t = yield* proc(a[5]);
      const type = i32(a[13]);
      const size = TYPE_SIZE[type] ?? 0;
      let operand = none;
      if (num(a[11]) !== 0 && size > 0) {
        try {
          operand = new Uint8Array(32);
          operand.set(yield* copyin(c.k, c.cpu, c.p, num(a[11]), size));
        } catch {
          return null;
        }
      }
      return t && common(u32(a[2]), u32(a[0]), num(a[3]), num(a[1]), num(a[4]), 0, t, a[6], a[7], a[8], a[9], a[10], i32(a[12]), type, operand);
    }
  }
}

export const SEND_KIND = ['put', 'get', 'atomic', 'fetch', 'swap'] as const;
export const SEND_CALL = { put: 'ptl_put', get: 'ptl_get', atomic: 'ptl_atomic', fetch: 'ptl_fetch_atomic', swap: 'ptl_swap' } as const;

function* doSend(c: SyscallCtx, pp: PortalsProcess, kind: (typeof SEND_KIND)[number], a: Words): KPath<number> {
  const args = yield* sendArgs(c, kind, a);
  if (args === null) return PTL.ARG_INVALID;
  const r = c.k.portals.send(pp, args);
  if (r.work) yield* r.work;
  return r.rc;
}

export const SEND_CALLS: Partial<Record<SyscallName, Handler>> = {
  *ptl_put(c, pp, a) {
    return yield* doSend(c, pp, 'put', a);
  },
  *ptl_get(c, pp, a) {
    return yield* doSend(c, pp, 'get', a);
  },
  *ptl_atomic(c, pp, a) {
    return yield* doSend(c, pp, 'atomic', a);
  },
  *ptl_fetch_atomic(c, pp, a) {
    return yield* doSend(c, pp, 'fetch', a);
  },
  *ptl_swap(c, pp, a) {
    return yield* doSend(c, pp, 'swap', a);
  },
};
