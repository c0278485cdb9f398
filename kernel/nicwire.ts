// What Portals and the kernel's own messages (job control, the DSM, distributed IPC) share on the
// node's NIC, so that neither needs the other: every header's size, the
// kind in word 0 that tells them apart, and the transmit-cookie ranges that
// say whose a completed transmit was. kernel/nicdispatch.ts routes by these.

/** Every header on the wire is this many bytes (23 little-endian 64-bit words). */
export const NIC_HEADER_BYTES = 23 * 8;

/** Word 0 of a kernel message; Portals kinds are 1..7. */
export const KERNEL_MESSAGE_KIND = 8;

/** Word 0 of a kernel DSM message (kernel/dsm/wire.ts). */
export const DSM_MESSAGE_KIND = 9;

/** Word 0 of a distributed-IPC transport message (kernel/ipc/wire.ts). */
export const IPC_MESSAGE_KIND = 10;

/**
 * Transmit cookies: Portals operation ids count up from 1, Portals messages
 * the kernel sends holding memory from 2^39, kernel messages from 2^40,
 * kernel DSM messages from 2^44, distributed-IPC transport messages from 2^46.
 */
export const COOKIE_BASE = { portalsHold: 2 ** 39, kernelMessage: 2 ** 40, dsm: 2 ** 44, ipc: 2 ** 46 } as const;

/** The users of the NIC. */
export type NicUser = 'portals' | 'jobctl' | 'dsm' | 'ipc';

/** Whose message a received header is, by the kind in its word 0. */
export function headerOwner(header: Uint8Array): NicUser {
  const kind = header.length >= 8 ? new DataView(header.buffer, header.byteOffset, 8).getBigInt64(0, true) : 0n;
  return kind === BigInt(KERNEL_MESSAGE_KIND) ? 'jobctl' : kind === BigInt(DSM_MESSAGE_KIND) ? 'dsm' : kind === BigInt(IPC_MESSAGE_KIND) ? 'ipc' : 'portals';
}

/** Whose transmit a completion's cookie belongs to. */
export function cookieOwner(cookie: number): NicUser {
  return cookie >= COOKIE_BASE.ipc ? 'ipc' : cookie >= COOKIE_BASE.dsm ? 'dsm' : cookie >= COOKIE_BASE.kernelMessage ? 'jobctl' : 'portals';
}
