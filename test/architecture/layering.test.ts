// The layers' import direction, read from the sources: hw knows nothing of
// ours outside hw/, the kernel nothing of userland or the monitor, and
// userland reaches the kernel only through the trap (it may import kernel
// definitions for types, never values). Inside the kernel, Portals and job
// control know nothing of each other: kernel/nicdispatch.ts routes the NIC
// between them.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

/** Every relative import and re-export of a file, with whether it is type-only. */
function edges(file: string): Edge[] {
  const text = readFileSync(join(ROOT, file), 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false);
  const out: Edge[] = [];
  const add = (spec: string, typeOnly: boolean) => {
    if (spec.startsWith('.')) out.push({ from: file, to: relative(ROOT, resolve(ROOT, dirname(file), spec)), typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const c = node.importClause;
      const named = c?.namedBindings !== undefined && ts.isNamedImports(c.namedBindings) ? c.namedBindings.elements : undefined;
      const typeOnly = c !== undefined && (c.isTypeOnly || (c.name === undefined && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      add(node.moduleSpecifier.text, typeOnly);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] !== undefined && ts.isStringLiteral(node.arguments[0])) {
      add(node.arguments[0].text, false);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

const layer = (path: string) => path.split('/')[0];
const all = (dir: string) => sources(dir).flatMap(edges);
const show = (es: Edge[]) => es.map((e) => `${e.from} -> ${e.to}${e.typeOnly ? ' (type)' : ''}`);

describe('layering: imports point down only', () => {
  it('finds the imports it checks (the reader itself works)', () => {
    expect(all('kernel').length).toBeGreaterThan(100);
    expect(all('userland').some((e) => e.typeOnly)).toBe(true);
  });

  it('hw imports nothing of ours outside hw/', () => {
    expect(show(all('hw').filter((e) => layer(e.to) !== 'hw'))).toEqual([]);
  });

  it('the kernel imports only the kernel and hw (nothing of userland or the monitor)', () => {
    expect(show(all('kernel').filter((e) => !['kernel', 'hw'].includes(layer(e.to))))).toEqual([]);
  });

  it('userland imports its own library, and the kernel only for types', () => {
    const bad = all('userland').filter((e) => layer(e.to) !== 'userland' && !(layer(e.to) === 'kernel' && e.typeOnly));
    expect(show(bad)).toEqual([]);
  });

  it('Portals and job control import neither each other, not even for types (the NIC dispatch routes between them)', () => {
    const portals = (f: string) => f.startsWith('kernel/portals/');
    const jobControl = (f: string) => /^kernel\/(job\/|jobctl|jobmsg|jobblock|image|codecatalog)/.test(f);
    const jobFiles = sources('kernel').filter(jobControl);
    expect(jobFiles.length).toBeGreaterThan(0);
    const bad = [...all('kernel/portals').filter((e) => jobControl(e.to)), ...jobFiles.flatMap(edges).filter((e) => portals(e.to))];
    expect(show(bad)).toEqual([]);
  });
});
