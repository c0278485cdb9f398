// The command line shared by the DSM apps:
//   margay run dsm_APP --nodes N -- kernel|user [thread|poll] [name=value ...]
// The first word chooses the implementation; the user DSM takes how its
// requests are served (a communication thread, the default, or polling);
// then the app's own parameters by name, each a whole number in a range.

import type { DsmImpl, DsmOptions } from './api.ts';
import { DSM_IMPL_NAMES } from './api.ts';

export interface DsmArgs {
  readonly impl: DsmImpl;
  readonly opts: DsmOptions;
  readonly params: Record<string, number>;
  /** How to name this configuration in output: 'kernel', 'user' or 'user/poll'. */
  readonly label: string;
}

export type ParamSpec = Record<string, { readonly def: number; readonly min: number; readonly max: number; readonly doc: string }>;

/** Parses argv (argv[0] is the program name); returns a one-line usage error as a string. */
export function parseDsmArgs(app: string, argv: readonly string[], spec: ParamSpec): DsmArgs | string {
  const usage = `usage: ${app} kernel|user [thread|poll] ${Object.entries(spec).map(([k, s]) => `[${k}=N (${s.doc}, ${s.min}..${s.max}, default ${s.def})]`).join(' ')}`;
  const words = argv.slice(1);
  const impl = (words.shift() ?? 'user') as DsmImpl;
  if (!DSM_IMPL_NAMES.includes(impl)) return `${app}: the implementation is kernel or user, got '${impl}'\n${usage}`;
  let mode: 'thread' | 'poll' | undefined;
  if (words[0] === 'thread' || words[0] === 'poll') {
    if (impl !== 'user') return `${app}: '${words[0]}' applies to the user DSM only\n${usage}`;
    mode = words.shift() as 'thread' | 'poll';
  }
  const params: Record<string, number> = {};
  for (const [k, s] of Object.entries(spec)) params[k] = s.def;
  for (const w of words) {
    const m = /^([a-z_]+)=(\d+)$/.exec(w);
    if (m === null || !(m[1] in spec)) return `${app}: unknown argument '${w}'\n${usage}`;
    const v = Number(m[2]);
    const s = spec[m[1]];
    if (!Number.isSafeInteger(v) || v < s.min || v > s.max) return `${app}: ${m[1]} must be ${s.min} to ${s.max}, got ${m[2]}`;
    params[m[1]] = v;
  }
  return { impl, opts: mode === undefined ? {} : { mode }, params, label: impl === 'user' && mode === 'poll' ? 'user/poll' : impl };
}
