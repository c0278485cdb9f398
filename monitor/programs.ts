// Resolving the program a user names: an app from userland/apps, an ELF
// image that `margay image` wrote, or a path to their own TypeScript or
// JavaScript file whose default export is a program (saved in any folder; it
// may import Margay's library as `margay/userland`, see packagename.ts).

import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UserProgram } from '../kernel/abi.ts';
import { MAX_IMAGE_BYTES, parseImage, sha256 } from '../kernel/job/image.ts';
import { APPS } from '../userland/apps/index.ts';
import { UsageError } from './args.ts';
import { installCommonJsResolution } from './packagename.ts';
import { checkFile } from './files.ts';

/** The largest program source file loaded (a program is one module of TypeScript). */
const MAX_PROGRAM_BYTES = 4 * 1024 * 1024;

function isProgram(x: unknown): x is UserProgram {
  const p = x as UserProgram;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.name === 'string' &&
    typeof p.instantiate === 'function' &&
    [p.textBytes, p.dataBytes, p.bssBytes].every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 1 << 30)
  );
}

/**
 * One line per problem from a failed load. esbuild's "Transform failed with N
 * error(s):" carries each error as `file:line:col: ERROR: message` on the
 * following lines; anything else keeps its first line.
 */
function loadErrorText(e: unknown): string {
  const lines = (e instanceof Error ? e.message : String(e)).split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length > 1 && /^Transform failed with \d+ errors?:?$/.test(lines[0])) {
    // esbuild counts columns from 0; editors and tsc (run --check) from 1.
    return lines
      .slice(1)
      .map((l) => l.replace(/^(.*):(\d+):(\d+): ERROR: /, (_m, file: string, line: string, col: string) => `${file}:${line}:${Number(col) + 1}: `))
      .join('; ');
  }
  return lines[0] ?? 'unknown error';
}

const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46];

/** The first bytes of a file (at most `n`), read without loading the whole file. */
function head(file: string, n: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const b = new Uint8Array(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * An image `margay image` wrote: its text is found in the code catalog by
 * hash, as the kernel's loader finds it, so only an image of one of Margay's
 * apps can run this way; a user's program runs from its source file.
 */
function programFromImage(name: string, size: number): UserProgram {
  if (size > MAX_IMAGE_BYTES) throw new UsageError(`${name}: an image of ${size} bytes is larger than the loader accepts (${MAX_IMAGE_BYTES})`);
  const r = parseImage(head(name, size));
  if (!r.ok) throw new UsageError(`${name}: not an image the loader accepts: ${r.reason}`);
  const hash = sha256(r.image.text);
  const app = Object.values(APPS).find((a) => a.text !== undefined && sha256(a.text) === hash);
  if (app === undefined) throw new UsageError(`${name} is an image of '${r.image.name}', whose code is not one of Margay's apps: run the program's source file instead (margay run ./${r.image.name}.ts)`);
  return { ...app, data: r.image.data, dataBytes: r.image.dataBytes, bssBytes: r.image.bssBytes, textBytes: r.image.textBytes };
}

/** True when `name` names a file rather than an app. */
function namesFile(name: string): boolean {
  return !(name in APPS) && (name.includes('/') || name.includes('.'));
}

export async function resolveProgram(name: string): Promise<UserProgram> {
  if (!namesFile(name)) {
    const app = APPS[name];
    if (!app) throw new UsageError(`unknown app '${name}' (apps: ${Object.keys(APPS).join(', ')}; or give a path to your own program.ts)`);
    return app;
  }
  const file = resolve(name);
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new UsageError(`${name} is a directory: name a program file (e.g. ${name.replace(/\/$/, '')}/myprog.ts)`);
    size = st.size;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`no such program file: ${name}`);
  }
  // Checked before anything reads it: a device, a FIFO or a huge file is refused, not read.
  checkFile(file, Math.max(MAX_PROGRAM_BYTES, MAX_IMAGE_BYTES), name);
  const magic = head(file, 4);
  if (ELF_MAGIC.every((b, i) => magic[i] === b)) return programFromImage(name, size);
  if (!/\.[cm]?[jt]s$/.test(file)) throw new UsageError(`${name}: a program is a .ts or .js file (or an image written by margay image)`);
  if (size > MAX_PROGRAM_BYTES) throw new UsageError(`cannot read ${name}: more than ${MAX_PROGRAM_BYTES} bytes`);
  let mod: { default?: unknown };
  try {
    // tsImport loads the file wherever it lives (no package.json needed); a
    // file outside an ES-module package loads as CommonJS.
    const { tsImport } = await import('tsx/esm/api');
    installCommonJsResolution();
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (e) {
    throw new UsageError(`cannot load ${name}: ${loadErrorText(e)}`);
  }
  let exported = mod.default;
  // A file outside an ES-module package arrives wrapped once more by the CommonJS interop.
  if (!isProgram(exported) && typeof exported === 'object' && exported !== null && 'default' in exported) exported = (exported as { default: unknown }).default;
  if (!isProgram(exported)) throw new UsageError(`${name} must export default program('name', function* main(env) { ... }) (see docs/WRITING-PROGRAMS.md)`);
  return exported;
}

export function appNames(): string[] {
  return Object.keys(APPS);
}

/** `--check`: type errors in the user's program are a usage error, one line each; apps are checked by npm test. */
export async function checkProgram(name: string): Promise<void> {
  if (!namesFile(name)) return;
  const file = resolve(name);
  try {
    if (!statSync(file).isFile() || !/\.[cm]?ts$/.test(file)) return; // resolveProgram says what is wrong
  } catch {
    return;
  }
  const { typeErrors } = await import('./typecheck.ts');
  const errors = typeErrors(file);
  if (errors.length > 0) throw new UsageError(`--check: ${errors.length} type error(s) in ${name}; nothing was run:\n${errors.join('\n')}`);
}
