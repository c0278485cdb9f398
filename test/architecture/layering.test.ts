// The layers' import direction, read from the sources: hw knows nothing of
// ours outside hw/, the kernel nothing of userland or the monitor, and
// userland reaches the kernel only through the trap (it may import kernel
// definitions for types, never values). The simulator's control and
// inspection API (system/) sits above the kernel; the monitor reads the
// machine only through it. Inside the kernel, Portals and job control
// know nothing of each other: kernel/nicdispatch.ts routes the NIC between
// them.

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

  it('the kernel imports nothing of the simulator API (system/)', () => {
    expect(show(all('kernel').filter((e) => layer(e.to) === 'system'))).toEqual([]);
  });

  it('system/ imports only itself, the kernel and hw', () => {
    expect(show(all('system').filter((e) => !['system', 'kernel', 'hw'].includes(layer(e.to))))).toEqual([]);
  });

  it('the monitor takes from the kernel only types and published definition tables (its reads go through system/)', () => {
    // monitor/conformance/ drives kernel units (the eBPF VM, Portals atomics) directly, as a test harness does.
    const harness = (e: Edge) => e.from.startsWith('monitor/conformance/');
    const bad = all('monitor').filter((e) => layer(e.to) === 'kernel' && !e.typeOnly && !harness(e) && !KERNEL_DEFINITIONS.includes(e.to));
    expect(show(bad)).toEqual(KNOWN_MONITOR_EXCEPTIONS);
  });

  it('the monitor never fetches a kernel object to read it (no kernel(), existingKernel(), bootedKernels())', () => {
    const reach = /\.(kernel|existingKernel|bootedKernels)\(/;
    const bad = sources('monitor').filter((f) => !f.startsWith('monitor/conformance/') && reach.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(bad).toEqual([]);
  });

  it('no monitor file imports the kernel\'s Process, Kernel or Cpu, not even for a type (it reads plain data from system/inspect.ts)', () => {
    const stateful = ['kernel/process.ts', 'kernel/kernel.ts', 'kernel/cpu.ts'];
    expect(show(all('monitor').filter((e) => stateful.includes(e.to)))).toEqual([]);
  });

  it('the monitor never holds a kernel Process through System (no rankStates(), rankState(), job.yod or userCodeWatch: it uses inspect.jobRanks(), inspect.yod() and watchUserCode())', () => {
    // Jobs are `job` in the monitor; a report's `r.yod` is already plain data.
    const reach = /\.rankStates?\(|\buserCodeWatch\b|\bjob\.yod\b/;
    const bad = sources('monitor').filter((f) => !f.startsWith('monitor/conformance/') && reach.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(bad).toEqual([]);
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

/** The kernel's import graph: each kernel file and the kernel files it imports (types included). */
function kernelGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of sources('kernel')) g.set(f, []);
  for (const e of all('kernel')) if (g.has(e.to)) g.get(e.from)!.push(e.to);
  return g;
}

/** Files reachable from `start` by imports (start itself included). */
function reach(g: Map<string, string[]>, start: string): Set<string> {
  const seen = new Set<string>([start]);
  const todo = [start];
  while (todo.length > 0) for (const n of g.get(todo.pop()!) ?? []) if (!seen.has(n)) seen.add(n), todo.push(n);
  return seen;
}

describe('layering: the per-node kernel', () => {
  // The paths and the executor take the narrow context (kernel/context.ts), not the Kernel class.
  const NARROW = ['cpu', 'trap', 'irq', 'xcall', 'tlbflush', 'timer', 'futex', 'fault', 'uaccess', 'loadstore', 'sched', 'spawn', 'exit', 'context'];

  it('the kernel paths and the executor do not import kernel.ts, directly or through another file', () => {
    const g = kernelGraph();
    const bad = NARROW.map((n) => `kernel/${n}.ts`).filter((f) => {
      expect(g.has(f), `${f} exists`).toBe(true);
      return reach(g, f).has('kernel/kernel.ts');
    });
    expect(bad).toEqual([]);
  });

  it('every import cycle in kernel/ goes through kernel.ts (the composition root and the drivers it builds)', () => {
    const g = kernelGraph();
    const cyclic = [...g.keys()].filter((f) => (g.get(f) ?? []).some((n) => reach(g, n).has(f)));
    expect(cyclic.length).toBeGreaterThan(0);
    const outside = cyclic.filter((f) => !reach(g, f).has('kernel/kernel.ts') || !reach(g, 'kernel/kernel.ts').has(f));
    expect(outside).toEqual([]);
  });
});

/** Kernel files that are tables and formats (no kernel state), which the monitor prints, documents or builds. */
const KERNEL_DEFINITIONS = [
  'kernel/abi.ts',
  'kernel/errno.ts',
  'kernel/vectors.ts',
  'kernel/syscalls/table.ts',
  'kernel/portals/defs.ts',
  'kernel/portals/layout.ts',
  'kernel/portals/extabi.ts',
  'kernel/ext/isa.ts',
  'kernel/ext/disasm.ts',
  'kernel/job/image.ts',
  'kernel/tracepaths.ts',
  'kernel/unet/flags.ts',
  'kernel/ipc/personality.ts',
];

/** Value imports from kernel state files the monitor still makes (none: keep it so). */
const KNOWN_MONITOR_EXCEPTIONS: string[] = [];
