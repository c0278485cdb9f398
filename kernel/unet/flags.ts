// Flags of unet_create (kernel/syscalls/table.ts), generated into userland/lib/unet.gen.ts.

export const UNET_CREATE_FLAGS = {
  /** Raise the upcall interrupt when the receive queue becomes non-empty (unet_wait needs it). */
  UPCALL: 1,
  /** Also interrupt the owner's computation: a thread of the owner computing on the interrupted core resumes in its message handler (issue 13, interrupt-driven Active Messages). */
  USER_UPCALL: 2,
} as const;
