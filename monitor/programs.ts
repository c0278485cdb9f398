// Resolving the program a user names: an app from userland/apps, or a path
// to their own TypeScript/JavaScript file whose default export is a program.

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UserProgram } from '../kernel/abi.ts';
import { APPS } from '../userland/apps/index.ts';
import { UsageError } from './args.ts';
import { checkFile } from './files.ts';

/** The largest program source file loaded (a program is one module of TypeScript). */
const MAX_PROGRAM_BYTES = 4 * 1024 * 1024;

export function isProgram(x: unknown): x is UserProgram {
  const p = x as UserProgram;
  return (
    typeof p === 'object' &&
    p !== null &&
    typeof p.name === 'string' &&
    typeof p.instantiate === 'function' &&
    [p.textBytes, p.dataBytes, p.bssBytes].every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 1 << 30)
  );
}

export async function resolveProgram(name: string): Promise<UserProgram> {
  if (!name.includes('/') && !/\.[cm]?[jt]s$/.test(name)) {
    const app = APPS[name];
    if (!app) throw new UsageError(`unknown app '${name}' (apps: ${Object.keys(APPS).join(', ')}; or give a path to your own program.ts)`);
    return app;
  }
  const file = resolve(name);
  // Checked before the import reads it: a device, a FIFO or a huge file is refused, not read.
  checkFile(file, MAX_PROGRAM_BYTES, name);
  let mod: { default?: unknown };
  try {
    // tsImport loads the file as an ES module wherever it lives (no package.json needed).
    const { tsImport } = await import('tsx/esm/api');
    mod = (await tsImport(pathToFileURL(file).href, import.meta.url)) as { default?: unknown };
  } catch (e) {
    throw new UsageError(`cannot load ${name}: ${(e as Error).message.split('\n')[0]}`);
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
