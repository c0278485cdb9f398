// The Portals names (event types, return codes, ni_fail values, atomic
// operations) have one definition, kernel/portals/defs.ts: the generated
// userland table is what the generator makes of it today, and no other
// source restates one of the groups.

import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATOMIC_OP, EVENT, EVENT_NAMES, NI_FAIL, PTL, RC } from '../../kernel/portals/defs.ts';
import { USER_PORTALS, userPortals } from '../../monitor/docsgen.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const DEFS = 'kernel/portals/defs.ts';

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...sources(rel));
    else if (name.endsWith('.ts')) out.push(rel);
  }
  return out;
}

const GROUPS = { RC, NI_FAIL, ATOMIC_OP, EVENT } as const;

/** Names of `group` that `text` spells as a table would: a key (`NAME:`) or a string (`'NAME'`). */
function restated(text: string, group: Readonly<Record<string, number>>): string[] {
  return Object.keys(group).filter((n) => new RegExp(`(?<![\\w.])(${n}\\s*:|'${n}'|"${n}")`).test(text));
}

describe('Portals names come from kernel/portals/defs.ts only', () => {
  it('keeps the generated userland table in sync with the definition (run `npm run docs` if not)', () => {
    expect(readFileSync(join(ROOT, USER_PORTALS), 'utf8')).toBe(userPortals());
  });

  it('builds PTL from the groups, under their prefixes', () => {
    for (const [k, v] of Object.entries(RC)) expect(PTL[k as keyof typeof PTL]).toBe(v);
    for (const [k, v] of Object.entries(ATOMIC_OP)) expect(PTL[k as keyof typeof PTL]).toBe(v);
    for (const [k, v] of Object.entries(NI_FAIL)) expect(PTL[`NI_${k}` as keyof typeof PTL]).toBe(v);
    for (const [k, v] of Object.entries(EVENT)) expect(PTL[`EVENT_${k}` as keyof typeof PTL]).toBe(v);
    expect(EVENT_NAMES[PTL.EVENT_AUTO_UNLINK]).toBe('AUTO_UNLINK');
    expect(EVENT_NAMES.length).toBe(Object.keys(EVENT).length);
  });

  it('finds a restated table when there is one (the check itself works)', () => {
    const copy = "const EVENT = { GET: 0, GET_OVERFLOW: 1, PUT: 2 };\nconst N = ['ACK', 'LINK'];";
    expect(restated(copy, EVENT)).toEqual(['GET', 'GET_OVERFLOW', 'PUT', 'ACK', 'LINK']);
    expect(restated('PTL.EVENT_PUT; ev.type === PTL.EVENT_GET', EVENT)).toEqual([]);
  });

  it('has no second copy of the event, return-code, ni_fail or atomic-op table in any source', () => {
    const files = ['kernel', 'userland', 'monitor', 'hw', 'bench'].flatMap(sources).filter((f) => f !== DEFS && f !== USER_PORTALS);
    const copies: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(ROOT, f), 'utf8');
      for (const [name, group] of Object.entries(GROUPS)) {
        const hit = restated(text, group);
        // A table restates many names; a file may mention one or two in passing (a trace label, a case).
        if (hit.length >= 4) copies.push(`${relative(ROOT, join(ROOT, f))}: ${name} (${hit.join(' ')})`);
      }
    }
    expect(copies).toEqual([]);
  });

  it('has the conformance runner read its names from the definition', () => {
    const text = readFileSync(join(ROOT, 'monitor/conformance/portals4.ts'), 'utf8');
    expect(text).toMatch(/import \{[^}]*\bEVENT\b[^}]*\} from '..\/..\/kernel\/portals\/defs.ts'/);
    expect(text).toMatch(/import \{[^}]*\bRC\b[^}]*\} from '..\/..\/kernel\/portals\/defs.ts'/);
  });
});
