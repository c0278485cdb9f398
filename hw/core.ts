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
    const f = this.get('rflags');
    this.set('rflags', on ? f | RFLAGS_IF : f & ~RFLAGS_IF);
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
