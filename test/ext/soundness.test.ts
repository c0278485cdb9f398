// Issue 10, items 4, 5 and 7: an accepted program never faults at run time,
// and safe packet-parsing idioms are accepted.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../kernel/ext/asm.ts';
import { conformanceHook } from '../../kernel/ext/hooks.ts';
import { decode } from '../../kernel/ext/isa.ts';
import { VerifyError, verify } from '../../kernel/ext/verifier.ts';
import { hook, noMem, rejects } from './verify-helpers.ts';

const accepts = (src: string, h = hook) => verify(decode(assemble(src)), h);

// A loop of three iterations whose body makes a local call; r6 counts.
const loopWithCall = (after: string) => `mov %r6, 0
loop:
call local f
add %r6, 1
jlt %r6, 3, loop
${after}
f:
mov %r0, 0
exit`;

describe('after a loop that contains a local call, the verifier', () => {
  it('checks the code after the loop and refuses a read of an unset register there', () => {
    expect(rejects(loopWithCall('mov %r0, %r8\nexit'), noMem)).toEqual({ pc: 4, reason: 'reads r8, which is not initialised' });
  });
  it('refuses a load through a scalar there', () => {
    expect(rejects(loopWithCall('ldxdw %r0, [%r6]\nexit'), noMem).reason).toMatch(/through a scalar/);
  });
  it('refuses to return a stack pointer there when the hook forbids it', () => {
    expect(rejects(loopWithCall('mov %r0, %r10\nexit'), { ...noMem, pointerReturn: false }).reason).toMatch(/returns a pointer/);
  });
  it('accepts the loop when the code after it is sound', () => {
    expect(accepts(loopWithCall('mov %r0, %r6\nexit'), noMem).reachable).toBe(8);
  });
});

describe('range tracking', () => {
  it('does not trust a 32-bit right shift of a 64-bit range', () => {
    // r3 is in [0, 2^32]: its low 32 bits can be anything, so r3 >> 28 (32-bit) can reach 15.
    expect(rejects('mov %r0, 0\nldxdw %r3, [%r1]\nlddw %r4, 0x1ffffffff\nand %r3, %r4\nlddw %r5, 0x100000000\njgt %r3, %r5, out\nrsh32 %r3, 28\nadd %r1, %r3\nldxb %r0, [%r1+8]\nout:\nexit').reason).toMatch(/outside mem/);
  });
  it('does not trust a 32-bit division of a 64-bit range', () => {
    // r3 is in [2^32, 2^32 + 15]: its low 32 bits are 0..15, so r3 / 2^28 (32-bit) is 0, not 16.
    expect(rejects('ldxb %r3, [%r1]\nand %r3, 15\nlddw %r5, 0x100000000\nadd %r3, %r5\ndiv32 %r3, 0x10000000\nmov %r2, %r1\nadd %r2, %r3\nldxb %r0, [%r2-16]\nexit').reason).toMatch(/outside mem/);
  });
  it('does not let a carry past 2^32 move a pointer into another region', () => {
    // 2^50 added then 2^40 subtracted leaves the pointer far past its region, not back at 0.
    expect(rejects('lddw %r2, 0x4000000000000\nadd %r1, %r2\nlddw %r2, 0x10000000000\nsub %r1, %r2\nldxb %r0, [%r1]\nexit').reason).toMatch(/outside mem/);
  });
  it('does not count a variable-offset stack write as initialising every byte it might hit', () => {
    expect(rejects('ldxb %r3, [%r1]\nand %r3, 7\nmov %r2, %r10\nsub %r2, 16\nadd %r2, %r3\nstb [%r2], 1\nldxdw %r0, [%r10-16]\nexit').reason).toMatch(/never written/);
  });
});

