import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { getProfile, withOverrides } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { APPS } from '../../userland/apps/index.ts';
import { attachExtension, extensionStats } from '../../userland/lib/ext.ts';
import { PTL, Portals } from '../../userland/lib/portals.ts';
import { type Env, program } from '../../userland/lib/runtime.ts';

function machine(nodes: number, cores = 1) {
  const profile = withOverrides(getProfile('redstorm'), { 'cpu.cores': cores }, 'test');
  return new System({ profile, shape: { kind: 'mesh', dims: [nodes] }, seed: 1 });
}

function* entry(env: Env) {
  const P = new Portals(env.cpu, env.mem);
  yield* P.PtlInit();
  const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
  const { eq } = yield* P.PtlEQAlloc(ni, 64);
  yield* P.PtlPTAlloc(ni, 0, eq, 0);
  const buf = yield* env.mem.alloc(256);
  const le = yield* P.PtlLEAppend(ni, 0, { start: buf, length: 256, options: PTL.ME_OP_PUT | PTL.ME_EVENT_LINK_DISABLE }, PTL.PRIORITY_LIST, 0);
  return { P, ni, eq, buf, le: le.handle };
}

function attachOnly(code: string | Uint8Array, format: 'asm' | 'bytecode' | 'elf', extra: { section?: string; regionLen?: number } = {}) {
  const sys = machine(1);
  let result: Awaited<ReturnType<typeof attachExtension>> extends infer R ? R : never = null as never;
  sys.launchDirect(
    program('attach', function* (env) {
      const { le } = yield* entry(env);
      const region = yield* env.mem.alloc(64);
      result = (yield* attachExtension(env, { code, format, entry: le, region, regionLen: extra.regionLen ?? 64, payloadMax: 8, section: extra.section })) as never;
    }),
    [0],
    [],
  );
  sys.run({ until: 1e12 });
  return result as unknown as { ok: boolean; id?: number; errno?: number; reason?: string };
}

describe('loading extension handlers', () => {
  it('refuses hostile bytecode with the verifier\'s reason, returned to the loading process', () => {
    const r = attachOnly('ldxdw %r0, [%r3+64]\nexit', 'asm');
    expect(r).toMatchObject({ ok: false, errno: 22 });
    expect(r.reason).toMatch(/^rejected: instruction 0: 8-byte read at granted\+64 is outside granted \(0\.\.64\)/);
    expect(attachOnly('stxdw [%r1+0], %r2\nmov %r0, 0\nexit', 'asm').reason).toMatch(/write to read-only message/);
    expect(attachOnly('call 9\nexit', 'asm').reason).toMatch(/helper 9 is not allowed for the portals-rx hook/);
    expect(attachOnly(new Uint8Array([1, 2, 3]), 'bytecode').reason).toMatch(/not a multiple of 8 bytes/);
    expect(attachOnly('frob %r1', 'asm').reason).toMatch(/^assembler: line 1/);
  });

  it('accepts a handler compiled by clang -target bpf from an ELF object', () => {
    const r = attachOnly(new Uint8Array(readFileSync('test/fixtures/handler.o')), 'elf', { section: 'margay/sum' });
    expect(r).toMatchObject({ ok: true });
  });
});

