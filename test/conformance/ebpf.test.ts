import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { runEbpfSuite } from '../../monitor/conformance/ebpf.ts';
import { itWithSuite } from './suites.ts';

// The pass counts may only rise: raise the floor when more scripts pass.
const FLOORS = JSON.parse(readFileSync('test/conformance/floors.json', 'utf8')) as Record<string, number>;

describe('the BPF conformance suite', () => {
  for (const engine of ['interp', 'jit'] as const) {
    itWithSuite('ebpf', `passes at least the floor with the ${engine} engine`, (dir) => {
      const s = runEbpfSuite(dir, engine);
      const failures = s.scripts.filter((x) => x.status !== 'passed').map((x) => `${x.name}: ${x.reason}`);
      expect(s.total).toBe(313);
      expect(s.passed, failures.join('\n')).toBeGreaterThanOrEqual(FLOORS[`ebpf_${engine}`]);
    });
  }
});
