import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { ENTRY_START } from '../../kernel/abi.ts';
import { ELF_HEADER_BYTES, PHDR_BYTES, buildImage, parseImage } from '../../kernel/job/image.ts';
import { System } from '../../system/system.ts';
import { imageOf, launch } from '../../monitor/launch.ts';
import { buildReport } from '../../monitor/report.ts';
import { APPS } from '../../userland/apps/index.ts';

const contents = { name: 'demo', text: new TextEncoder().encode('margay-text 1\0demo\0function* main() {}\0'), textBytes: 64 * 1024, data: new Uint8Array([1, 2, 3, 4]), dataBytes: 4096, bssBytes: 8192 };

const ENTRY = 24;
const memsz = (phdr: number) => ELF_HEADER_BYTES + phdr * PHDR_BYTES + 40;
/** Where the program's name starts in an image: the note's description, after its 4-byte length. */
function nameAt(b: Uint8Array, name: string): number {
  const n = new TextEncoder().encode(name);
  for (let i = b.length - 32 - n.length; i >= 0; i--) if (n.every((x, j) => b[i + j] === x)) return i;
  return -1;
}

function reason(b: Uint8Array): string {
  const r = parseImage(b);
  return r.ok ? 'ok' : r.reason;
}

describe('image integrity', () => {
  const good = buildImage(contents);

  it('refuses an image whose program name in the note was changed', () => {
    const b = good.slice();
    const at = nameAt(b, 'demo');
    expect(new TextDecoder().decode(b.subarray(at, at + 4))).toBe('demo');
    b[at] = 'x'.charCodeAt(0);
    expect(reason(b)).toMatch(/content hash mismatch/);
  });

  it('refuses an image whose text memory size was changed within its page', () => {
    const b = good.slice();
    const dv = new DataView(b.buffer);
    dv.setBigUint64(memsz(0), dv.getBigUint64(memsz(0), true) - 8n, true);
    expect(reason(b)).toMatch(/content hash mismatch/);
  });

  it('refuses an image whose BSS size was changed', () => {
    const b = good.slice();
    const dv = new DataView(b.buffer);
    dv.setBigUint64(memsz(1), dv.getBigUint64(memsz(1), true) + 4096n, true);
    expect(reason(b)).toMatch(/content hash mismatch/);
  });

  it('refuses an entry point other than the start of the text, where every program begins', () => {
    const b = good.slice();
    new DataView(b.buffer).setBigUint64(ENTRY, BigInt(ENTRY_START + 16), true);
    expect(reason(b)).toMatch(/entry point 0x400010 is not the start of the text \(0x400000\)/);
  });

  it('still accepts the image as built, with its entry at the start of the text', () => {
    const r = parseImage(good);
    expect(r.ok && r.image.entry).toBe(ENTRY_START);
  });

  for (const [what, at] of [
    ['BSS size', memsz(1)],
    ['entry point', ENTRY],
    ['program name', -1],
  ] as const) {
    it(`refuses to run an executable whose ${what} was changed on the service node's disk`, () => {
      const exe = imageOf(APPS.hello);
      const offset = at >= 0 ? at : nameAt(exe, 'hello');
      const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [3] }, seed: 1 });
      sys.trace.enabled = false;
      const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [APPS.hello], map: [{ firstNid: 0, count: 2, image: 0 }], argv: [], timeoutUs: 200_000, corruptImageByte: offset });
      const stop = sys.run({ done: () => sys.jobDone(job), until: 5e12 });
      const r = buildReport(sys, job, stop, null, 0);
      expect(r.job.status).toBe('failed');
      expect(r.yod?.stderr).toMatch(/bad executable: (content hash mismatch|entry point)/);
      expect(r.ranks.every((k) => k.stdout === '')).toBe(true);
    });
  }
});
