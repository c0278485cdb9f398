// An outside attacker's finding: a tiny call tree (each function calling the
// next k times, 7 levels deep) made the verifier analyse the deepest function
// k^7 times, cloning 4 KiB of stack flags at every step; one ext_attach of a
// 243-instruction program held the host for minutes and was charged almost
// nothing. The verifier now refuses a function reached through too many call
// chains, caps its steps, and the kernel charges the caller per step.
import { describe, expect, it } from 'vitest';
import { decode, encode, type Insn } from '../../kernel/ext/isa.ts';
import { MAX_CONTEXTS, MAX_STEPS, VerifyError, verify } from '../../kernel/ext/verifier.ts';
import { portalsRxHook } from '../../kernel/portals/extension.ts';
import { attachExtension } from '../../userland/lib/ext.ts';
import { PTL, machine, openPortals, spawn } from '../security/attack.ts';

const mov = (dst: number, imm: number): Insn => ({ op: 0xb7, dst, src: 0, off: 0, imm });
const EXIT: Insn = { op: 0x95, dst: 0, src: 0, off: 0, imm: 0 };
const CALL: Insn = { op: 0x85, dst: 0, src: 1, off: 0, imm: 0 };

type Leaf = 'movs' | 'loop' | 'stack';

/** Functions 0..depth; each calls the next k times; the last is a leaf of `body` instructions. */
function callTree(k: number, depth: number, body: number, leaf: Leaf = 'movs'): Uint8Array {
  const fns: Insn[][] = [];
  const starts: number[] = [];
  let at = 0;
  for (let i = 0; i <= depth; i++) {
    let f: Insn[];
    if (i < depth) f = [...Array.from({ length: k }, () => CALL), mov(0, 0), EXIT];
    else if (leaf === 'loop')
      // A counted loop: r2 from 0 to 1000, the body adds to r0.
      f = [mov(0, 0), mov(2, 0), ...Array.from({ length: body }, () => ({ op: 0x07, dst: 0, src: 0, off: 0, imm: 1 })), { op: 0x07, dst: 2, src: 0, off: 0, imm: 1 }, { op: 0xa5, dst: 2, src: 0, off: -(body + 2), imm: 1000 }, EXIT];
    else if (leaf === 'stack') f = [...Array.from({ length: body }, (_, j) => ({ op: 0x7a, dst: 10, src: 0, off: -8 * (1 + (j % 64)), imm: j })), mov(0, 1), EXIT];
    else f = [...Array.from({ length: body }, () => mov(0, 1)), EXIT];
    starts.push(at);
    fns.push(f);
    at += f.length;
  }
  const all: Insn[] = [];
  fns.forEach((f, i) => f.forEach((x, j) => all.push(x.op === 0x85 ? { ...x, imm: starts[i + 1] - (starts[i] + j + 1) } : x)));
  return encode(all);
}

/** The verifier's verdict and the steps it took, accepted or refused. */
function verdict(code: Uint8Array): { ok: boolean; steps: number; reason: string } {
  try {
    return { ok: true, steps: verify(decode(code), portalsRxHook(8, 0)).steps, reason: '' };
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e;
    return { ok: false, steps: e.steps, reason: e.message };
  }
}

