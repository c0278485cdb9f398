// Portals 4 constants, as include/portals4.h of the reference
// implementation defines them: return codes, options, event types, atomic
// operations and datatypes. One table: the kernel uses it directly and
// userland/lib/portals.gen.ts is generated from it.

export const PTL = {
  // return codes
  OK: 0, ARG_INVALID: 1, CT_NONE_REACHED: 2, EQ_DROPPED: 3, EQ_EMPTY: 4, FAIL: 5, IGNORED: 6, IN_USE: 7, INTERRUPTED: 8,
  LIST_TOO_LONG: 9, NO_INIT: 10, NO_SPACE: 11, PID_IN_USE: 12, PT_FULL: 13, PT_EQ_NEEDED: 14, PT_IN_USE: 15, ABORTED: 16,
  // status registers
  SR_DROP_COUNT: 0, SR_PERMISSION_VIOLATIONS: 1, SR_OPERATION_VIOLATIONS: 2,
  // special values
  EQ_NONE: 0x3fffffff, CT_NONE: 0x5fffffff, INVALID_HANDLE: 0xffffffff, IFACE_DEFAULT: 0xffffffff,
  PID_ANY: 0xffff, NID_ANY: 0xffff, UID_ANY: 0xffffffff, PT_ANY: 0xffffffff, RANK_ANY: 0xffffffff, TIME_FOREVER: 0xffffffff,
  // NI options
  NI_MATCHING: 1, NI_NO_MATCHING: 2, NI_LOGICAL: 4, NI_PHYSICAL: 8,
  // ni_fail
  NI_OK: 0, NI_UNDELIVERABLE: 1, NI_DROPPED: 2, NI_PT_DISABLED: 3, NI_PERM_VIOLATION: 4, NI_OP_VIOLATION: 5, NI_NO_MATCH: 6, NI_SEGV: 7, NI_TARGET_INVALID: 8,
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
  MIN: 0, MAX: 1, SUM: 2, PROD: 3, LOR: 4, LAND: 5, BOR: 6, BAND: 7, LXOR: 8, BXOR: 9, SWAP: 10, CSWAP: 11, CSWAP_NE: 12,
  CSWAP_LE: 13, CSWAP_LT: 14, CSWAP_GE: 15, CSWAP_GT: 16, MSWAP: 17,
  // datatypes
  INT8_T: 0, UINT8_T: 1, INT16_T: 2, UINT16_T: 3, INT32_T: 4, UINT32_T: 5, FLOAT: 6, INT64_T: 7, UINT64_T: 8, DOUBLE: 9,
  FLOAT_COMPLEX: 10, DOUBLE_COMPLEX: 11, LONG_DOUBLE: 12, LONG_DOUBLE_COMPLEX: 13,
  // event types
  EVENT_GET: 0, EVENT_GET_OVERFLOW: 1, EVENT_PUT: 2, EVENT_PUT_OVERFLOW: 3, EVENT_ATOMIC: 4, EVENT_ATOMIC_OVERFLOW: 5,
  EVENT_FETCH_ATOMIC: 6, EVENT_FETCH_ATOMIC_OVERFLOW: 7, EVENT_REPLY: 8, EVENT_SEND: 9, EVENT_ACK: 10, EVENT_PT_DISABLED: 11,
  EVENT_LINK: 12, EVENT_AUTO_UNLINK: 13, EVENT_AUTO_FREE: 14, EVENT_SEARCH: 15,
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
