// Errors the hardware layer reports. Each is a simulated condition with a
// message a user can act on, raised instead of letting a host exception
// escape from a bad address, a bad time or a bad configuration.

/** A physical access outside a node's memory, as a real machine-check would report it. */
export class MachineCheck extends Error {
  constructor(
    readonly node: number,
    readonly address: number,
    readonly length: number,
    readonly reason: string,
  ) {
    super(`machine check on node ${node}: ${reason} (physical 0x${address.toString(16)}, ${length} bytes)`);
    this.name = 'MachineCheck';
  }
}

/** Simulated time that cannot be represented exactly, or that runs backwards. */
export class SimTimeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SimTimeError';
  }
}

/** A machine description (profile value, shape, override) that makes no sense. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