describe('the verifier on call trees built to multiply its work', () => {
  const cases: [string, Uint8Array][] = [
    ['the attacker\'s 86-instruction tree (k = 3)', callTree(3, 7, 50)],
    ['the attacker\'s 243-instruction tree (k = 4)', callTree(4, 7, 200)],
    ['a narrower tree (k = 2)', callTree(2, 7, 50)],
    ['a wide tree (k = 20)', callTree(20, 7, 10)],
    ['a tree whose leaf loops', callTree(4, 7, 20, 'loop')],
    ['a tree whose leaf writes its stack', callTree(4, 7, 200, 'stack')],
  ];
  for (const [name, code] of cases) {
    it(`refuses ${name} as too complex, naming the function, within a fixed step budget`, () => {
      const v = verdict(code);
      expect(v.ok).toBe(false);
      expect(v.reason).toMatch(new RegExp(`too complex to verify: the function at instruction \\d+ is reached through more than ${MAX_CONTEXTS} different chains of calls`));
      // Each call context costs at most a pass over the program: the refusal comes long before the step cap.
      expect(v.steps).toBeGreaterThan(0);
      expect(v.steps).toBeLessThanOrEqual(MAX_CONTEXTS * 4 * decode(code).length);
      expect(v.steps).toBeLessThan(MAX_STEPS);
    });
  }

  it('refuses a program that stays within the call-chain limit but not the step cap, at exactly the cap', () => {
    // 64 chains reach a 4000-instruction leaf: 256,000 steps of work, stopped at the cap.
    for (const leaf of ['movs', 'stack', 'loop'] as const) {
      const v = verdict(callTree(4, 3, 4000, leaf));
      expect(v.ok).toBe(false);
      expect(v.reason).toContain(`program too complex to verify (over ${MAX_STEPS} steps)`);
      expect(v.steps).toBe(MAX_STEPS + 1);
    }
  });

  it('accepts a shallow call tree, analysing each call context once', () => {
    // k = 2, 5 levels: the leaf is reached through 32 chains, within the limit.
    const v = verdict(callTree(2, 5, 10));
    expect(v).toMatchObject({ ok: true });
    const contexts = 2 ** 6 - 1; // 1 + 2 + ... + 32 analyses of the functions
    expect(v.steps).toBeLessThanOrEqual(contexts * 14);
  });

  it('accepts a function reached through exactly the limit of call chains, and refuses one more', () => {
    // 64 = 4^3: four calls per level, three levels, then 64 = 2^6.
    expect(verdict(callTree(4, 3, 5)).ok).toBe(true);
    expect(verdict(callTree(2, 6, 5)).ok).toBe(true);
    const over = verdict(callTree(2, 7, 5));
    expect(over.ok).toBe(false);
    expect(over.reason).toContain('reached through more than 64 different chains of calls');
  });
});

describe('ext_attach charges the caller for verification', () => {
  function attach(code: Uint8Array) {
    const sys = machine(1);
    sys.trace.enabled = true;
    let result: unknown;
    const p = spawn(sys, 0, 2, 'attacher', function* (env) {
      const { P, ni } = yield* openPortals(env);
      const le = yield* P.PtlLEAppend(ni, 0, { start: yield* env.mem.alloc(64), length: 64, options: PTL.ME_OP_PUT }, PTL.PRIORITY_LIST, 0);
      result = yield* attachExtension(env, { code, format: 'bytecode', entry: le.handle, payloadMax: 8 });
    });
    sys.run({ until: 1e12, done: () => !p.alive });
    const recs = sys.trace.last().filter((r) => r.path === 'ext' && (r.step === 'reject' || r.step === 'attach'));
    expect(recs).toHaveLength(1);
    const perStep = sys.kernel(0).profile.values['kernel.verifyStepCycles'];
    return { result, dur: recs[0].dur!, perStep, clockHz: sys.kernel(0).profile.values['cpu.clockHz'] };
  }

  it('refuses the attacker\'s program with EINVAL and a reason that names the function', () => {
    const { result } = attach(callTree(3, 7, 50));
    expect(result).toMatchObject({ ok: false, errno: 22 });
    expect((result as { reason: string }).reason).toMatch(/too complex to verify: the function at instruction \d+ is reached through more than 64/);
  });

  it('charges a refusal for every step the verifier took before refusing', () => {
    const cheap = callTree(2, 7, 1); // refused after few steps
    const dear = callTree(4, 7, 200); // refused after many
    const a = attach(cheap);
    const b = attach(dear);
    expect(a.result).toMatchObject({ ok: false });
    expect(b.result).toMatchObject({ ok: false });
    const extra = verdict(dear).steps - verdict(cheap).steps;
    expect(extra).toBeGreaterThan(1000);
    expect(a.perStep).toBeGreaterThan(0);
    // Same base cost; the difference is the extra steps at the profile's price (to within a picosecond of rounding).
    expect(Math.abs(b.dur - a.dur - (extra * a.perStep * 1e12) / a.clockHz)).toBeLessThan(2);
    expect(b.dur).toBeGreaterThan(a.dur);
  });

  it('charges an accepted program for every step at the profile\'s price', () => {
    const small = attach(callTree(2, 2, 1));
    const big = attach(callTree(2, 5, 40));
    expect(small.result).toMatchObject({ ok: true });
    expect(big.result).toMatchObject({ ok: true });
    const extra = verdict(callTree(2, 5, 40)).steps - verdict(callTree(2, 2, 1)).steps;
    expect(extra).toBeGreaterThan(100);
    expect(Math.abs(big.dur - small.dur - (extra * small.perStep * 1e12) / small.clockHz)).toBeLessThan(2);
  });
});
