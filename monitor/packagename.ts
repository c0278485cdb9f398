// A program saved in any folder imports Margay's user library by package
// name (`margay/userland`), installed or not. The name is resolved as a
// self-reference from this checkout's package.json, so its "exports" stay
// the one table of what the package offers. tsx runs a .ts file outside an
// ES-module package as CommonJS (its imports become require), so both
// resolvers need it: an ESM resolve hook (registered with module.register)
// and a wrapper round CommonJS's filename resolution (as tsconfig-paths does).

import Module, { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface ResolveContext {
  parentURL?: string;
  conditions?: readonly string[];
}
type NextResolve = (specifier: string, context: ResolveContext) => unknown;

const PACKAGE_JSON_URL = new URL('../package.json', import.meta.url).href;

const isOurs = (specifier: string) => specifier === 'margay' || specifier.startsWith('margay/');

/** The ESM resolve hook. */
export function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): unknown {
  return nextResolve(specifier, isOurs(specifier) ? { ...context, parentURL: PACKAGE_JSON_URL } : context);
}

type ResolveFilename = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

let installed = false;

/** Makes require('margay/...') resolve from this checkout in this process. */
export function installCommonJsResolution(): void {
  if (installed) return;
  installed = true;
  const M = Module as unknown as { _resolveFilename: ResolveFilename };
  const original = M._resolveFilename;
  // A parent module inside the checkout: CommonJS then resolves the name as a self-reference.
  const here = createRequire(fileURLToPath(PACKAGE_JSON_URL));
  const filename = fileURLToPath(PACKAGE_JSON_URL);
  const parentHere = { id: filename, filename, paths: here.resolve.paths('margay') ?? [] };
  M._resolveFilename = function (request, parent, isMain, options) {
    return original.call(this, request, isOurs(request) ? parentHere : parent, isMain, options);
  };
}
