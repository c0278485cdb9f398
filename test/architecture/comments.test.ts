// Every source file path a comment or a document names must exist: after a
// move, a comment that still names the old place sends a reader to nothing.
// Paths are read from comments in hw/ kernel/ system/ userland/ monitor/
// bench/ test/ and from docs/*.md and the top README (outside fenced code,
// where a name ending .md may be a property). A path is tried from the
// repository root, then beside the file that names it, then under any source
// folder (comments write `portals/match.ts` for kernel/portals/match.ts); a
// bare file name (a list under a folder's heading) must be some file's name.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SOURCE_DIRS = ['hw', 'kernel', 'system', 'userland', 'monitor', 'bench', 'test'];

/**
 * Paths that are not ours to check, kept short: the shared conformance suites
 * and seeds beside the checkout, and a user's own program in examples.
 */
const ALLOWED = [
  /^(\.\.\/)+shared\//, // the conformance suites and seed documents beside the checkout
  /^\/work\/shared\//,
  /^(\.\/)?(program|prog|myprog|halo|threads|am_hello|unet_hello)\.ts$/, // a user's own program, in examples of usage
];

function files(dir: string, ext: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...files(rel, ext));
    else if (name.endsWith(ext)) out.push(rel);
  }
  return out;
}

/** The text of every comment of a TypeScript file, with the line it starts on. */
function comments(file: string): { line: number; text: string }[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const scanner = ts.createScanner(ts.ScriptTarget.ES2022, false, ts.LanguageVariant.Standard, text);
  const out: { line: number; text: string }[] = [];
  let line = 1;
  let last = 0;
  for (let k = scanner.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = scanner.scan()) {
    if (k === ts.SyntaxKind.SingleLineCommentTrivia || k === ts.SyntaxKind.MultiLineCommentTrivia) {
      const start = scanner.getTokenStart();
      for (let i = last; i < start; i++) if (text.charCodeAt(i) === 10) line++;
      last = start;
      out.push({ line, text: scanner.getTokenText() });
    }
  }
  return out;
}

const PATH = /(?<![\w./-])((?:\.{1,2}\/)*(?:[\w-]+\/)*[\w.-]+\.(?:ts|md))(?![\w/])/g;

/** The paths a text names. */
function paths(text: string): string[] {
  // `.fuzz.ts` and `.test.ts` alone are suffixes, not paths.
  return [...text.matchAll(PATH)].map((m) => m[1]).filter((p) => !/^\.[\w-]+\.(ts|md)$/.test(p));
}

/** Every file name in the repository's own folders (docs list a folder's files by bare name). */
const NAMES = new Set([...SOURCE_DIRS, 'docs', 'bin'].flatMap((d) => files(d, '')).map((f) => f.split('/').pop()!));

function exists(named: string, from: string): boolean {
  if (ALLOWED.some((re) => re.test(named))) return true;
  const tries = [join(ROOT, named), resolve(ROOT, dirname(from), named), ...SOURCE_DIRS.map((d) => join(ROOT, d, named))];
  return tries.some((p) => existsSync(p)) || (!named.includes('/') && NAMES.has(named));
}

describe('comments and documents name files that exist', () => {
  it('finds the paths it checks (the reader itself works)', () => {
    expect(paths('see `kernel/portals/match.ts` and docs/ARCHITECTURE.md, not http://x/y.ts')).toEqual(['kernel/portals/match.ts', 'docs/ARCHITECTURE.md']);
    expect(comments('test/architecture/comments.test.ts').length).toBeGreaterThan(3);
    expect(exists('kernel/nosuchfile.ts', 'kernel/kernel.ts')).toBe(false);
    expect(exists('nosuchfile.ts', 'docs/ARCHITECTURE.md')).toBe(false);
    expect(exists('portals/match.ts', 'kernel/kernel.ts') && exists('match.ts', 'docs/ARCHITECTURE.md')).toBe(true);
  });

  it('every .ts or .md path in a source comment exists', () => {
    const bad: string[] = [];
    for (const f of SOURCE_DIRS.flatMap((d) => files(d, '.ts'))) {
      for (const c of comments(f)) for (const p of paths(c.text)) if (!exists(p, f)) bad.push(`${f}:${c.line} ${p}`);
    }
    expect(bad).toEqual([]);
  });

  it('every .ts or .md path in docs/*.md and README.md exists', () => {
    const bad: string[] = [];
    for (const f of [...files('docs', '.md'), 'README.md']) {
      let fenced = false;
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .forEach((l, i) => {
          if (l.trimStart().startsWith('```')) fenced = !fenced;
          else if (!fenced) for (const p of paths(l)) if (!exists(p, f)) bad.push(`${f}:${i + 1} ${p}`);
        });
    }
    expect(bad).toEqual([]);
  });
});
