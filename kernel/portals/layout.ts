// How Portals structures are laid out in user memory: each field one
// little-endian 64-bit word, in this order. The kernel reads and writes them
// through copyin/copyout; userland/lib/portals.gen.ts is generated from this
// file so the library writes the same layout.

import { LIMIT_NAMES } from './defs.ts';

export const STRUCTS = {
  /** ptl_ni_limits_t */
  limits: LIMIT_NAMES,
  /** ptl_md_t */
  md: ['start', 'length', 'options', 'eq_handle', 'ct_handle'],
  /** ptl_me_t and ptl_le_t (an LE ignores the match fields) */
  entry: ['start', 'length', 'ct_handle', 'uid', 'options', 'match_id_nid', 'match_id_pid', 'match_bits', 'ignore_bits', 'min_free'],
  /** ptl_event_t; `initiator_nid` holds the rank on a logical NI */
  event: ['type', 'start', 'user_ptr', 'hdr_data', 'match_bits', 'rlength', 'mlength', 'remote_offset', 'uid', 'initiator_nid', 'initiator_pid', 'pt_index', 'ni_fail_type', 'atomic_operation', 'atomic_type', 'ptl_list'],
  /** ptl_ct_event_t */
  ct_event: ['success', 'failure'],
  /** ptl_process_t: nid and pid, or rank in the first word */
  process: ['nid', 'pid'],
} as const;

export type StructName = keyof typeof STRUCTS;

export function words(s: StructName): number {
  return STRUCTS[s].length;
}

export function field<S extends StructName>(s: S, name: (typeof STRUCTS)[S][number]): number {
  return (STRUCTS[s] as readonly string[]).indexOf(name);
}
