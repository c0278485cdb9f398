// What the console shows, as an immutable snapshot: the selected node and
// core, the trace filter, the rank whose output is shown, the map's zoom and
// mode. Console-only commands are a pure function from one snapshot to the
// next (immer's produce), so they are tested without a terminal.

import { type Immutable, produce } from 'immer';
import { isTracePath, TRACE_PATHS } from '../../kernel/tracepaths.ts';
import { didYouMean } from '../debugger/words.ts';
import type { TraceFilter } from './views.ts';

export type ViewState = Immutable<{
  selected: { node: number; core: number };
  filter: TraceFilter;
  rank: number;
  zoom: number;
  heat: boolean;
}>;

export const INITIAL_VIEW: ViewState = { selected: { node: 0, core: 0 }, filter: {}, rank: 0, zoom: 0, heat: false };

/** Usage and meaning of each console-only command (docs/MONITOR.md is generated from this). */
export const CONSOLE_COMMANDS: Readonly<Record<string, string>> = {
  'select N[.C]': 'show node N (core C) in the node pane and centre the map on it',
  'filter [node N] [core C] [path P] [pid P]': 'filter the trace pane (no arguments: clear)',
  'rank R': "show rank R's output in the job pane",
  'zoom in|out': 'fewer or more nodes per map cell',
  'map state|heat': 'colour the map by node state or by link load',
};

/**
 * Applies a console-only command to the view. Returns the new view and the
 * line to show, or null when `words` is not a console command.
 */
export function viewCommand(view: ViewState, words: readonly string[], nodes: number): { view: ViewState; line: string } | null {
  const [name, ...args] = words;
  const ok = (line: string, recipe: (d: { -readonly [K in keyof ViewState]: ViewState[K] } & { filter: TraceFilter; selected: { node: number; core: number } }) => void) => ({ view: produce(view, recipe), line });
  switch (name) {
    case 'select': {
      const m = /^(\d+)(?:\.(\d+))?$/.exec(args[0] ?? '');
      if (m === null || Number(m[1]) >= nodes) return { view, line: `error: select N or N.C with N in 0..${nodes - 1}` };
      return ok(`node ${m[1]} core ${m[2] ?? 0}`, (d) => {
        d.selected = { node: Number(m[1]), core: Number(m[2] ?? 0) };
      });
    }
    case 'filter': {
      const f: TraceFilter = {};
      for (let i = 0; i < args.length; i += 2) {
        const v = args[i + 1];
        if (v === undefined) return { view, line: 'error: filter [node N] [core C] [path P] [pid P]' };
        if (args[i] === 'path') {
          if (!isTracePath(v)) {
            const near = didYouMean(v, Object.keys(TRACE_PATHS));
            return { view, line: `error: no kernel path '${v}'${near ? ` (did you mean '${near}'?)` : ''}` };
          }
          f.path = v;
        }
        else if ((args[i] === 'node' || args[i] === 'core' || args[i] === 'pid') && /^\d+$/.test(v)) f[args[i] as 'node' | 'core' | 'pid'] = Number(v);
        else return { view, line: `error: bad filter '${args[i]} ${v}'` };
      }
      return ok(Object.keys(f).length ? 'trace filtered' : 'trace filter cleared', (d) => {
        d.filter = f;
      });
    }
    case 'rank':
      if (!/^\d+$/.test(args[0] ?? '')) return { view, line: 'error: rank R' };
      return ok(`showing rank ${args[0]}`, (d) => {
        d.rank = Number(args[0]);
      });
    case 'zoom':
      if (args[0] !== 'in' && args[0] !== 'out') return { view, line: 'error: zoom in or zoom out' };
      return ok(`zoom ${Math.max(0, view.zoom + (args[0] === 'in' ? 1 : -1))}`, (d) => {
        d.zoom = Math.max(0, d.zoom + (args[0] === 'in' ? 1 : -1));
      });
    case 'map':
      if (args[0] !== 'state' && args[0] !== 'heat') return { view, line: 'error: map state or map heat' };
      return ok(`map shows ${args[0] === 'heat' ? 'link load' : 'node state'}`, (d) => {
        d.heat = args[0] === 'heat';
      });
    default:
      return null;
  }
}

/** Selects the node and core a stop happened on. */
export function selectCore(view: ViewState, node: number, core: number): ViewState {
  return produce(view, (d) => {
    d.selected = { node, core };
  });
}
