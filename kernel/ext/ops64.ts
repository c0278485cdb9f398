// 64-bit integer operations on (hi, lo) pairs of 32-bit words, shared by the
// interpreter and the compiled code. Additions, shifts and comparisons are
// written inline there; these are the longer ones. Results come back in
// RES[0] (high word) and RES[1] (low word), so nothing is allocated per call.

export const RES = new Int32Array(2);

function big(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

function set(v: bigint): void {
  RES[0] = Number(BigInt.asIntN(32, v >> 32n));
  RES[1] = Number(BigInt.asIntN(32, v));
}

/** Low 64 bits of a 64 x 64 product. */
export function mul64(ah: number, al: number, bh: number, bl: number): void {
  const a0 = al & 0xffff;
  const a1 = al >>> 16;
  const b0 = bl & 0xffff;
  const b1 = bl >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  RES[1] = ((mid & 0xffff) << 16) | (p00 & 0xffff);
  RES[0] = (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

/** Unsigned division; by zero gives 0 (RFC 9669). */
export function udiv64(ah: number, al: number, bh: number, bl: number): void {
  if (bh === 0 && bl === 0) {
    RES[0] = 0;
    RES[1] = 0;
    return;
  }
  if (ah === 0 && bh === 0) {
    RES[0] = 0;
    RES[1] = Math.floor((al >>> 0) / (bl >>> 0)) | 0;
    return;
  }
  set(big(ah, al) / big(bh, bl));
}

/** Unsigned modulo; by zero leaves the dividend (RFC 9669). */
export function umod64(ah: number, al: number, bh: number, bl: number): void {
  if (bh === 0 && bl === 0) {
    RES[0] = ah;
    RES[1] = al;
    return;
  }
  if (ah === 0 && bh === 0) {
    RES[0] = 0;
    RES[1] = ((al >>> 0) % (bl >>> 0)) | 0;
    return;
  }
  set(big(ah, al) % big(bh, bl));
}

/** Signed division, truncating; by zero gives 0; MIN / -1 wraps to MIN. */
export function sdiv64(ah: number, al: number, bh: number, bl: number): void {
  if (bh === 0 && bl === 0) {
    RES[0] = 0;
    RES[1] = 0;
    return;
  }
  set(BigInt.asIntN(64, BigInt.asIntN(64, big(ah, al)) / BigInt.asIntN(64, big(bh, bl))));
}

/** Signed modulo (sign of the dividend); by zero leaves the dividend. */
export function smod64(ah: number, al: number, bh: number, bl: number): void {
  if (bh === 0 && bl === 0) {
    RES[0] = ah;
    RES[1] = al;
    return;
  }
  set(BigInt.asIntN(64, big(ah, al)) % BigInt.asIntN(64, big(bh, bl)));
}

export function udiv32(a: number, b: number): number {
  return b === 0 ? 0 : Math.floor((a >>> 0) / (b >>> 0)) | 0;
}

export function umod32(a: number, b: number): number {
  return b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0;
}

export function sdiv32(a: number, b: number): number {
  if (b === 0) return 0;
  if (a === -2147483648 && b === -1) return a;
  return Math.trunc(a / b) | 0;
}

export function smod32(a: number, b: number): number {
  if (b === 0) return a;
  if (b === -1) return 0;
  return a % b | 0;
}

export function bswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

export function bswap32(x: number): number {
  return ((x & 0xff) << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | ((x >>> 24) & 0xff);
}