describe('termination', () => {
  it('refuses a loop with no way out, naming an instruction in it', () => {
    expect(rejects('mov %r0, 0\nloop:\nadd %r0, 1\nja loop', noMem)).toMatchObject({ pc: 1, reason: expect.stringMatching(/no way out/) });
  });
  it('refuses a loop whose only way out is a branch that can never be taken', () => {
    expect(rejects('mov %r0, 0\nloop:\nmov %r1, 5\njeq %r1, 6, out\nja loop\nout:\nexit', noMem)).toMatchObject({ pc: 1, reason: expect.stringMatching(/no way out/) });
  });
});

describe('precision for packet parsing', () => {
  it('accepts an index bounded by a mask and scaled by a shift', () => {
    const h = conformanceHook(64).hook;
    expect(() => accepts('ldxb %r2, [%r1]\nand %r2, 0xf\nlsh %r2, 2\nadd %r1, %r2\nldxw %r0, [%r1]\nexit', h)).not.toThrow();
  });
  it('accepts a header length taken from the high nibble with right and left shifts', () => {
    const h = conformanceHook(80).hook;
    expect(() => accepts('ldxb %r2, [%r1]\nrsh32 %r2, 4\nlsh32 %r2, 2\nadd %r1, %r2\nldxw %r0, [%r1+16]\nexit', h)).not.toThrow();
  });
  it('accepts an index from the top bits of a 64-bit word', () => {
    const h = conformanceHook(64).hook;
    expect(() => accepts('ldxdw %r2, [%r1]\nrsh %r2, 59\nadd %r1, %r2\nldxdw %r0, [%r1+8]\nexit', h)).not.toThrow();
  });
  it('still refuses the same index when the region is one byte too small', () => {
    const h = conformanceHook(63).hook;
    expect(rejects('ldxb %r2, [%r1]\nand %r2, 0xf\nlsh %r2, 2\nadd %r1, %r2\nldxw %r0, [%r1]\nexit', h).reason).toMatch(/outside mem/);
  });
});

describe('helpers that write memory', () => {
  it('make the verifier forget a pointer spilled where they write', () => {
    // atomic_add on the stack slot holding a spilled pointer moves that pointer.
    const h = { ...hook, helpers: [{ id: 4, name: 'atomic_add', args: [{ kind: 'mem' as const, write: true, bytes: 8 }, { kind: 'scalar' as const }] }] };
    const src = 'stxdw [%r10-8], %r1\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 4096\ncall 4\nldxdw %r6, [%r10-8]\nldxb %r0, [%r6]\nexit';
    expect(rejects(src, h).reason).toMatch(/memory access through a scalar/);
  });
});

describe('constant folding', () => {
  it('computes every ALU operation on constants exactly as the engines do', async () => {
    const fc = (await import('fast-check')).default;
    const { load } = await import('../../kernel/ext/loader.ts');
    const { VmMemory } = await import('../../kernel/ext/vmmem.ts');
    const ops = ['add', 'sub', 'mul', 'div', 'sdiv', 'mod', 'smod', 'or', 'and', 'xor', 'lsh', 'rsh', 'arsh', 'mov', 'movsx8', 'movsx16', 'movsx32'];
    const imm = fc.oneof(fc.constantFrom(0, 1, -1, 31, 32, 63, 64, 0x7fffffff, -0x80000000), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    const step = fc.oneof(
      fc.tuple(fc.constantFrom(...ops), fc.boolean(), fc.boolean(), imm).map(([op, w32, useReg, v]) => (op.startsWith('movsx') ? `${op}${w32 && op !== 'movsx32' ? '32' : '64'} %r0, %r2` : useReg ? `mov %r2, ${v}\n${op}${w32 ? '32' : ''} %r0, %r2` : `${op}${w32 ? '32' : ''} %r0, ${v}`)),
      fc.constantFrom('neg %r0', 'neg32 %r0', 'be16 %r0', 'be32 %r0', 'be64 %r0', 'le16 %r0', 'le32 %r0', 'bswap16 %r0', 'bswap32 %r0', 'bswap64 %r0'),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.array(step, { minLength: 1, maxLength: 6 }), (start, steps) => {
        const body = `lddw %r0, ${start}\nmov %r2, 7\n${steps.join('\n')}`;
        const out = load(assemble(`${body}\nexit`), noMem, new Map()).run('interp', new VmMemory(), [0n, 0n], 1000);
        expect(out.status.kind).toBe('exit');
        const r0 = (out.status as { r0: bigint }).r0;
        // If the verifier's constant differs from the engine's, the load through a number becomes reachable.
        const check = `${body}\nlddw %r3, ${BigInt.asIntN(64, r0)}\njne %r0, %r3, bad\nexit\nbad:\nldxb %r0, [%r0]\nexit`;
        expect(() => verify(decode(assemble(check)), noMem)).not.toThrow();
      }),
      { numRuns: 400, seed: 7 },
    );
  });
});

