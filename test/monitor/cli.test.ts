import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../monitor/cli.ts';

const BIN = resolve('bin/margay.js');

function margay(...args: string[]) {
  return margayIn(process.cwd(), ...args);
}

function margayIn(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A folder outside the checkout with nothing in it but the files given. */
function userFolder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'margay-user-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const CHATTY = `import { program } from 'margay/userland';
export default program('chatty', function* main(env) {
  for (let i = 1; i <= 12; i++) yield* env.sys.print(\`line \${i}\\n\`);
  return 0;
});
`;

describe('the margay command line', () => {
  it('prints help for the whole tool and for every command', async () => {
    const top = margay('--help');
    expect(top.code).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}(\w+) {2,}/gm)].map((m) => m[1]);
    expect(commands).toEqual(expect.arrayContaining(['start', 'machine', 'docs']));
    // Each command's help from the CLI's own entry point in this process (a
    // node process per command cost 20 s of this file); the spawn above
    // covers bin/margay.js itself.
    for (const c of commands) {
      const written: string[] = [];
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);
      const code = await main([c, '--help']);
      write.mockRestore();
      expect(code, c).toBe(0);
      expect(written.join(''), c).toMatch(/^usage: margay /);
    }
  });

  it('rejects an unknown flag with one line and exit code 2', () => {
    const r = margay('machine', '--frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["margay machine: unknown option '--frobnicate'"]);
    expect(r.stdout).toBe('');
  });

  it('rejects a bad profile value with one line naming it', () => {
    const r = margay('machine', '--set', 'net.linkBandwidth=0');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/net.linkBandwidth must be between/);
  });

  it('rejects an unknown command and a bad shape', () => {
    expect(margay('frob').code).toBe(2);
    const r = margay('machine', '--shape', 'ring:3');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read shape 'ring:3'/);
  });

  it('prints only JSON on stdout with --json', () => {
    const r = margay('machine', '--json', '--shape', 'torus:27x16x24');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.nodes).toBe(10368);
    expect(doc.diameter).toBe(13 + 8 + 12);
    expect(doc.parameters['net.linkBandwidth'].value).toBe(2e9);
  });

  it('describes Red Storm by default', () => {
    const doc = JSON.parse(margay('machine', '--json').stdout);
    expect(doc).toMatchObject({ profile: 'redstorm', shape: 'mesh:27x16x24', nodes: 10368, diameter: 64 });
  });

  it('lists both conformance suites in the top-level help', () => {
    expect(margay('--help').stdout).toMatch(/conformance +.*ebpf.*portals4/);
  });

  it('shows the file, line and column of a syntax error in the user\'s program', () => {
    const dir = userFolder({ 'bad.ts': "import { program } from 'margay/userland';\nexport default program('x', function* main() {\n  const a = ;\n  return 0;\n});\n" });
    const r = margayIn(dir, 'run', './bad.ts', '--nodes', '1');
    expect(r.code).toBe(2);
    // Column 13 counted from 1, as editors and tsc count: the ';' of '  const a = ;'.
    expect(r.stderr.trim().split('\n')).toEqual([`margay run: cannot load ./bad.ts: ${join(dir, 'bad.ts')}:3:13: Unexpected ";"`]);
  });

  it('says a directory is not a program, and runs the image margay image wrote', () => {
    const dir = userFolder({});
    const d = margay('run', dir);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/is a directory: name a program file/);
    expect(margayIn(dir, 'image', 'hello', '-o', 'hello.elf').code).toBe(0);
    const r = margayIn(dir, 'run', 'hello.elf', '--nodes', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^hello on 2 rank\(s\).*COMPLETED/);
  });

  it('refuses to run an image of a program whose code it does not have, saying to run the source', () => {
    const dir = userFolder({ 'chatty.ts': CHATTY });
    expect(margayIn(dir, 'image', './chatty.ts', '-o', 'chatty.elf').code).toBe(0);
    const r = margayIn(dir, 'run', './chatty.elf', '--nodes', '1');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual(["margay run: ./chatty.elf is an image of 'chatty', whose code is not one of Margay's apps: run the program's source file instead (margay run ./chatty.ts)"]);
  });

  it('refuses output files in a missing folder or that are directories, with one line and exit code 2', () => {
    const dir = userFolder({});
    const cases: [string[], RegExp][] = [
      [['run', 'hello', '--nodes', '1', '--trace', join(dir, 'no/t.jsonl')], /^margay run: --trace: cannot write .*no\/t.jsonl: no such folder/],
      [['run', 'hello', '--nodes', '1', '--trace', dir], /^margay run: --trace: .* is a directory: name a file in it$/],
      [['image', 'hello', '-o', join(dir, 'no/hello.elf')], /^margay image: -o: cannot write .*: no such folder/],
      [['image', 'hello', '-o', dir], /^margay image: -o: .* is a directory/],
      [['sweep', '--svg', join(dir, 'no/c.svg')], /^margay sweep: --svg: cannot write .*: no such folder/],
      [['sweep', '-o', dir, '--counts', '1'], /^margay sweep: -o: .* is a directory/],
    ];
    for (const [args, message] of cases) {
      const r = margay(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr.trim(), args.join(' ')).toMatch(message);
    }
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('refuses a node count of 0 in sweep --counts', () => {
    const r = margay('sweep', '--counts', '0-3');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("margay sweep: --counts: '0-3' must name node counts from 1 to 100000, low to high");
  });

  it('says how many output lines the summary leaves out, and shows them with --lines', () => {
    const dir = userFolder({ 'chatty.ts': CHATTY });
    const short = margayIn(dir, 'run', './chatty.ts', '--nodes', '1');
    expect(short.code, short.stderr).toBe(0);
    expect(short.stdout).toContain('    | line 8\n    | ... 4 more line(s) (margay run --lines N or --lines all shows more; --json has all)\n');
    expect(short.stdout).not.toContain('line 9');
    const all = margayIn(dir, 'run', './chatty.ts', '--nodes', '1', '--lines', 'all');
    expect(all.stdout).toContain('    | line 12\n');
    expect(all.stdout).not.toContain('more line(s)');
    expect(margayIn(dir, 'run', './chatty.ts', '--nodes', '1', '--lines', '3').stdout).toContain('    | line 3\n    | ... 9 more line(s)');
    expect(margay('run', 'hello', '--lines', 'many').stderr.trim()).toBe("margay run: --lines must be a count (0..1000000) or 'all', got 'many'");
  });

  it('runs a program saved in an empty folder outside the checkout that imports margay/userland by name', () => {
    const dir = userFolder({ 'chatty.ts': CHATTY });
    const r = margayIn(dir, 'run', 'chatty.ts', '--nodes', '2');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^chatty on 2 rank\(s\).*COMPLETED/);
    // ... and the same file in an ES-module package of the user's own.
    mkdirSync(join(dir, 'esm'));
    writeFileSync(join(dir, 'esm/package.json'), '{ "type": "module" }\n');
    writeFileSync(join(dir, 'esm/chatty.ts'), CHATTY);
    expect(margayIn(join(dir, 'esm'), 'run', 'chatty.ts', '--nodes', '1').code).toBe(0);
  });

  it('type-checks the program with --check, runs it when it checks and lists type errors when not', () => {
    const dir = userFolder({ 'ok.ts': CHATTY, 'typo.ts': CHATTY.replace('for (let i = 1;', "const s: string = yield* env.sys.getrank();\n  for (let i = 1;") });
    const ok = margayIn(dir, 'run', 'ok.ts', '--nodes', '1', '--check');
    expect(ok.code, ok.stderr).toBe(0);
    const bad = margayIn(dir, 'run', 'typo.ts', '--nodes', '1', '--check');
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr.trim().split('\n')).toEqual([
      'margay run: --check: 1 type error(s) in typo.ts; nothing was run:',
      `${join(dir, 'typo.ts')}:3:9: error TS2322: Type 'number' is not assignable to type 'string'.`,
    ]);
    // Without --check the same program runs (types are stripped, not checked).
    expect(margayIn(dir, 'run', 'typo.ts', '--nodes', '1').code).toBe(0);
  });

  it('ends quietly when the reader of its output stops reading (margay run ... | head -1)', () => {
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${BIN}" run hello --nodes 16 | head -1`], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout).toMatch(/^hello on 16 rank\(s\)/);
    expect(r.stderr).toBe('');
  });
});
