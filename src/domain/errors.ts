/**
 * One error type for every failure a caller can act on. `code` is stable (clients and tests rely on
 * it), `kind` says which family it belongs to; the HTTP layer maps kinds to statuses in one table.
 * Messages never carry health data (they may be logged); `details` may name fields and values the
 * caller itself sent.
 */
export type ErrorKind =
  | 'invalid' // the request is malformed or breaks a rule about its content (400/422)
  | 'unauthorized' // no valid credentials (401)
  | 'forbidden' // credentials fine, the rules say no (403)
  | 'not_found' // no such thing, or not visible to this caller (404)
  | 'gone' // it existed and was deleted (410)
  | 'conflict' // the state of the record forbids it (409)
  | 'too_large' // body or file over the limit (413)
  | 'unsupported' // media type or format not served (406/415)
  | 'rate_limited'; // too many requests (429)

export class CarnetError extends Error {
  readonly code: string;
  readonly kind: ErrorKind;
  readonly details?: Record<string, unknown>;
  /** FHIRPath-ish location of the problem in the caller's input, when there is one. */
  readonly expression?: string[];

  constructor(
    code: string,
    kind: ErrorKind,
    message: string,
    opts: { details?: Record<string, unknown>; expression?: string[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'CarnetError';
    this.code = code;
    this.kind = kind;
    this.details = opts.details;
    this.expression = opts.expression;
  }
}

export const isCarnetError = (e: unknown): e is CarnetError => e instanceof CarnetError;

export const invalid = (code: string, message: string, opts?: ConstructorParameters<typeof CarnetError>[3]) =>
  new CarnetError(code, 'invalid', message, opts);
export const notFound = (code: string, message: string, opts?: ConstructorParameters<typeof CarnetError>[3]) =>
  new CarnetError(code, 'not_found', message, opts);
export const forbidden = (code: string, message: string, opts?: ConstructorParameters<typeof CarnetError>[3]) =>
  new CarnetError(code, 'forbidden', message, opts);
export const conflict = (code: string, message: string, opts?: ConstructorParameters<typeof CarnetError>[3]) =>
  new CarnetError(code, 'conflict', message, opts);
