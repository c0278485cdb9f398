// One source of truth per table, read from the sources: each table (syscall
// flags, error numbers, interrupt vectors, the user address limit, trace
// paths) is written in one file; every other file that needs it imports it,
// and the generated files (userland/lib/abi.gen.ts, docs) carry what the
// table says. A second copy of a value anywhere fails here.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USER_VA_LIMIT } from '../../hw/mmu.ts';
import { ERRNO } from '../../kernel/errno.ts';
import { TRACE_PATHS } from '../../kernel/tracepaths.ts';
import { FLAG_GROUPS, FLAGS, SYSCALLS } from '../../kernel/syscalls/table.ts';
import { VECTORS } from '../../kernel/vectors.ts';
import * as userAbi from '../../userland/lib/abi.gen.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CODE_DIRS = ['hw', 'kernel', 'userland', 'monitor', 'bench', 'examples'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|js)$/.test(name)) out.push(rel);
  }
  return out;
}

const FILES = CODE_DIRS.flatMap(sources).map((file) => ({ file, text: readFileSync(join(ROOT, file), 'utf8') }));

/** Files other than `owners` that give one of `names` a number (`NAME = 1`, `NAME: 0x10`). */
function restated(names: readonly string[], owners: readonly string[]): string[] {
  const re = new RegExp(`\\b(${names.join('|')})\\s*[:=]\\s*-?(0x[0-9a-f_]+|\\d[\\d_]*)`, 'gi');
  return FILES.filter((f) => !owners.includes(f.file)).flatMap((f) => [...f.text.matchAll(re)].map((m) => `${f.file}: ${m[0]}`));
}

describe('one source per table', () => {
  it('reads the sources it checks (the scanner itself works)', () => {
    expect(FILES.length).toBeGreaterThan(100);
    expect(restated(['PROT_READ'], [])).toContain('kernel/syscalls/table.ts: PROT_READ: 1');
  });

  it('syscall flags live in the syscall table, and abi.gen.ts carries every one', () => {
    const user = userAbi as unknown as Record<string, unknown>;
    for (const [name, value] of Object.entries(FLAGS)) expect(user[name], name).toBe(value);
    expect(restated(Object.keys(FLAGS), ['kernel/syscalls/table.ts', 'userland/lib/abi.gen.ts'])).toEqual([]);
  });

  it('every flag belongs to a group a call reads, and every group a call names has flags', () => {
    const named = new Set(SYSCALLS.flatMap((s) => ('flags' in s ? [...s.flags] : [])));
    for (const name of Object.keys(FLAGS)) expect(FLAG_GROUPS.some((g) => name.startsWith(`${g}_`) && named.has(g)), name).toBe(true);
    for (const g of named) expect(Object.keys(FLAGS).some((n) => n.startsWith(`${g}_`)), g).toBe(true);
  });

  it('error numbers live in kernel/errno.ts, and abi.gen.ts carries them', () => {
    expect(userAbi.ERRNO).toEqual(ERRNO);
    expect(restated(Object.keys(ERRNO), ['kernel/errno.ts', 'userland/lib/abi.gen.ts'])).toEqual([]);
  });

  it('interrupt vectors live in kernel/vectors.ts and are used by name elsewhere', () => {
    const numbers = VECTORS.map((v) => v.vector);
    const raw = new RegExp(`\\b(vector|VECTOR)\\w*\\s*(===|!==|=|:)\\s*(${numbers.map((n) => `0x${n.toString(16)}|${n}`).join('|')})\\b`, 'g');
    const bad = FILES.filter((f) => f.file !== 'kernel/vectors.ts').flatMap((f) => [...f.text.matchAll(raw)].map((m) => `${f.file}: ${m[0]}`));
    expect(bad).toEqual([]);
  });

  it('the user address limit is written once (hw/mmu.ts) and imported everywhere else', () => {
    expect(USER_VA_LIMIT).toBe(2 ** 47);
    const forms = /2n?\s*\*\*\s*47n?\b|\b1n?\s*<<\s*47n?\b|0x8000_0000_0000n?\b|0x800000000000n?\b|0x7fff_ffff_ffffn?\b|0x7fffffffffffn?\b/g;
    const bad = FILES.filter((f) => f.file !== 'hw/mmu.ts').flatMap((f) => [...f.text.matchAll(forms)].map((m) => `${f.file}: ${m[0]}`));
    expect(bad).toEqual([]);
  });

  it('every trace path a kernel file names is in the union, and every path in the union is taken', () => {
    const literal = /\b(?:step|traceStep|record)\((?:[^,()']+,\s*)?'([a-z_-]+)'|\bpath: '([a-z_-]+)'/g;
    const used = new Set(FILES.filter((f) => f.file.startsWith('kernel/')).flatMap((f) => [...f.text.matchAll(literal)].map((m) => m[1] ?? m[2])));
    expect([...used].filter((p) => !(p in TRACE_PATHS))).toEqual([]);
    expect(Object.keys(TRACE_PATHS).filter((p) => !used.has(p))).toEqual([]);
  });

  it("the docs' list of trace paths is generated from the union", () => {
    const doc = readFileSync(join(ROOT, 'docs/MONITOR.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Trace paths'));
    const listed = [...section.matchAll(/^\| `([a-z_-]+)` \|/gm)].map((m) => m[1]);
    expect(listed).toEqual(Object.keys(TRACE_PATHS));
  });
});
