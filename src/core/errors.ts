/**
 * errors is hostfleet's one error catalogue. Every error a user can see has a code, an HTTP
 * status and a message template; docs/ERRORS.md documents every code (a test checks it).
 * Expected outcomes in src/core are values; these errors cross the API and CLI boundary.
 */
export const ERROR_CATALOGUE = {
  E_VALIDATION: { status: 400, title: 'Invalid input' },
  E_CONFIG: { status: 500, title: 'Invalid configuration' },
  E_UNAUTHENTICATED: { status: 401, title: 'Missing or invalid credentials' },
  E_FORBIDDEN: { status: 403, title: 'Not allowed for this role or account' },
  E_NOT_FOUND: { status: 404, title: 'No such resource' },
  E_CONFLICT: { status: 409, title: 'Conflicts with the current state' },
  E_PAYMENT_DECLINED: { status: 402, title: 'The payment was declined' },
  E_RATE_LIMITED: { status: 429, title: 'Too many attempts' },
  E_ILLEGAL_TRANSITION: { status: 409, title: 'Illegal server state transition' },
  E_MOVE_IN_PROGRESS: { status: 409, title: 'A move of this server is already in flight' },
  E_BOOT_POINTER_INVALID: { status: 403, title: 'Boot pointer unknown, expired, used, or issued for another machine' },
  E_BMC: { status: 502, title: 'The BMC refused or did not answer' },
  E_EDGE: { status: 502, title: 'The edge refused or did not answer' },
  E_HYPERVISOR: { status: 502, title: 'A hardware node refused or did not answer' },
  E_BOOT_TIMEOUT: { status: 504, title: 'The server did not boot and become healthy in time' },
  E_STORE: { status: 503, title: 'The store is unavailable' },
  E_BUS_TIMEOUT: { status: 504, title: 'No answer on the management bus in time' },
  E_BUS_UNAVAILABLE: { status: 503, title: 'The management bus is unavailable' },
  E_NOT_LEADER: { status: 503, title: 'This manager is not the active manager' },
  E_INTERNAL: { status: 500, title: 'Internal error' },
} as const;

/** ErrorCode is one of the catalogue's codes. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** ERROR_CODES lists every code of the catalogue. */
export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

/** FieldProblem names one field of an input and what is allowed there. */
export interface FieldProblem {
  readonly field: string;
  readonly problem: string;
}

/** HostfleetError carries a catalogue code, a message that says what to do, and details. */
export class HostfleetError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Readonly<Record<string, unknown>> | undefined;
  readonly fields: readonly FieldProblem[] | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; fields?: readonly FieldProblem[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'HostfleetError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.details = opts.details;
    this.fields = opts.fields;
  }

  /** toJSON is the body the API sends for this error. */
  toJSON(): Record<string, unknown> {
    return {
      error: {
        code: this.code,
        title: ERROR_CATALOGUE[this.code].title,
        message: this.message,
        ...(this.fields ? { fields: this.fields } : {}),
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** invalid builds an E_VALIDATION error from one or more field problems of subject (say, `scenario scenarios/x.yaml`). */
export function invalid(fields: readonly FieldProblem[], subject = 'input'): HostfleetError {
  const text = fields.map((f) => `${f.field}: ${f.problem}`).join('; ');
  return new HostfleetError('E_VALIDATION', `invalid ${subject}: ${text}`, { fields });
}

/** FILE_REASONS put the system's error codes for a file that cannot be read into words a user acts on. */
const FILE_REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  ENOTDIR: 'a folder on its path is a file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a folder, not a file',
};

/**
 * unreadableFile is the error for an input file the product cannot read or parse: it names
 * the file and what it was for, says why in words (never a bare ENOENT), and what the file
 * should hold. Configuration files fail with E_CONFIG, the user's other inputs with E_VALIDATION.
 */
export function unreadableFile(
  code: 'E_CONFIG' | 'E_VALIDATION',
  o: { what: string; file: string; purpose?: string; reason?: string; expected: string; cause: unknown },
): HostfleetError {
  const errno = (o.cause as { code?: unknown } | null)?.code;
  const reason =
    o.reason ??
    (typeof errno === 'string' ? FILE_REASONS[errno] : undefined) ??
    (o.cause instanceof Error ? o.cause.message : String(o.cause));
  const purpose = o.purpose === undefined ? '' : ` (${o.purpose})`;
  return new HostfleetError(code, `cannot read ${o.what} ${o.file}${purpose}: ${reason}; expected ${o.expected}`, {
    fields: [{ field: o.file, problem: reason }],
    cause: o.cause,
  });
}

/** isHostfleetError tells whether a thrown value is a HostfleetError (with one of the codes). */
export function isHostfleetError(e: unknown, code?: ErrorCode): e is HostfleetError {
  return e instanceof HostfleetError && (code === undefined || e.code === code);
}
