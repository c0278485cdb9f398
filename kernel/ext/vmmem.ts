// The memory an extension can reach: a few regions (its stack, the message
// or context, regions a hook grants), each a byte array. A pointer is a
// 64-bit value whose high word is the region's id and low word the offset,
// so no host address ever reaches a program and every access names its
// region.

export const STACK_FRAME = 512;
export const MAX_CALL_DEPTH = 8;
export const STACK_BYTES = STACK_FRAME * MAX_CALL_DEPTH;
/** Region ids: 1 is always the stack. */
export const STACK_REGION = 1;

export interface Region {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly dv: DataView;
  readonly writable: boolean;
}

export class VmFault extends Error {
  constructor(
    readonly pc: number,
    message: string,
  ) {
    super(`instruction ${pc}: ${message}`);
    this.name = 'VmFault';
  }
}

export class VmMemory {
  /** regions[id - 1] */
  readonly regions: Region[] = [];

  constructor() {
    this.add('stack', new Uint8Array(STACK_BYTES), true);
  }

  /** Adds a region and returns its id (the high word of pointers into it). */
  add(name: string, bytes: Uint8Array, writable: boolean): number {
    this.regions.push({ name, bytes, dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), writable });
    return this.regions.length;
  }

  get stack(): Uint8Array {
    return this.regions[0].bytes;
  }

  /** Checks an access and returns the region; throws VmFault (never a host RangeError). */
  region(hi: number, lo: number, size: number, write: boolean, pc: number): Region {
    const r = this.regions[hi - 1];
    const off = lo >>> 0;
    if (r === undefined) throw new VmFault(pc, `access to 0x${(hi >>> 0).toString(16)}${off.toString(16).padStart(8, '0')}, which is not in any region`);
    if (off + size > r.bytes.length) throw new VmFault(pc, `${size}-byte access at offset ${off} of ${r.name} (${r.bytes.length} bytes)`);
    if (write && !r.writable) throw new VmFault(pc, `write to read-only ${r.name}`);
    return r;
  }
}
