// The Active Message header (von Eicken et al., ISCA 1992): every message
// names the handler that consumes it by its index in the SPMD handler table,
// and carries up to AM_MAX_ARGS word arguments. Bulk data (store, get
// replies) follows the header. Same bytes on every transport.

/**
 * What a message is: a request (may be replied to once), a reply, a bulk
 * store, a get, the data a get returns, or the layer's answer to a get or
 * store the target refused (args: the refused kind, address, length).
 */
export const AM_KIND = { REQUEST: 0, REPLY: 1, STORE: 2, GET: 3, GET_REPLY: 4, REFUSED: 5 } as const;
export type AmKind = (typeof AM_KIND)[keyof typeof AM_KIND];

export const AM_MAX_ARGS = 4;
/** kind u8, nargs u8, handler u16, source rank u32, data length u32, pad u32, then AM_MAX_ARGS signed 64-bit words. */
export const AM_HEADER_BYTES = 16 + 8 * AM_MAX_ARGS;

export interface AmHeader {
  readonly kind: AmKind;
  readonly handler: number;
  readonly src: number;
  readonly dataLen: number;
  readonly args: readonly number[];
}

export function encodeHeader(h: AmHeader): Uint8Array {
  const b = new Uint8Array(AM_HEADER_BYTES);
  const dv = new DataView(b.buffer);
  dv.setUint8(0, h.kind);
  dv.setUint8(1, h.args.length);
  dv.setUint16(2, h.handler, true);
  dv.setUint32(4, h.src, true);
  dv.setUint32(8, h.dataLen, true);
  h.args.forEach((a, i) => dv.setBigInt64(16 + 8 * i, BigInt(a), true));
  return b;
}

/** The header in `b`, or a reason why these bytes are not one. */
export function decodeHeader(b: Uint8Array): AmHeader | string {
  if (b.length < AM_HEADER_BYTES) return `${b.length} bytes is shorter than a header (${AM_HEADER_BYTES})`;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const kind = dv.getUint8(0);
  const nargs = dv.getUint8(1);
  if (kind > AM_KIND.REFUSED) return `unknown message kind ${kind}`;
  if (nargs > AM_MAX_ARGS) return `${nargs} arguments (at most ${AM_MAX_ARGS})`;
  const args: number[] = [];
  for (let i = 0; i < nargs; i++) args.push(Number(dv.getBigInt64(16 + 8 * i, true)));
  return { kind: kind as AmKind, handler: dv.getUint16(2, true), src: dv.getUint32(4, true), dataLen: dv.getUint32(8, true), args };
}
