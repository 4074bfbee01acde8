/**
 * The base of every error tsbpf throws on purpose. Each domain (isa, vm, object, kernel…) has its own
 * subclass with structured location fields; `code` is a stable machine-readable kind so callers and tests
 * match on it instead of on message text.
 */
export class TsbpfError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A feature tsbpf knows about but does not (yet) implement. "Not supported" is a value, not a crash. */
export class NotSupportedError extends TsbpfError {
  readonly feature: string;
  readonly reason: string;

  constructor(feature: string, reason: string) {
    super("ENOTSUP", `${feature} is not supported: ${reason}`);
    this.feature = feature;
    this.reason = reason;
  }
}
