import { describe, expect, it } from 'vitest';
import { helperMap, helperSpecs } from '../../kernel/ext/helpers.ts';
import { conformanceHook } from '../../kernel/ext/hooks.ts';
import { EXT_HELPERS, portalsRxHook } from '../../kernel/portals/extension.ts';

describe('a hook\'s helper table', () => {
  it('gives the verifier and the engines the same helper under the same id', () => {
    const table = { first: { id: 7, args: [] }, second: { id: 9, args: [{ kind: 'scalar' }], unwindOnZero: true } } as const;
    const map = helperMap(table, { first: () => 1n, second: (r) => r.get(1) });
    expect(helperSpecs(table).map((h) => [h.id, h.name, map.get(h.id)?.name])).toEqual([
      [7, 'first', 'first'],
      [9, 'second', 'second'],
    ]);
    expect(map.get(9)?.unwindOnZero).toBe(true);
    expect(map.get(7)?.unwindOnZero).toBeUndefined();
  });

  it('names the portals-rx helpers once: the hook offers each by the id in EXT_HELPERS', () => {
    const offered = portalsRxHook(64, 8).helpers.map((h) => [h.name, h.id]);
    expect(Object.fromEntries(offered)).toEqual(Object.fromEntries(Object.entries(EXT_HELPERS).map(([name, h]) => [name, h.id])));
    expect(new Set(offered.map(([, id]) => id)).size).toBe(offered.length);
  });

  it('offers the conformance suite its unwind helper as id 5, which stops the program on zero', () => {
    const { hook, helpers } = conformanceHook(0);
    expect(hook.helpers.map((h) => [h.id, h.name])).toEqual([[5, 'unwind']]);
    expect(helpers.get(5)?.unwindOnZero).toBe(true);
  });
});
