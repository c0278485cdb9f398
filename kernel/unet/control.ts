// The kernel-to-kernel messages that open a U-Net channel to another node,
// carried by the NIC on the kernels' own tag (0): OPEN offers the
// requester's receive tag, ACCEPT answers with the peer's, REFUSE with an
// errno; CLOSE tells the peer that a channel's end (its receive tag) is gone,
// so the peer's NIC stops sending into it. Each names its sender's process
// incarnation (a serial its kernel gives every process that makes an
// endpoint, never reused on that node): pids are reused (every yod rank is
// pid 100), incarnations are not, so a later process cannot pass for the one
// that held a channel. Thirteen little-endian u32 words; anything else is
// ignored.

export const UNET_CTL = { OPEN: 1, ACCEPT: 2, REFUSE: 3, CLOSE: 4 } as const;

/** Names of the types, for the trace. */
export const UNET_CTL_NAMES = ['', 'OPEN', 'ACCEPT', 'REFUSE', 'CLOSE'] as const;

export interface UnetControlMsg {
  readonly type: number;
  /** The requester's id for the open, echoed in the answer. */
  readonly req: number;
  readonly srcPid: number;
  readonly srcUid: number;
  readonly srcEp: number;
  readonly srcChan: number;
  readonly dstPid: number;
  readonly dstEp: number;
  readonly dstChan: number;
  /** The requester's (or CLOSE: the closer's) process incarnation on its node. */
  readonly srcSerial: number;
  /** ACCEPT: the accepting process's incarnation (0 in OPEN and CLOSE: not known or not needed). */
  readonly dstSerial: number;
  /** OPEN: the requester's receive tag; ACCEPT: the peer's; CLOSE: the closer's (the tag the peer sends with). */
  readonly tag: number;
  readonly errno: number;
}

const FIELDS = ['type', 'req', 'srcPid', 'srcUid', 'srcEp', 'srcChan', 'dstPid', 'dstEp', 'dstChan', 'srcSerial', 'dstSerial', 'tag', 'errno'] as const;

export function encodeControl(m: UnetControlMsg): Uint8Array {
  const b = new Uint8Array(FIELDS.length * 4);
  const dv = new DataView(b.buffer);
  FIELDS.forEach((f, i) => dv.setUint32(i * 4, m[f] >>> 0, true));
  return b;
}

export function decodeControl(b: Uint8Array): UnetControlMsg | null {
  if (b.length !== FIELDS.length * 4) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const m = Object.fromEntries(FIELDS.map((f, i) => [f, dv.getUint32(i * 4, true)])) as unknown as UnetControlMsg;
  return m.type >= UNET_CTL.OPEN && m.type <= UNET_CTL.CLOSE ? m : null;
}
