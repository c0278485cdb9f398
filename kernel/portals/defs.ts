// Portals 4 constants, as include/portals4.h of the reference
// implementation defines them: return codes, options, event types, atomic
// operations and datatypes. One table: the kernel uses it directly,
// userland/lib/portals.gen.ts is generated from it, and the conformance
// runner and the trace read their names (events, return codes, ni_fail,
// atomic operations) from the groups below, which PTL is built of.

/** A group of constants under a prefix, as PTL holds them (EVENT.PUT is PTL.EVENT_PUT). */
type Prefixed<P extends string, T> = { readonly [K in keyof T as `${P}${K & string}`]: T[K] };

function prefixed<P extends string, T extends Record<string, number>>(prefix: P, group: T): Prefixed<P, T> {
  return Object.fromEntries(Object.entries(group).map(([k, v]) => [prefix + k, v])) as Prefixed<P, T>;
}

/** Return codes of the Ptl* calls (PTL_OK, PTL_ARG_INVALID, ...). */
export const RC = {
  OK: 0, ARG_INVALID: 1, CT_NONE_REACHED: 2, EQ_DROPPED: 3, EQ_EMPTY: 4, FAIL: 5, IGNORED: 6, IN_USE: 7, INTERRUPTED: 8,
  LIST_TOO_LONG: 9, NO_INIT: 10, NO_SPACE: 11, PID_IN_USE: 12, PT_FULL: 13, PT_EQ_NEEDED: 14, PT_IN_USE: 15, ABORTED: 16,
} as const;

/**
 * An event's ni_fail_type (PTL_NI_OK, PTL_NI_UNDELIVERABLE, ...). TARGET_ENDED
 * is Margay's: the target process existed on its node and has ended, where
 * TARGET_INVALID says it has no interface (yet: a rank still loading), so an
 * initiator can stop waiting for a peer that will never come.
 */
export const NI_FAIL = {
  OK: 0, UNDELIVERABLE: 1, DROPPED: 2, PT_DISABLED: 3, PERM_VIOLATION: 4, OP_VIOLATION: 5, NO_MATCH: 6, SEGV: 7, TARGET_INVALID: 8,
  TARGET_ENDED: 9,
} as const;

/** Atomic operations (PTL_MIN, ..., PTL_MSWAP). */
export const ATOMIC_OP = {
  MIN: 0, MAX: 1, SUM: 2, PROD: 3, LOR: 4, LAND: 5, BOR: 6, BAND: 7, LXOR: 8, BXOR: 9, SWAP: 10, CSWAP: 11, CSWAP_NE: 12,
  CSWAP_LE: 13, CSWAP_LT: 14, CSWAP_GE: 15, CSWAP_GT: 16, MSWAP: 17,
} as const;

/** Event types (PTL_EVENT_GET, ...); each target event's *_OVERFLOW is the next value. */
export const EVENT = {
  GET: 0, GET_OVERFLOW: 1, PUT: 2, PUT_OVERFLOW: 3, ATOMIC: 4, ATOMIC_OVERFLOW: 5,
  FETCH_ATOMIC: 6, FETCH_ATOMIC_OVERFLOW: 7, REPLY: 8, SEND: 9, ACK: 10, PT_DISABLED: 11,
  LINK: 12, AUTO_UNLINK: 13, AUTO_FREE: 14, SEARCH: 15,
} as const;

/** The names of a group's values, by value (the trace names events by these). */
function namesOf(group: Readonly<Record<string, number>>): readonly string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(group)) out[v] = k;
  return out;
}

export const EVENT_NAMES = namesOf(EVENT);

