// `margay run --check`: type-checks a user's program with the TypeScript
// compiler's API before running it, from any folder and without a
// package.json or tsconfig of the user's own. `margay/...` imports resolve
// as a self-reference from this checkout's package.json "exports" (the same
// table packagename.ts resolves at run time).

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2023.d.ts'],
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules/@types')],
  strict: true,
  noEmit: true,
  allowImportingTsExtensions: true,
  isolatedModules: true,
  skipLibCheck: true,
};

/** The program's type errors as `file:line:col: message` lines (empty when it checks). */
export function typeErrors(file: string): string[] {
  const host = ts.createCompilerHost(OPTIONS);
  const here = join(ROOT, 'package.json');
  host.resolveModuleNameLiterals = (literals, containingFile, redirected, options) =>
    literals.map((l) => {
      const ours = l.text === 'margay' || l.text.startsWith('margay/');
      return ts.resolveModuleName(l.text, ours ? here : containingFile, options, host, undefined, redirected);
    });
  const program = ts.createProgram([resolve(file)], OPTIONS, host);
  // Only the user's own files are checked (Margay's are by its own tests): much faster.
  const mine = program.getSourceFiles().filter((f) => !f.fileName.startsWith(ROOT + '/') && !f.isDeclarationFile);
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics(), ...mine.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)])];
  return diagnostics.map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
    if (d.file === undefined || d.start === undefined) return `error TS${d.code}: ${text}`;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    return `${d.file.fileName}:${line + 1}:${character + 1}: error TS${d.code}: ${text}`;
  });
}
