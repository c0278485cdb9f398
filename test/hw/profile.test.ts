import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../hw/errors.ts';
import { PARAMETERS, PROFILES, getProfile, withOverrides } from '../../hw/profile.ts';
import { generatedDocs } from '../../monitor/commands/docs.ts';
import { readFileSync } from 'node:fs';

describe('machine profiles', () => {
  it('define redstorm, paragon, modern and atm95 with every parameter and a source for each', () => {
    expect(Object.keys(PROFILES).sort()).toEqual(['atm95', 'modern', 'paragon', 'redstorm']);
    for (const p of Object.values(PROFILES)) {
      for (const key of Object.keys(PARAMETERS)) {
        expect(p.sources[key as keyof typeof PARAMETERS].length).toBeGreaterThan(3);
      }
    }
  });

  it('give Red Storm its 10,368-node 27x16x24 mesh and SeaStar rates', () => {
    const r = getProfile('redstorm');
    expect(r.shape).toEqual([27, 16, 24]);
    expect(r.values['net.linkBandwidth']).toBe(2.0e9);
    expect(r.values['nic.injectionBandwidth']).toBe(1.5e9);
  });

  it('apply overrides with SI suffixes and nested JSON, recording their origin', () => {
    const p = withOverrides(getProfile('redstorm'), { 'nic.dmaBandwidth': '1.2G', tlb: { entries: 64 } }, 'test');
    expect(p.values['nic.dmaBandwidth']).toBe(1.2e9);
    expect(p.values['tlb.entries']).toBe(64);
    expect(p.sources['tlb.entries']).toBe('override (test)');
  });

  it('reject bad values with a message naming the parameter', () => {
    const r = getProfile('redstorm');
    expect(() => withOverrides(r, { 'nic.dmaBandwidth': -3 }, 't')).toThrow(/nic.dmaBandwidth must be between/);
    expect(() => withOverrides(r, { 'cpu.cores': 1.5 }, 't')).toThrow(/cpu.cores must be a whole number/);
    expect(() => withOverrides(r, { 'cpu.cores': 'many' }, 't')).toThrow(/cannot read 'many'/);
    expect(() => withOverrides(r, { 'nic.dmaBandwith': 1 }, 't')).toThrow(/unknown profile parameter 'nic.dmaBandwith'/);
    expect(() => withOverrides(r, { topology: 'ring' }, 't')).toThrow(ConfigError);
    expect(() => getProfile('cray1')).toThrow(/unknown profile 'cray1'/);
  });

  it('are documented in docs/profiles.md exactly as the table says', () => {
    for (const [file, text] of Object.entries(generatedDocs())) expect(readFileSync(file, 'utf8')).toBe(text);
  });
});
