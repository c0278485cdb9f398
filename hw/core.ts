// A core: the x86-64 register file (64-bit values as BigInts in a
// BigUint64Array), its mode (user, kernel, idle), the interrupt flag, the
// time until which it is busy, its TLB and its local APIC. Time spent in each
// mode is accumulated for the monitor and reports.

import type { LocalApic } from './apic.ts';
import type { Tlb } from './tlb.ts';

export const REGISTERS = [
  'rax', 'rbx', 'rcx', 'rdx', 'rsi', 'rdi', 'rbp', 'rsp',
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15',
  'rip', 'rflags', 'cr3',
] as const;

export type Register = (typeof REGISTERS)[number];

const REG_INDEX: Readonly<Record<Register, number>> = Object.fromEntries(REGISTERS.map((r, i) => [r, i])) as Record<Register, number>;

export type CoreMode = 'user' | 'kernel' | 'idle';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** rflags.IF */
const RFLAGS_IF = 1n << 9n;
/** On a little-endian host a register's low 32 bits are 32-bit word 2*index of the register file. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const RFLAGS_LO = 2 * REG_INDEX.rflags;
const RIP_LO = 2 * REG_INDEX.rip;

export class Core {
  readonly regs = new BigUint64Array(REGISTERS.length);
  mode: CoreMode = 'idle';
  /** The core accepts maskable interrupts only when this is set (rflags.IF). */
  interruptsEnabled = false;
  /** Simulated time until which the core is executing its current step. */
  busyUntil = 0;
  /** Address-space id currently loaded (the PCID half of cr3). */
  asid = 0;
  // Time in each mode so far, as plain fields: setMode runs on almost every event.
  private userPs = 0;
  private kernelPs = 0;
  private idlePs = 0;
  private modeSince = 0;
  /** The register file as 32-bit words (made at the first user operation): rip and rflags change on every one, and a BigInt each time was garbage. */
  private words: Uint32Array | null = null;

  constructor(
    readonly node: number,
    readonly index: number,
    readonly tlb: Tlb,
    readonly apic: LocalApic,
  ) {
    this.regs[REG_INDEX.rflags] = 2n;
  }

  get(r: Register): bigint {
    return this.regs[REG_INDEX[r]];
  }

  set(r: Register, v: bigint | number): void {
    // A BigUint64Array element takes the value modulo 2^64 itself (BigInt.asUintN's result).
    this.regs[REG_INDEX[r]] = typeof v === 'number' ? BigInt(v) : v;
  }

  /** Register as a JS number if it fits in 53 bits, else NaN (used for pointers and small args). */
  getNumber(r: Register): number {
    const v = this.regs[REG_INDEX[r]];
    return v <= MAX_SAFE ? Number(v) : NaN;
  }

  /** Changes mode at time `now`, charging the elapsed time to the previous mode. */
  setMode(mode: CoreMode, now: number): void {
    const spent = now - this.modeSince;
    if (this.mode === 'user') this.userPs += spent;
    else if (this.mode === 'kernel') this.kernelPs += spent;
    else this.idlePs += spent;
    this.modeSince = now;
    this.mode = mode;
  }

  setInterruptsEnabled(on: boolean): void {
    this.interruptsEnabled = on;
    if (LITTLE_ENDIAN) {
      const w = (this.words ??= new Uint32Array(this.regs.buffer));
      w[RFLAGS_LO] = on ? w[RFLAGS_LO] | 0x200 : w[RFLAGS_LO] & ~0x200;
      return;
    }
    const f = this.get('rflags');
    this.set('rflags', on ? f | RFLAGS_IF : f & ~RFLAGS_IF);
  }

  /** dst = src, without a BigInt in between (the syscall instruction's saves). */
  copy(dst: Register, src: Register): void {
    const d = REG_INDEX[dst];
    const s = REG_INDEX[src];
    if (LITTLE_ENDIAN) {
      const w = (this.words ??= new Uint32Array(this.regs.buffer));
      w[2 * d] = w[2 * s];
      w[2 * d + 1] = w[2 * s + 1];
      return;
    }
    this.regs[d] = this.regs[s];
  }

  /** rip += bytes (modulo 2^64), as the core steps past an instruction. */
  advanceRip(bytes: number): void {
    if (LITTLE_ENDIAN && bytes >= 0 && bytes < 2 ** 31) {
      const w = (this.words ??= new Uint32Array(this.regs.buffer));
      const lo = w[RIP_LO] + bytes;
      w[RIP_LO] = lo; // modulo 2^32
      if (lo > 0xffffffff) w[RIP_LO + 1] = w[RIP_LO + 1] + 1;
      return;
    }
    this.set('rip', BigInt.asUintN(64, this.get('rip') + BigInt(bytes)));
  }

  /** Time in each mode up to `now`, including the current stretch. */
  modeTimes(now: number): Record<CoreMode, number> {
    const t = { user: this.userPs, kernel: this.kernelPs, idle: this.idlePs };
    t[this.mode] += now - this.modeSince;
    return t;
  }

  /** A copy of every register, for status dumps. */
  snapshot(): Record<Register, bigint> {
    return Object.fromEntries(REGISTERS.map((r, i) => [r, this.regs[i]])) as Record<Register, bigint>;
  }
}
