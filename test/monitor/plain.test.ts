import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const margay = (args: string[], input?: string) => spawnSync(process.execPath, ['bin/margay.js', 'monitor', ...args], { encoding: 'utf8', timeout: 120_000, input });

describe('the plain-text monitor from scripts and standard input', () => {
  const examples = readdirSync('examples/monitor').filter((f) => f.endsWith('.txt'));

  it('ships example scripts, the one README names among them', () => {
    expect(examples).toEqual(expect.arrayContaining(['demo.txt', 'memory.txt', 'reverse.txt']));
  });

  for (const f of examples) {
    it(`runs examples/monitor/${f} to the end without an error`, () => {
      const r = margay(['--script', `examples/monitor/${f}`]);
      expect(r.stdout).not.toMatch(/^error:/m);
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/\(margay\) quit\n$/);
    }, 60_000);
  }

  it('echoes each command read from a pipe after the prompt, so output can be matched to it', () => {
    const r = margay([], 'boot --nodes 2\nload hello\nstep 2\nfrob\n');
    expect(r.stdout).toMatch(/^\(margay\) boot --nodes 2\nbooted redstorm .*\n\(margay\) load hello\njob 1: .*\n\(margay\) step 2\n2 event\(s\), now .*\n(.*\n)?\(margay\) frob\nerror: unknown command 'frob'/);
  });

  it('answers --json with one JSON object a command', () => {
    const r = margay(['--json'], 'boot --nodes 2\nload hello\nstep 5\ninfo cpu 0.0\nx/1xg 0x400000\n');
    const objs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs.map((o) => o.command)).toEqual(['boot --nodes 2', 'load hello', 'step 5', 'info cpu 0.0', 'x/1xg 0x400000']);
    expect(objs.map((o) => o.ok)).toEqual([true, true, true, true, false]);
    expect(objs[2]).toMatchObject({ events: 5, data: { fired: 5 } });
    expect(objs[3]).toMatchObject({ data: { node: 0, core: 0 } });
    expect(objs[4].error).toMatch(/no current process on node 0/);
  });

  it('ends a running continue when stop is typed while it runs', async () => {
    const child = spawn(process.execPath, ['bin/margay.js', 'monitor', '--plain'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => (out += d));
    child.stdin.write('boot --nodes 4096\nload hello\ncontinue\n');
    const until = async (re: RegExp) => {
      const end = Date.now() + 60_000;
      while (!re.test(out) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    };
    await until(/\(margay\) continue\n/);
    child.stdin.write('stop\n');
    await until(/stopped: /);
    child.stdin.end('info job\nquit\n');
    await new Promise((r) => child.on('close', r));
    expect(out).toMatch(/\(margay\) stop\nstopped: by stop at [\d.]+ (us|ms) \(event \d+\)\n/);
    expect(out).toMatch(/INCOMPLETE \(stopped by the user at /);
  }, 90_000);
});
