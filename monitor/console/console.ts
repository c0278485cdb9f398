// The console: a blessed terminal monitor over the same command language as
// the plain-text monitor (monitor/session.ts). Panes: the mesh map, the
// selected node, the live trace, the job; a command line with history and
// completion; a help bar with the keys. Running never blocks drawing: the
// machine runs in slices of events between screen refreshes, and a refresh
// happens at most every REFRESH_MS, so a 10,368-node job stays responsive.

import blessed from 'blessed';
import type { StopReason } from '../../system/system.ts';
import type { TraceRecord } from '../../kernel/trace.ts';
import { parseTime } from '../../hw/time.ts';
import { ALIASES, COMMANDS, MonitorSession } from '../session.ts';
import { INITIAL_VIEW, type ViewState, selectCore, viewCommand } from './viewstate.ts';
import { CONSOLE_COMMANDS } from './viewstate.ts';
import { STATE_STYLE, jobPane, meshView, nodePane, tracePane } from './views.ts';

export { CONSOLE_COMMANDS };

const REFRESH_MS = 100;
const SLICE_EVENTS = 20_000;

export const KEYS: readonly { readonly keys: string[]; readonly label: string; readonly command: string }[] = [
  { keys: ['f5'], label: 'F5 cont', command: 'continue' },
  { keys: ['f6'], label: 'F6 finish', command: 'finish' },
  { keys: ['f7'], label: 'F7 step', command: 'step' },
  { keys: ['f8'], label: 'F8 next', command: 'next' },
  { keys: ['f9'], label: 'F9 back', command: 'reverse-step' },
  { keys: ['f10'], label: 'F10 over', command: 'over' },
];

// Fits 80 columns; docs/MONITOR.md lists every key.
const HELP_BAR = `${KEYS.map((k) => k.label).join(' ')}  Esc stop  F2/F3 zoom  F4 map`;

export interface ConsoleOptions {
  /** The boot command the console starts with. */
  readonly boot: string;
}

