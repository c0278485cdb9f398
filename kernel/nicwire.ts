// What Portals and the kernel's own messages (job control) share on the
// node's NIC, so that neither needs the other: every header's size, the
// kind in word 0 that tells them apart, and the transmit-cookie ranges that
// say whose a completed transmit was. kernel/nicdispatch.ts routes by these.

/** Every header on the wire is this many bytes (23 little-endian 64-bit words). */
export const NIC_HEADER_BYTES = 23 * 8;

/** Word 0 of a kernel message; Portals kinds are 1..7. */
export const KERNEL_MESSAGE_KIND = 8;

/**
 * Transmit cookies: Portals operation ids count up from 1, Portals messages
 * the kernel sends holding memory from 2^39, kernel messages from 2^40.
 */
export const COOKIE_BASE = { portalsHold: 2 ** 39, kernelMessage: 2 ** 40 } as const;

/** The two users of the NIC. */
export type NicUser = 'portals' | 'jobctl';

/** Whose message a received header is, by the kind in its word 0. */
export function headerOwner(header: Uint8Array): NicUser {
  const kernel = header.length >= 8 && new DataView(header.buffer, header.byteOffset, 8).getBigInt64(0, true) === BigInt(KERNEL_MESSAGE_KIND);
  return kernel ? 'jobctl' : 'portals';
}

/** Whose transmit a completion's cookie belongs to. */
export function cookieOwner(cookie: number): NicUser {
  return cookie >= COOKIE_BASE.kernelMessage ? 'jobctl' : 'portals';
}
