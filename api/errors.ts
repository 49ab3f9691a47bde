/** One problem with a request: the field (a dotted path, `body` or a parameter name), the rule it broke, and why. */
export interface ProblemDetail {
  field: string;
  rule: string;
  message: string;
  [extra: string]: unknown;
}

/** An error with an HTTP status and a stable `error` code, answered as `{ error, message, details? }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ProblemDetail[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400: the request is malformed or breaks a validation rule. */
export class ValidationError extends ApiError {
  constructor(message: string, details: ProblemDetail[]) {
    super(400, 'ValidationFailed', message, details);
  }
}

/** 404: the addressed entity does not exist. */
export class NotFoundError extends ApiError {
  constructor(entity: string, id: string) {
    super(404, 'NotFound', `${entity} ${id} was not found`);
  }
}

/** 409: the request conflicts with stored state (duplicate key, referential integrity). */
export class ConflictError extends ApiError {
  constructor(code: string, message: string, details?: ProblemDetail[]) {
    super(409, code, message, details);
  }
}

/** 503: a dependency (Postgres, Temporal) is unavailable; the request may succeed later. */
export class ServiceUnavailableError extends ApiError {
  constructor(dependency: string, message: string) {
    super(503, 'ServiceUnavailable', `${dependency} is unavailable: ${message}`);
  }
}