describe('an extension on a match entry', () => {
  it('runs in the receive interrupt, before any process, sees the payload, updates its region and can drop', () => {
    const sys = machine(2);
    sys.trace.enabled = true;
    const seen: number[] = [];
    // The handler adds every message's first word into region[0] and drops odd values.
    const target = program('target', function* (env) {
      const { P, eq, le } = yield* entry(env);
      const region = yield* env.mem.alloc(64);
      const r = yield* attachExtension(env, {
        code: 'mov %r6, %r1\nldxdw %r2, [%r6+64]\nmov %r1, %r3\ncall 4\nldxdw %r0, [%r6+64]\nand %r0, 1\nexit',
        format: 'asm',
        entry: le,
        region,
        regionLen: 64,
        payloadMax: 8,
      });
      if (!r.ok) throw new Error(r.reason);
      yield* env.compute(24_000_000);
      seen.push(Number(yield* env.mem.loadU64(region)));
      let events = 0;
      while ((yield* P.PtlEQGet(eq)).rc === PTL.OK) events++;
      seen.push(events);
      const s = yield* extensionStats(env, r.id);
      seen.push(s.runs, s.drops);
    });
    const sender = program('sender', function* (env) {
      const P = new Portals(env.cpu, env.mem);
      yield* P.PtlInit();
      const { ni } = yield* P.PtlNIInit(PTL.IFACE_DEFAULT, PTL.NI_NO_MATCHING | PTL.NI_PHYSICAL, PTL.PID_ANY, null);
      const src = yield* env.mem.alloc(8);
      const { md } = yield* P.PtlMDBind(ni, { start: src, length: 8 });
      yield* env.sys.nanosleep(1_000_000);
      for (const v of [2, 3, 10]) {
        yield* env.mem.storeU64(src, BigInt(v));
        yield* P.PtlPut(md, 0, 8, PTL.NO_ACK_REQ, { nid: 1, pid: 1 }, 0, 0n, 0, 0, 0);
        yield* env.sys.nanosleep(100_000);
      }
    });
    sys.kernel(1).spawn(target, { rank: 0, jobSize: 1, uid: 1, argv: ['t'], envp: [] });
    sys.kernel(0).spawn(sender, { rank: 0, jobSize: 1, uid: 1, argv: ['s'], envp: [] });
    sys.run({ until: 1e12 });
    // 2 + 3 + 10 added; the odd one (3) dropped, so two PUT events; three runs, one drop.
    expect(seen).toEqual([15, 2, 3, 1]);
    const runs = sys.trace.last().filter((r) => r.node === 1 && r.path === 'ext' && r.step === 'run');
    expect(runs).toHaveLength(3);
    // Each run happened inside an interrupt, while the target process was mid-computation.
    for (const run of runs) {
      const before = sys.trace.last().filter((r) => r.node === 1 && r.t <= run.t && r.path === 'irq' && r.step === 'entry').pop()!;
      expect(before.detail).toBe('nic-completion');
    }
  });

  it('steps instruction by instruction when stepping is on', () => {
    const sys = machine(2);
    sys.trace.enabled = true;
    const job = sys.launchDirect(APPS.steal, [0, 1], ['ext']);
    // Turn stepping on for every extension as soon as one is attached.
    sys.addBreakpoint({ pattern: 'ext/attach' });
    sys.run({ done: () => sys.jobDone(job), until: 1e12 });
    for (const ext of sys.kernel(1).portals.extensions.values()) ext.stepping = true;
    sys.breakpoints.clear();
    sys.run({ done: () => sys.jobDone(job), until: 1e12 });
    const insns = sys.trace.last().filter((r) => r.path === 'ext' && r.step === 'insn');
    expect(insns.length).toBeGreaterThan(5);
    expect(insns[0].detail).toMatch(/^ext \d+ 0: mov %r7, %r3/);
  });
});

describe('the seed\'s comparison', () => {
  it('finishes a broadcast on busy nodes fastest with the extension, then the interrupt handler, then polling', () => {
    const lat = (mode: string) => {
      const sys = machine(7);
      const job = sys.launchDirect(APPS.bcast, [0, 1, 2, 3, 4, 5, 6], [mode]);
      sys.run({ done: () => sys.jobDone(job), until: 1e12 });
      return Math.max(...job.ranks.map((r) => r.process!.results.get('latency_ns')!));
    };
    const [poll, irq, ext] = ['poll', 'irq', 'ext'].map(lat);
    expect(ext).toBeLessThan(irq);
    expect(irq).toBeLessThan(poll / 10);
  });

  it('computes the user-defined reduction correctly in every mode', () => {
    for (const mode of ['poll', 'irq', 'ext']) {
      const sys = machine(6);
      const job = sys.launchDirect(APPS.allsum, [0, 1, 2, 3, 4, 5], [mode]);
      sys.run({ done: () => sys.jobDone(job), until: 1e12 });
      expect(job.ranks[0].process!.results.get('result_ok'), mode).toBe(1);
    }
  });
});
