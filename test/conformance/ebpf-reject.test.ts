import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runEbpfCase, runEbpfSuite } from '../../monitor/conformance/ebpf.ts';

const REJECT = 'test/conformance/ebpf-reject';

describe('the eBPF rejection suite', () => {
  for (const engine of ['interp', 'jit'] as const) {
    it(`refuses every bad program with a message naming the instruction (${engine})`, () => {
      const s = runEbpfSuite(REJECT, engine, { messages: 'exact' });
      const failures = s.scripts.filter((x) => x.status !== 'passed').map((x) => `${x.name}: ${x.reason}`);
      expect(failures).toEqual([]);
      expect(s.total).toBe(47);
      for (const x of s.scripts) expect(x.reason).toMatch(/^refused: instruction \d+: /);
    });
  }
});

describe('the eBPF test runner', () => {
  const ok = '-- asm\nmov %r0, 1\nexit\n-- result\n0x1\n';
  it('passes a refusal whose message equals "-- error" and fails one that differs', () => {
    const t = '-- asm\nmov %r0, %r3\nexit\n-- error\ninstruction 0: reads r3, which is not initialised\n';
    expect(runEbpfCase('a', t, 'interp', { messages: 'exact' }).status).toBe('passed');
    expect(runEbpfCase('a', t.replace('r3, which', 'r4, which'), 'interp', { messages: 'exact' })).toMatchObject({ status: 'failed', reason: expect.stringMatching(/expected 'instruction 0: reads r4/) });
  });
  it('matches "-- error pattern" as a regular expression', () => {
    const t = '-- asm\nja +4\nexit\n-- error pattern\n^instruction 0: jump to \\d+';
    expect(runEbpfCase('a', t, 'jit', { messages: 'exact' }).status).toBe('passed');
    expect(runEbpfCase('a', t.replace('jump to', 'leap to'), 'jit', { messages: 'exact' }).status).toBe('failed');
  });
  it('by default passes any refusal, since another runtime words its messages its own way', () => {
    const t = '-- asm\nmov %r0, 0\nldxdw %r0, [%r0+96]\nexit\n-- result\n0xffffffffffffffff\n-- error pattern\nsome runtime: out of bounds memory load\n';
    expect(runEbpfCase('a', t, 'interp')).toMatchObject({ status: 'passed', reason: expect.stringMatching(/^refused: instruction 1: memory access through a scalar/) });
  });
  it('fails a test that expects a refusal when the program is accepted', () => {
    expect(runEbpfCase('a', ok.replace('-- result\n0x1', '-- error\nnope'), 'interp')).toMatchObject({ status: 'failed', reason: 'accepted (r0 = 0x1), expected a refusal' });
  });
  it('runs a test marked for one engine on that engine only', () => {
    expect(runEbpfCase('a', `${ok}-- test_jit\nonly the compiled engine\n`, 'interp')).toMatchObject({ status: 'skipped', reason: 'applies to the jit engine only' });
    expect(runEbpfCase('a', `${ok}-- test_jit\n`, 'jit').status).toBe('passed');
    expect(runEbpfCase('a', `${ok}-- no jit\n`, 'jit').status).toBe('skipped');
    expect(runEbpfCase('a', `${ok}-- test_interpreter\n`, 'interp').status).toBe('passed');
  });
  it('reads memory given as hex in any grouping', () => {
    const t = (mem: string) => `-- asm\nldxw %r0, [%r1]\nexit\n-- mem\n${mem}\n-- result\n0x44332211\n`;
    for (const mem of ['11 22 33 44', '11223344', '0x11223344', '1122 3344']) expect(runEbpfCase('a', t(mem), 'interp').status, mem).toBe('passed');
    expect(runEbpfCase('a', t('11 zz'), 'interp')).toMatchObject({ status: 'failed', reason: "test file: memory 'zz' is not hex" });
  });
  it('reads a section from a file beside the test, memory possibly as a tcpdump -xx dump', () => {
    const root = mkdtempSync(join(tmpdir(), 'ebpf-inc-'));
    writeFileSync(join(root, 'prog.asm'), '# the first 16-bit word, big-endian\nldxh %r0, [%r1]\nbe16 %r0\nexit\n');
    writeFileSync(join(root, 'pkt.hex'), '0x0000:  0026 622f 4787 001d\n0x0008:  60b3 0184\n');
    writeFileSync(join(root, 'a.data'), '-- description\nfirst word\n-- asm @ prog.asm\n-- mem @ pkt.hex\n-- result\n0x26\n');
    writeFileSync(join(root, 'b.data'), '-- asm @ missing.asm\n-- result\n0x0\n');
    const s = runEbpfSuite(root, 'jit');
    expect(s.scripts).toEqual([
      { name: 'a.data', status: 'passed' },
      { name: 'b.data', status: 'failed', reason: "test file: cannot read missing.asm (named by '-- asm @ missing.asm')" },
    ]);
  });
  it('skips tests of another runtime\'s own tools and API with the reason', () => {
    expect(runEbpfCase('a', '-- pyelf\n-- result\n0x2a\n', 'interp')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/pyelf/) });
    expect(runEbpfCase('a', '-- asm\nmov %r0, 0\nexit\n-- reload\n-- error\nx\n', 'interp')).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/reload/) });
  });
  it('walks a directory tree, naming tests by their path under it', () => {
    const root = mkdtempSync(join(tmpdir(), 'ebpf-tree-'));
    mkdirSync(join(root, 'errors'));
    writeFileSync(join(root, 'one.data'), ok);
    writeFileSync(join(root, 'errors', 'err-two.data'), '-- asm\nmov %r10, 0\nexit\n-- error\nwhatever\n');
    writeFileSync(join(root, 'README.md'), 'not a test');
    const s = runEbpfSuite(root, 'interp');
    expect(s.scripts.map((x) => [x.name, x.status])).toEqual([['errors/err-two.data', 'passed'], ['one.data', 'passed']]);
  });
});