export const PTL = {
  // return codes
  ...RC,
  // status registers
  SR_DROP_COUNT: 0, SR_PERMISSION_VIOLATIONS: 1, SR_OPERATION_VIOLATIONS: 2,
  // special values
  EQ_NONE: 0x3fffffff, CT_NONE: 0x5fffffff, INVALID_HANDLE: 0xffffffff, IFACE_DEFAULT: 0xffffffff,
  PID_ANY: 0xffff, NID_ANY: 0xffff, UID_ANY: 0xffffffff, PT_ANY: 0xffffffff, RANK_ANY: 0xffffffff, TIME_FOREVER: 0xffffffff,
  // NI options
  NI_MATCHING: 1, NI_NO_MATCHING: 2, NI_LOGICAL: 4, NI_PHYSICAL: 8,
  // ni_fail
  ...prefixed('NI_', NI_FAIL),
  // PT options
  PT_ONLY_USE_ONCE: 1, PT_FLOWCTRL: 2, PT_ONLY_TRUNCATE: 4, PT_ALLOC_DISABLED: 8, PT_MATCH_UNORDERED: 16,
  // MD options
  IOVEC: 1,
  MD_EVENT_SUCCESS_DISABLE: 2, MD_EVENT_SEND_DISABLE: 4, MD_EVENT_CT_SEND: 8, MD_EVENT_CT_REPLY: 16, MD_EVENT_CT_ACK: 32,
  MD_UNORDERED: 64, MD_VOLATILE: 128, MD_UNRELIABLE: 256, MD_EVENT_CT_BYTES: 512,
  // lists and search
  PRIORITY_LIST: 0, OVERFLOW_LIST: 1, SEARCH_ONLY: 0, SEARCH_DELETE: 1,
  // ME/LE options
  ME_OP_PUT: 2, ME_OP_GET: 4, ME_USE_ONCE: 8, ME_UNEXPECTED_HDR_DISABLE: 16, ME_IS_ACCESSIBLE: 32,
  ME_EVENT_LINK_DISABLE: 64, ME_EVENT_COMM_DISABLE: 128, ME_EVENT_FLOWCTRL_DISABLE: 256, ME_EVENT_SUCCESS_DISABLE: 512,
  ME_EVENT_OVER_DISABLE: 1024, ME_EVENT_UNLINK_DISABLE: 2048, ME_EVENT_CT_COMM: 4096, ME_EVENT_CT_OVERFLOW: 8192,
  ME_EVENT_CT_BYTES: 16384, ME_MANAGE_LOCAL: 32768, ME_NO_TRUNCATE: 65536, ME_MAY_ALIGN: 131072, ME_LOCAL_INC_UH_RLENGTH: 262144,
  // ack requests
  NO_ACK_REQ: 0, ACK_REQ: 1, CT_ACK_REQ: 2, OC_ACK_REQ: 3,
  // atomic operations
  ...ATOMIC_OP,
  // datatypes
  INT8_T: 0, UINT8_T: 1, INT16_T: 2, UINT16_T: 3, INT32_T: 4, UINT32_T: 5, FLOAT: 6, INT64_T: 7, UINT64_T: 8, DOUBLE: 9,
  FLOAT_COMPLEX: 10, DOUBLE_COMPLEX: 11, LONG_DOUBLE: 12, LONG_DOUBLE_COMPLEX: 13,
  // event types
  ...prefixed('EVENT_', EVENT),
  // CT types
  CT_OPERATION: 0, CT_BYTE: 1,
} as const;

/** Bytes per element of each datatype (long double is the x86 80-bit format in 16 bytes). */
export const TYPE_SIZE: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 8, 16, 16, 32];

/** The limits an NI grants when none are asked for (the reference implementation's ptl_param.c defaults, LP64). */
export const DEFAULT_LIMITS = {
  max_entries: 1024,
  max_unexpected_headers: 1024,
  max_mds: 1024,
  max_cts: 1024,
  max_eqs: 1024,
  max_pt_index: 63,
  max_iovecs: 1024,
  max_list_size: 1024,
  max_triggered_ops: 1024,
  max_msg_size: 4 * 2 ** 30,
  max_atomic_size: 512,
  max_fetch_atomic_size: 512,
  max_waw_ordered_size: 8,
  max_war_ordered_size: 8,
  max_volatile_size: 8,
  features: 0,
} as const;

export type LimitName = keyof typeof DEFAULT_LIMITS;
export const LIMIT_NAMES = Object.keys(DEFAULT_LIMITS) as LimitName[];
