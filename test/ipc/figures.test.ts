// docs/IPC.md publishes figures: they are what a fresh measurement gives
// (test/ipc/figures.ts), rounded as the document shows them.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { figureRows } from './figures.ts';

const doc = readFileSync('docs/IPC.md', 'utf8');
describe('docs/IPC.md', () => {
  it('gives the figures a fresh measurement on the Paragon profile gives', () => {
    for (const rows of Object.values(figureRows())) expect(doc).toContain(rows);
  }, 60_000);
});
