// What a portals-rx handler is promised, as a definition table: the header
// words before the payload, its regions, its budget, its verdicts and its
// helpers by name (id and argument kinds). The kernel builds the hook from
// it; docs and userland/lib/abi.gen.ts are generated from it; the assembler
// resolves `call NAME` with it.

import type { HelperTable } from '../ext/helpers.ts';

/** The message header words the handler sees before the payload. */
export const CTX_FIELDS = ['match_bits', 'hdr_data', 'rlength', 'remote_offset', 'initiator_nid', 'initiator_pid', 'initiator_rank', 'pt_index'] as const;
export const CTX_HEADER_BYTES = 8 * CTX_FIELDS.length;

export const CTX_REGION = 2;
export const GRANT_REGION = 3;
/** Instructions one handler run may execute. */
export const EXT_BUDGET = 100_000;
export const VERDICT_DELIVER = 0;
export const VERDICT_DROP = 1;

/** The portals-rx hook's helpers: ids and argument kinds (the verifier's signatures and the engines' map both come from here). */
export const EXT_HELPERS = {
  now_ns: { id: 1, args: [] },
  forward: { id: 2, args: [{ kind: 'scalar' }, { kind: 'scalar' }, { kind: 'scalar' }, { kind: 'mem', write: false, sizeArg: 5 }, { kind: 'scalar' }] },
  reply: { id: 3, args: [{ kind: 'scalar' }, { kind: 'scalar' }, { kind: 'mem', write: false, sizeArg: 4 }, { kind: 'scalar' }] },
  atomic_add: { id: 4, args: [{ kind: 'mem', write: true, bytes: 8 }, { kind: 'scalar' }] },
} as const satisfies HelperTable;
