import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { directoryRanks, runPortalsScript, runPortalsSuite, scriptRanks } from '../../monitor/conformance/portals4.ts';
import { parseXml } from '../../monitor/conformance/xml.ts';

// Margay's own multi-rank scripts, in the reference harness's dialect: a
// directory test_nN runs each of its scripts on N ranks, one process per
// compute node, with <barrier/> made of Portals messages over the network.
const SUITE = 'test/conformance/portals4';

const wrap = (body: string) => `<test><ptl><ptl_ni><ompi_rt><ptl_ni ni_opt="MATCH LOGICAL"><ptl_eq><ptl_pt><ptl_get_id>${body}</ptl_get_id></ptl_pt></ptl_eq></ptl_ni></ompi_rt></ptl_ni></ptl></test>`;

describe('the multi-rank Portals 4 conformance scripts', () => {
  for (const dir of readdirSync(SUITE).filter((d) => /^test_n\d+$/.test(d)).sort()) {
    it(`pass, every script of ${dir} on ${directoryRanks(dir)} ranks`, () => {
      const s = runPortalsSuite(join(SUITE, dir));
      const failures = s.scripts.filter((x) => x.status !== 'passed').map((x) => `${x.name}: ${x.status} ${x.reason}`);
      expect(failures, failures.join('\n')).toEqual([]);
      expect(s.total).toBeGreaterThan(0);
      expect(s.scripts.every((x) => x.ranks === directoryRanks(dir))).toBe(true);
    });
  }
});

// The reference implementation's own two-rank scripts (test/sfw/test_n2 of
// sandialabs/portals4) are not part of this repository; point
// MARGAY_PORTALS4_TEST_N2 at a copy of that directory to run them too.
const REFERENCE_N2 = process.env.MARGAY_PORTALS4_TEST_N2;

describe.skipIf(!REFERENCE_N2)('the reference implementation\'s two-rank scripts', () => {
  it('all pass on two ranks', () => {
    const s = runPortalsSuite(REFERENCE_N2!, { ranks: 2 });
    const failures = s.scripts.filter((x) => x.status !== 'passed').map((x) => `${x.name}: ${x.status} ${x.reason}`);
    expect(failures, failures.join('\n')).toEqual([]);
  }, 120_000);
});

describe('the multi-rank runner', () => {
  it('runs as many ranks as a script names, a test_nN directory says, or --ranks asks', () => {
    expect(scriptRanks(parseXml(wrap('<if rank="0"/><if rank="3"/>')))).toBe(4);
    expect(scriptRanks(parseXml(wrap('<ptl_put target_id="5"/>')))).toBe(6);
    expect(scriptRanks(parseXml(wrap('<ptl_put target_id="0:1"/>')))).toBe(1);
    expect(directoryRanks('../shared/conformance/portals4/test_n1')).toBe(1);
    expect(directoryRanks('x/test_n8/')).toBe(8);
    expect(directoryRanks('x/scripts')).toBeUndefined();
    expect(runPortalsScript('b', wrap('<barrier/>'), { ranks: 3 })).toMatchObject({ status: 'passed', ranks: 3 });
  });

  it('makes a barrier of messages over the simulated network', () => {
    const one = runPortalsScript('b1', wrap('<barrier/>'), { ranks: 2 });
    const three = runPortalsScript('b3', wrap('<barrier/><barrier/><barrier/>'), { ranks: 2 });
    expect(one.status).toBe('passed');
    // Each further barrier of two ranks is one arrival and one release crossing the network.
    expect(three.messages! - one.messages!).toBe(4);
  });

  it('holds a rank at a barrier until every rank reaches it', () => {
    // Rank 1 sleeps 5 ms, puts, then enters the barrier: rank 0 finds the data only if it waited there.
    const ordered = (sleep: number) =>
      wrap(`
      <ptl_me me_data="0x00" me_match="1" me_opt="OP_PUT EVENT_LINK_DISABLE">
        <if rank="1"><ptl_md md_data="0xaa" md_opt="SUCCESS_DISABLE"><msleep count="${sleep}"/><ptl_put length="1" match="1" target_id="0"/><barrier/></ptl_md></if>
        <if rank="0"><barrier/><check length="1" me_data="0xaa"/></if>
      </ptl_me>`);
    expect(runPortalsScript('ordered', ordered(5))).toMatchObject({ status: 'passed', ranks: 2 });
    expect(runPortalsScript('ordered', ordered(50))).toMatchObject({ status: 'passed', ranks: 2 });
    const r = runPortalsScript('missing', wrap('<if rank="0"><barrier/></if><if rank="1"/>'), { ranks: 2 });
    expect(r.status).toBe('failed');
    expect(r.reason).toMatch(/^rank 0: blocked forever/);
  });

  it('reports which rank failed which check', () => {
    const r = runPortalsScript('wrong', wrap(`
      <if rank="0"><ptl_md md_data="0x1"><barrier/><ptl_put length="4" match="2" target_id="1"/><ptl_eq_wait><check event_type="SEND"/></ptl_eq_wait><barrier/></ptl_md></if>
      <if rank="1"><ptl_me me_match="2" me_opt="OP_PUT EVENT_LINK_DISABLE"><barrier/><ptl_eq_wait><check event_type="GET"/></ptl_eq_wait><barrier/></ptl_me></if>`));
    expect(r).toMatchObject({ status: 'failed', ranks: 2 });
    expect(r.reason).toContain('rank 1: check event_type: got 2, expected 0');
    expect(r.reason).not.toContain('rank 0');
  });

  it('gives the same outcome and the same network traffic every run', () => {
    const text = readFileSync(join(SUITE, 'test_n4', 'ring.xml'), 'utf8');
    const a = runPortalsScript('ring', text, { ranks: 4 });
    expect(a.status).toBe('passed');
    expect(runPortalsScript('ring', text, { ranks: 4 })).toEqual(a);
  });

  it('refuses a rank count it cannot run with a reason', () => {
    expect(runPortalsScript('big', wrap('<barrier/>'), { ranks: 65 })).toMatchObject({ status: 'skipped', reason: '65 ranks: the runner runs 1 to 64' });
  });
});

describe('margay conformance portals4 --ranks', () => {
  const margay = (...args: string[]) => spawnSync(process.execPath, ['bin/margay.js', ...args], { encoding: 'utf8', timeout: 120_000 });

  it('runs a directory on the ranks asked for and says so in the JSON', () => {
    const r = margay('conformance', 'portals4', `${SUITE}/test_n4`, '--ranks', '4', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout) as { passed: number; total: number; scripts: { ranks: number }[] };
    expect(j.passed).toBe(j.total);
    expect(j.scripts.every((x) => x.ranks === 4)).toBe(true);
  });

  it('rejects a bad rank count with one line and exit code 2', () => {
    // Each run starts a node process: two bad values stand for the rest.
    for (const bad of ['65', 'two']) {
      const r = margay('conformance', 'portals4', `${SUITE}/test_n4`, '--ranks', bad);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([`margay conformance: --ranks must be a whole number from 1 to 64, got '${bad}'`]);
    }
  });
});
