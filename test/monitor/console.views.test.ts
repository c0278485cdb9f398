import { describe, expect, it } from 'vitest';
import { getProfile } from '../../hw/profile.ts';
import { System } from '../../system/system.ts';
import { INITIAL_VIEW, selectCore, viewCommand } from '../../monitor/console/viewstate.ts';
import { jobPane, meshView, nodePane, nodeState, tracePane } from '../../monitor/console/views.ts';
import { launch } from '../../monitor/launch.ts';
import { traceEvents } from '../../monitor/perfetto.ts';
import { APPS } from '../../userland/apps/index.ts';

function loaded(nodes: number, app = APPS.hello, dims = [nodes]) {
  const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims }, seed: 1 });
  sys.trace.enabled = true;
  const job = launch(sys, { load: 'two-phase', fanout: { kind: 'binomial' }, programs: [app], map: [{ firstNid: 0, count: nodes - 1, image: 0 }], argv: [], timeoutUs: 1_000_000 });
  return { sys, job };
}

describe('the console view models', () => {
  it('fold a 10,368-node machine into the map, one state per cell, counting every node', () => {
    const sys = new System({ profile: getProfile('redstorm'), shape: { kind: 'mesh', dims: [27, 16, 24] }, seed: 1 });
    const v = meshView(sys, 58, 14);
    expect(v.perCell).toBe(13);
    expect(v.rows.flat().length).toBe(Math.ceil(10368 / 13));
    expect(v.counts.off).toBe(10368);
    const zoomed = meshView(sys, 58, 14, 4, 5000);
    expect(zoomed.perCell).toBe(1);
    expect(zoomed.first).toBeLessThanOrEqual(5000);
    expect(zoomed.last).toBeGreaterThanOrEqual(5000);
  });

  it('show loading nodes during the load, a down node as failed, and link heat after traffic', () => {
    const { sys, job } = loaded(9, APPS.hello, [3, 3]);
    sys.machine.network.setNodeDown(5, true);
    sys.run({ until: 40e6 });
    expect(nodeState(sys, 5)).toBe('failed');
    const during = meshView(sys, 20, 2);
    expect(during.counts.loading + during.counts.kernel + during.counts.interrupt).toBeGreaterThan(0);
    sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    expect(meshView(sys, 20, 2).rows.flat().some((c) => c.heat > 0)).toBe(true);
  });

  it('show a core\'s registers, APIC, TLB and the Portals tables of its process', () => {
    const { sys } = loaded(5, APPS.ring);
    sys.run({ until: 150e6 });
    const pane = nodePane(sys, 1, 0).lines.join('\n');
    expect(pane).toMatch(/rip=0x[0-9a-f]+ rsp=0x[0-9a-f]+ rax=0x/);
    expect(pane).toMatch(/lapic pending (none|[a-z-]+(,[a-z-]+)*), in service (none|[a-z-]+(,[a-z-]+)*)\n  IPIs sent \d+ received \d+/);
    expect(pane).toMatch(/tlb \d+\/512, hit/);
    expect(pane).toMatch(/ni\d pt\d+:\d+\/\d+/);
  });

  it('filter the trace and mark the record the machine stopped at', () => {
    const { sys } = loaded(5);
    sys.addBreakpoint({ pattern: 'jobload/create', node: 2 });
    const stop = sys.run({ until: 5e12 });
    expect(stop.kind).toBe('breakpoint');
    const rec = stop.kind === 'breakpoint' ? stop.record : null;
    const lines = tracePane(sys.trace.last(), { node: 2 }, 10, rec);
    expect(lines.every((l) => / 2\.\d /.test(l.line))).toBe(true);
    expect(lines.at(-1)).toMatchObject({ current: true });
    expect(lines.at(-1)!.line).toMatch(/jobload\/create pid 100 init/);
    expect(tracePane(sys.trace.last(), { path: 'jobload' }, 100, null).every((l) => l.line.includes(' jobload/'))).toBe(true);
  });

  it('give the job\'s phases, ranks by state and a rank\'s output', () => {
    const { sys, job } = loaded(5);
    sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    const lines = jobPane(sys, job, 2).lines.join('\n');
    expect(lines).toMatch(/load [\d.]+ us {2}start [\d.]+ us {2}run [\d.]+ (us|ns) {2}exit [\d.]+ us/);
    expect(lines).toMatch(/ranks: exited 0 4/);
    expect(lines).toMatch(/\| hello from rank 2 of 4/);
  });
});