export async function runConsole(opts: ConsoleOptions): Promise<number> {
  const s = new MonitorSession();
  // Keys that work while the command line is reading input.
  const ignoreLocked = ['escape', 'C-c', ...KEYS.flatMap((k) => k.keys), 'f2', 'f3', 'f4'];
  const screen = blessed.screen({ smartCSR: true, title: 'margay', fullUnicode: true, autoPadding: true, ignoreLocked });
  const box = (o: blessed.Widgets.BoxOptions) => blessed.box({ parent: screen, border: { type: 'line' }, tags: true, ...o });
  const map = box({ top: 0, left: 0, width: '50%', height: '50%-1', label: ' mesh ' });
  const node = box({ top: 0, left: '50%', width: '50%', height: '50%-1', label: ' node ' });
  const trace = box({ top: '50%-1', left: 0, width: '50%', height: '50%-1', label: ' trace ' });
  const jobBox = box({ top: '50%-1', left: '50%', width: '50%', height: '50%-1', label: ' job ' });
  const log = blessed.box({ parent: screen, bottom: 2, left: 0, width: '100%', height: 1, tags: false });
  blessed.box({ parent: screen, bottom: 0, left: 0, width: '100%', height: 1, content: HELP_BAR, style: { fg: 'black', bg: 'white' } });
  const input = blessed.textbox({ parent: screen, bottom: 1, left: 0, width: '100%', height: 1, inputOnFocus: false, keys: true, style: { fg: 'white', bg: 'blue' } });

  let view: ViewState = INITIAL_VIEW;
  let message = '';
  let stoppedAt: TraceRecord | null = null;
  let running: { until?: number } | null = null;
  let lastDraw = 0;
  const history: string[] = [];
  let histPos = 0;

  // A command's output: one line goes to the message line; more replace the
  // node pane until the next command.
  let output: { title: string; lines: string[] } | null = null;
  const say = (lines: string[], title = 'output') => {
    if (lines.length === 0) return;
    message = lines[0];
    output = lines.length > 1 ? { title, lines } : null;
  };

  const draw = () => {
    lastDraw = Date.now();
    const sys = s.sys;
    if (sys === null) {
      map.setContent('no machine: boot --nodes 8');
    } else {
      const cols = Math.max(1, (map.width as number) - 2);
      const rows = Math.max(1, (map.height as number) - 3);
      const mv = meshView(sys, cols, rows, view.zoom, view.selected.node);
      const cells = mv.rows.map((row) =>
        row
          .map((c) => {
            if (view.heat) return c.heat === 0 ? '{gray-fg}.{/}' : `{${c.heat > 6 ? 'red' : c.heat > 3 ? 'yellow' : 'green'}-fg}${c.heat}{/}`;
            const st = STATE_STYLE[c.state];
            const mark = view.selected.node >= c.first && view.selected.node < c.first + mv.perCell;
            return mark ? `{inverse}{${st.colour}-fg}${st.ch}{/}{/inverse}` : `{${st.colour}-fg}${st.ch}{/}`;
          })
          .join(''),
      );
      const legend = view.heat ? 'link load 0-9' : (Object.keys(STATE_STYLE) as (keyof typeof STATE_STYLE)[]).filter((k) => mv.counts[k] > 0).map((k) => `${STATE_STYLE[k].ch}=${k} ${mv.counts[k]}`).join(' ');
      map.setLabel(` mesh: nodes ${mv.first}-${mv.last} of ${mv.nodes}, ${mv.perCell}/cell `);
      map.setContent([...cells, legend].join('\n'));
      const np = output ?? nodePane(sys, view.selected.node, view.selected.core);
      node.setLabel(` ${np.title} `);
      node.setContent(np.lines.map((l) => blessed.escape(l.slice(0, (node.width as number) - 2))).join('\n'));
      const rowsT = Math.max(1, (trace.height as number) - 2);
      const tp = tracePane(sys.trace.last(2000), view.filter, rowsT, stoppedAt);
      trace.setLabel(` trace${Object.keys(view.filter).length ? ` (${Object.entries(view.filter).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}, t=${sys.now / 1e6}us ${running ? 'RUNNING' : 'stopped'} `);
      const w = (trace.width as number) - 2;
      trace.setContent(tp.map((l) => (l.current ? `{inverse}${blessed.escape(l.line.slice(0, w))}{/inverse}` : blessed.escape(l.line.slice(0, w)))).join('\n'));
      jobBox.setContent(jobPane(sys, s.job, view.rank).lines.map((l) => blessed.escape(l.slice(0, (jobBox.width as number) - 2))).join('\n'));
    }
    log.setContent(message);
    screen.render();
  };

  const stopped = (stop: StopReason) => {
    running = null;
    stoppedAt = s.system.trace.last(1)[0] ?? null;
    if (stop.kind === 'breakpoint') {
      stoppedAt = stop.record;
      view = selectCore(view, stop.record.node, stop.record.core);
    }
    say(s.stopLines(stop).join('  ').split('\n'));
    output = null;
    draw();
  };

  // The machine runs in slices so that keys and drawing stay live.
  const slice = () => {
    if (running === null) return;
    const stop = s.runUntil({ maxEvents: SLICE_EVENTS, until: running.until });
    if (stop.kind !== 'events') {
      stopped(stop);
      return;
    }
    if (Date.now() - lastDraw >= REFRESH_MS) draw();
    setImmediate(slice);
  };

  // Esc or a typed `stop`: the run ends between slices.
  const stopRunning = () => {
    if (running === null) return;
    running = null;
    s.lastStop = { kind: 'user' };
    stoppedAt = s.sys?.trace.last(1)[0] ?? null;
    say([`stopped by the user at ${(s.sys?.now ?? 0) / 1e6} us`]);
    draw();
  };

  const startRunning = (until?: number) => {
    running = { until };
    message = until === undefined ? 'running (Esc stops)' : `running until ${until / 1e6} us (Esc stops)`;
    draw();
    setImmediate(slice);
  };

  const execute = async (line: string) => {
    const words = line.trim().split(/\s+/).filter((w) => w);
    if (words.length === 0) return;
    const name = ALIASES[words[0]] ?? words[0];
    if (running !== null && name === 'stop') return stopRunning();
    if (running !== null && name !== 'quit') {
      say(['running: Esc stops first']);
      return draw();
    }
    running = null;
    const own = viewCommand(view, words, s.sys?.machine.size ?? 1);
    if (own !== null) {
      view = own.view;
      say([own.line]);
      return draw();
    }
    // Long runs go in slices here; everything else is the monitor's own command.
    const runs = name === 'continue' || name === 'until' || name === 'run';
    if (runs && s.sys === null) {
      say(["error: no machine: 'boot' first (e.g. boot --nodes 8)"]);
      return draw();
    }
    try {
      if (name === 'continue') return startRunning();
      if (name === 'until') {
        const t = parseTime(words[1] ?? '');
        if (t < s.system.now) {
          say(await s.exec(line));
          return draw();
        }
        return startRunning(t);
      }
      if (name === 'run') {
        say(await s.exec(['load', ...words.slice(1)].join(' ')));
        if (!message.startsWith('error')) startRunning();
        return draw();
      }
    } catch (e) {
      say([`error: ${(e as Error).message}`]);
      return draw();
    }
    const result = await s.exec(line);
    if (['step', 'next', 'finish', 'over', 'reverse-step', 'reverse-continue', 'goto'].includes(name)) {
      // Stepping keeps the node pane on the core that took the step.
      message = result.map((l) => l.trim()).join('  ');
      output = null;
      stoppedAt = s.sys?.trace.last(1)[0] ?? null;
      if (stoppedAt) view = selectCore(view, stoppedAt.node, stoppedAt.core);
    } else say(result, words.join(' '));
    if (name === 'boot') view = INITIAL_VIEW;
    if (s.done) {
      screen.destroy();
      finish(0);
      return;
    }
    draw();
  };

  let finish: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    finish = resolve;
  });

  // The command line: one line read at a time; after each command it reads again.
  const readLine = () => {
    input.clearValue();
    input.focus();
    input.readInput();
    screen.render();
  };
  input.on('submit', (value: string) => {
    const line = value ?? '';
    if (line.trim()) {
      history.push(line);
      histPos = history.length;
    }
    void execute(line).then(() => {
      if (!s.done) readLine();
    });
  });
  input.on('cancel', () => {
    if (!s.done) readLine();
  });

  for (const k of KEYS) {
    screen.key(k.keys, () => {
      if (running === null) void execute(k.command);
    });
  }
  screen.key(['escape'], () => stopRunning());
  const viewKey = (words: string[]) => () => {
    view = viewCommand(view, words, s.sys?.machine.size ?? 1)?.view ?? view;
    draw();
  };
  screen.key(['f2'], viewKey(['zoom', 'in']));
  screen.key(['f3'], viewKey(['zoom', 'out']));
  screen.key(['f4'], () => viewKey(['map', view.heat ? 'state' : 'heat'])());
  screen.key(['C-c'], () => {
    screen.destroy();
    finish(0);
  });
  input.key(['up', 'down'], (_ch, key) => {
    if (history.length === 0) return;
    histPos = Math.max(0, Math.min(history.length, histPos + (key.name === 'up' ? -1 : 1)));
    input.setValue(history[histPos] ?? '');
    screen.render();
  });
  input.key(['tab'], () => {
    const v = input.getValue().replace(/\t/g, '');
    const names = [...Object.keys(COMMANDS), ...Object.keys(CONSOLE_COMMANDS).map((c) => c.split(' ')[0])];
    const hits = names.filter((n) => n.startsWith(v.trim()));
    if (hits.length === 1) input.setValue(hits[0] + ' ');
    else {
      input.setValue(v);
      say([hits.join(' ') || 'no completion']);
      log.setContent(message);
    }
    screen.render();
  });
  screen.on('resize', draw);

  say(await s.exec(opts.boot));
  draw();
  readLine();
  return done;
}