describe('range tracking, as a property', () => {
  it('never accepts an index computation that reaches outside the region, for any memory', async () => {
    const fc = (await import('fast-check')).default;
    const { load } = await import('../../kernel/ext/loader.ts');
    const { VmMemory } = await import('../../kernel/ext/vmmem.ts');
    const { Vm } = await import('../../kernel/ext/interp.ts');
    // A small region, so that any error in a range shows as an access outside it.
    const h = conformanceHook(16).hook;
    const ops = ['and', 'rsh', 'lsh', 'arsh', 'div', 'mod', 'add', 'sub', 'mul', 'or', 'xor', 'mov'];
    const k = fc.constantFrom(0, 1, 2, 3, 4, 7, 8, 15, 28, 31, 32, 33, 48, 56, 60, 63, 255, 0x10000000, -1, -16);
    const wideK = fc.constantFrom('0x1ffffffff', '0x100000000', '0xffffffff', '0x8000000000000000', '0x10000000000', '0xffffffffffffffc0');
    const step = fc.oneof(
      fc.tuple(fc.constantFrom(...ops), fc.boolean(), k).map(([op, w32, v]) => `${op}${w32 ? '32' : ''} %r3, ${v}`),
      fc.tuple(fc.constantFrom(...ops), fc.boolean(), wideK).map(([op, w32, v]) => `lddw %r4, ${v}\n${op}${w32 ? '32' : ''} %r3, %r4`),
      fc.tuple(fc.constantFrom('jgt', 'jge', 'jsgt', 'jsge', 'jgt32', 'jge32', 'jslt', 'jlt'), fc.integer({ min: -2, max: 20 })).map(([j, v]) => `${j} %r3, ${v}, out`),
      fc.tuple(fc.constantFrom('jgt', 'jge', 'jsgt', 'jlt'), wideK).map(([j, v]) => `lddw %r4, ${v}\n${j} %r3, %r4, out`),
      fc.constantFrom('neg %r3', 'be16 %r3', 'le32 %r3', 'bswap64 %r3', 'mov32 %r3, %r3', 'movsx832 %r3, %r3', 'movsx3264 %r3, %r3'),
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.constantFrom('b', 'h', 'w', 'dw', 'sb', 'sw'), fc.array(step, { minLength: 1, maxLength: 5 }), fc.constantFrom('add', 'sub'), fc.integer({ min: -8, max: 8 }), (bytes, sz, steps, dir, off) => {
        const src = `mov %r0, 0\nldx${sz} %r3, [%r1+8]\n${steps.join('\n')}\n${dir} %r1, %r3\nldxb %r0, [%r1${off < 0 ? off : `+${off}`}]\nout:\nexit`;
        let prog;
        try {
          prog = load(assemble(src), h, new Map());
        } catch (e) {
          if (e instanceof VerifyError) return;
          throw e;
        }
        accepted++;
        for (const engine of ['interp', 'jit'] as const) {
          const mem = new VmMemory();
          mem.add('mem', bytes.slice(), true);
          expect(prog.run(engine, mem, [Vm.pointer(2, 0), 16n], 1000).status.kind, src).toBe('exit');
        }
      }),
      { numRuns: 1500, seed: 11 },
    );
    expect(accepted).toBeGreaterThan(50);
  });
});
