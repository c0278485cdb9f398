import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runEbpfSuite } from '../../monitor/conformance/ebpf.ts';

// The pass counts may only rise: raise the floor when more scripts pass.
const FLOORS = JSON.parse(readFileSync('test/conformance/floors.json', 'utf8')) as Record<string, number>;
const SUITE = '../shared/conformance/ebpf';

describe('the BPF conformance suite', () => {
  for (const engine of ['interp', 'jit'] as const) {
    it(`passes at least the floor with the ${engine} engine`, () => {
      const s = runEbpfSuite(SUITE, engine);
      const failures = s.scripts.filter((x) => x.status !== 'passed').map((x) => `${x.name}: ${x.reason}`);
      expect(s.total).toBe(313);
      expect(s.passed, failures.join('\n')).toBeGreaterThanOrEqual(FLOORS[`ebpf_${engine}`]);
    });
  }
});
