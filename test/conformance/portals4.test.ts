import { readFileSync } from 'node:fs';
import { describe, expect } from 'vitest';
import { runPortalsSuite } from '../../monitor/conformance/portals4.ts';
import { itWithSuite } from './suites.ts';

// The pass count may only rise: raise the floor when more scripts pass.
const FLOORS = JSON.parse(readFileSync('test/conformance/floors.json', 'utf8')) as Record<string, number>;

describe('the Portals 4 reference test scripts', () => {
  itWithSuite('portals4', 'pass at least the floor, running every script in ACTIVE.txt', (dir) => {
    const s = runPortalsSuite(dir);
    const failures = s.scripts.filter((x) => x.status !== 'passed').map((x) => `${x.name}: ${x.status} ${x.reason}`);
    expect(s.total).toBe(980);
    expect(s.passed, failures.join('\n')).toBeGreaterThanOrEqual(FLOORS.portals4);
  });
});
