// Flags of unet_create (kernel/syscalls/table.ts), generated into userland/lib/unet.gen.ts.

export const UNET_CREATE_FLAGS = {
  /** Raise the upcall interrupt when the receive queue becomes non-empty (unet_wait needs it). */
  UPCALL: 1,
} as const;
