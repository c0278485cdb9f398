// Command-line parsing shared by every margay command: strict flags (an
// unknown or malformed flag is a one-line usage error, exit code 2) and the
// machine options most commands take.

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../hw/errors.ts';
import { DEFAULT_PROFILE, getProfile, type Profile, withOverrides } from '../hw/profile.ts';
import { parseShape, type Shape, shapeForNodes } from '../hw/topology.ts';
import { readBounded } from './files.ts';

/** The largest --config file read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** A mistake in how a command was called: printed as one line, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const MACHINE_OPTIONS = {
  profile: { type: 'string' },
  shape: { type: 'string' },
  nodes: { type: 'string' },
  cores: { type: 'string' },
  seed: { type: 'string' },
  set: { type: 'string', multiple: true },
  config: { type: 'string' },
} as const satisfies Options;

export const MACHINE_HELP = `machine options:
  --profile P        machine profile: redstorm (default), paragon, modern, atm95
  --shape S          topology and size, e.g. mesh:4x4, torus:27x16x24, 8x8
  --nodes N          the smallest low-diameter shape of the profile's kind with N nodes
  --cores C          cores per node (same as --set cpu.cores=C)
  --seed S           PRNG seed (default 1)
  --set K=V          override a profile parameter, e.g. --set nic.dmaBandwidth=1G (repeatable)
  --config FILE      JSON file of parameter overrides ({"nic": {"dmaBandwidth": 1e9}})`;

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  rest: string[];
}

/** Parses argv strictly; everything after `--` is returned as `rest`. */
export function parse(argv: string[], options: Options, allowPositionals: number): Parsed {
  const dd = argv.indexOf('--');
  // `--nodes -4`: a value that looks negative is the option's value (its own check refuses it), not a flag.
  const before = dd >= 0 ? argv.slice(0, dd) : argv;
  const own: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const o = /^--([a-z][\w-]*)$/.exec(before[i]);
    if (o !== null && options[o[1]]?.type === 'string' && /^-\d/.test(before[i + 1] ?? '')) own.push(`${before[i]}=${before[++i]}`);
    else own.push(before[i]);
  }
  const rest = dd >= 0 ? argv.slice(dd + 1) : [];
  let result;
  try {
    result = parseArgs({ args: own, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(cleanParseError((e as Error).message));
  }
  if (result.positionals.length > allowPositionals) {
    throw new UsageError(`unexpected argument '${result.positionals[allowPositionals]}'`);
  }
  return { values: result.values as Parsed['values'], positionals: result.positionals, rest };
}

function cleanParseError(msg: string): string {
  const first = msg.split('\n')[0];
  const unknown = /Unknown option '([^']+)'/.exec(first);
  if (unknown) return `unknown option '${unknown[1]}'`;
  const missing = /Option '([^']+)' argument missing/.exec(first);
  if (missing) return `option '${missing[1].replace(/^-\w, /, '')}' needs a value`;
  return first.replace(/\. To specify a positional argument.*$/, '');
}

export function str(p: Parsed, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function flag(p: Parsed, name: string): boolean {
  return p.values[name] === true;
}

export function intOption(p: Parsed, name: string, min: number, max: number): number | undefined {
  const v = str(p, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${v}'`);
  }
  return Number(v);
}

export interface MachineChoice {
  readonly profile: Profile;
  readonly shape: Shape;
  readonly seed: number;
}

/** Resolves --profile, --shape/--nodes, --cores, --set, --config and --seed. */
export function machineChoice(p: Parsed, extraNodes = 0): MachineChoice {
  try {
    let profile = getProfile(str(p, 'profile') ?? DEFAULT_PROFILE);
    const config = str(p, 'config');
    if (config !== undefined) {
      const text = new TextDecoder().decode(readBounded(config, MAX_CONFIG_BYTES, `--config ${config}`));
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (e) {
        throw new ConfigError(`cannot read --config ${config}: ${(e as Error).message.split('\n')[0]}`);
      }
      if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ConfigError(`--config ${config} must hold a JSON object`);
      profile = withOverrides(profile, json as Record<string, unknown>, config);
    }
    const sets = (p.values.set as string[] | undefined) ?? [];
    const overrides: Record<string, string> = {};
    for (const s of sets) {
      const eq = s.indexOf('=');
      if (eq <= 0) throw new UsageError(`--set needs KEY=VALUE, got '${s}'`);
      overrides[s.slice(0, eq).trim()] = s.slice(eq + 1).trim();
    }
    const cores = intOption(p, 'cores', 1, 256);
    if (cores !== undefined) overrides['cpu.cores'] = String(cores);
    if (Object.keys(overrides).length > 0) profile = withOverrides(profile, overrides, '--set');
    const shapeText = str(p, 'shape');
    const nodes = intOption(p, 'nodes', 1, 1 << 22);
    if (shapeText !== undefined && nodes !== undefined) throw new UsageError('give --shape or --nodes, not both');
    let shape: Shape;
    if (shapeText !== undefined) shape = parseShape(shapeText, profile.topology);
    else if (nodes !== undefined) shape = shapeForNodes(nodes + extraNodes, profile.shape.length, profile.topology);
    else shape = { kind: profile.topology, dims: profile.shape };
    const seed = intOption(p, 'seed', 0, Number.MAX_SAFE_INTEGER) ?? 1;
    return { profile, shape, seed };
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}
