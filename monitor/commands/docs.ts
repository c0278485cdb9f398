// `margay docs`: regenerates the generated files in docs/ from their tables.

import { readFileSync, writeFileSync } from 'node:fs';
import { flag, parse } from '../args.ts';
import { ABI_DOC, ABI_PROSE, MONITOR_DOC, MONITOR_PROSE, monitorDoc, refreshSession, PROFILES_DOC, PROFILES_PROSE, USER_ABI, USER_PORTALS, USER_UNET, abiDoc, profilesDoc, userAbi, userPortals, userUnet } from '../docsgen.ts';
import type { Output } from '../output.ts';

export const HELP = `usage: margay docs [--check]

Regenerates docs/profiles.md, docs/ABI.md, docs/MONITOR.md and userland/lib/*.gen.ts from\ntheir tables (run from the repository root).

  --check            exit 1 if a generated file is out of date, writing nothing`;

export function generatedDocs(): Record<string, string> {
  return {
    [PROFILES_DOC]: profilesDoc(readFileSync(PROFILES_PROSE, 'utf8')),
    [ABI_DOC]: abiDoc(readFileSync(ABI_PROSE, 'utf8')),
    [MONITOR_DOC]: monitorDoc(readFileSync(MONITOR_PROSE, 'utf8')),
    [USER_ABI]: userAbi(),
    [USER_PORTALS]: userPortals(),
    [USER_UNET]: userUnet(),
  };
}

export async function run(argv: string[], out: Output): Promise<number> {
  const p = parse(argv, { check: { type: 'boolean' } }, 0);
  let stale = 0;
  // The monitor's sample session is replayed first: MONITOR.md is made from its prose.
  const prose = readFileSync(MONITOR_PROSE, 'utf8');
  const session = { [MONITOR_PROSE]: await refreshSession(prose) };
  if (!flag(p, 'check')) writeFileSync(MONITOR_PROSE, session[MONITOR_PROSE]);
  for (const [file, text] of Object.entries({ ...session, ...generatedDocs() })) {
    let current = '';
    try {
      current = readFileSync(file, 'utf8');
    } catch {
      current = '';
    }
    if (current === text) continue;
    stale++;
    if (flag(p, 'check')) out.say(`${file} is out of date (run npm run docs)`);
    else {
      writeFileSync(file, text);
      out.say(`wrote ${file}`);
    }
  }
  return flag(p, 'check') && stale > 0 ? 1 : 0;
}