describe('the trace export', () => {
  it('has a process per node, a thread per core, kernel paths as slices and messages as flow arrows', () => {
    const { sys, job } = loaded(4);
    sys.run({ done: () => sys.jobDone(job), until: 5e12 });
    const doc = traceEvents(sys.trace.last(), sys.messages, 2);
    const ev = doc.traceEvents;
    const names = ev.filter((e) => e.ph === 'M' && e.name === 'process_name').map((e) => e.args!.name);
    expect(names).toEqual(['node 0', 'node 1', 'node 2', 'node 3']);
    expect(ev.some((e) => e.ph === 'X' && e.cat === 'path' && e.name === 'jobload')).toBe(true);
    expect(ev.some((e) => e.ph === 'X' && e.cat === 'jobload' && e.name === 'create' && e.dur! > 0)).toBe(true);
    const starts = ev.filter((e) => e.ph === 's');
    const ends = new Map(ev.filter((e) => e.ph === 'f').map((e) => [e.id, e]));
    expect(starts.length).toBe(sys.messages.length);
    for (const s of starts) {
      const f = ends.get(s.id)!;
      expect(f.ts!).toBeGreaterThanOrEqual(s.ts!);
    }
    expect(JSON.parse(JSON.stringify(doc)).displayTimeUnit).toBe('ns');
  });
});

describe('the console\'s view state', () => {
  it('changes only through console commands, each giving a new frozen snapshot', () => {
    const a = INITIAL_VIEW;
    const b = viewCommand(a, ['select', '7.1'], 16)!;
    expect(b.view.selected).toEqual({ node: 7, core: 1 });
    expect(a.selected).toEqual({ node: 0, core: 0 });
    expect(Object.isFrozen(b.view)).toBe(true);
    const c = viewCommand(b.view, ['filter', 'node', '3', 'path', 'jobload'], 16)!;
    expect(c.view.filter).toEqual({ node: 3, path: 'jobload' });
    expect(viewCommand(c.view, ['filter'], 16)!.view.filter).toEqual({});
    expect(viewCommand(a, ['zoom', 'out'], 16)!.view.zoom).toBe(0);
    expect(viewCommand(a, ['map', 'heat'], 16)!.view.heat).toBe(true);
    expect(selectCore(a, 2, 1).selected).toEqual({ node: 2, core: 1 });
  });

  it('refuses a trace filter on a path that does not exist (it would hide every record)', () => {
    const r = viewCommand(INITIAL_VIEW, ['filter', 'path', 'jobloda'], 16)!;
    expect(r.line).toBe("error: no kernel path 'jobloda' (did you mean 'jobload'?)");
    expect(r.view).toBe(INITIAL_VIEW);
  });

  it('refuses bad arguments without changing the view, and leaves other commands to the monitor', () => {
    for (const words of [['select', '99'], ['filter', 'node'], ['filter', 'colour', 'red'], ['rank', 'x'], ['zoom', 'sideways'], ['map', 'pink']]) {
      const r = viewCommand(INITIAL_VIEW, words, 16)!;
      expect(r.line, words.join(' ')).toMatch(/^error: /);
      expect(r.view).toBe(INITIAL_VIEW);
    }
    expect(viewCommand(INITIAL_VIEW, ['continue'], 16)).toBeNull();
  });
});
