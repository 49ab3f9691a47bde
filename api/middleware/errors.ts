import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';
import { ApplicationFailure } from '@temporalio/common';
import { PAYLOAD_UNREADABLE } from '../../infra/payload-codec';
import { ApiError } from '../errors';
import { translateDatabaseError } from '../prisma-errors';

interface BodyParserError {
  name?: string;
  type?: string;
  status?: number;
  expose?: boolean;
  message?: string;
}

function fromBodyParser(error: BodyParserError): ApiError | undefined {
  switch (error.type) {
    case 'entity.parse.failed':
      return new ApiError(
        400,
        'MalformedJson',
        `The request body is not valid JSON: ${error.message ?? ''}`.trim(),
        [{ field: 'body', rule: 'json', message: 'must be valid JSON' }],
      );
    case 'entity.too.large':
      return new ApiError(413, 'PayloadTooLarge', 'The request body is too large', [
        { field: 'body', rule: 'maxSize', message: 'exceeds the configured body limit' },
      ]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'UnsupportedMediaType', error.message ?? 'Unsupported encoding');
    default:
      // The router could not percent-decode a path parameter (e.g. `/api/Step/%E0%A4%A`).
      if (error.name === 'URIError' && error.status === 400)
        return new ApiError(400, 'MalformedPath', 'The request path is not valid percent-encoding', [
          { field: 'path', rule: 'uriEncoding', message: 'must be valid percent-encoded UTF-8' },
        ]);
      if (error.expose && typeof error.status === 'number' && error.status >= 400 && error.status < 500)
        return new ApiError(error.status, 'BadRequest', error.message ?? 'Bad request');
      return undefined;
  }
}

/** A payload this API cannot decrypt (its key is not in PAYLOAD_KEYS): a configuration fault worth naming. */
function unreadablePayload(error: unknown, depth = 0): ApiError | undefined {
  if (depth > 5 || !(error instanceof Error)) return undefined;
  if (error instanceof ApplicationFailure && error.type === PAYLOAD_UNREADABLE)
    return new ApiError(500, PAYLOAD_UNREADABLE, error.message);
  return unreadablePayload(error.cause, depth + 1);
}

/** Answers unknown routes with a JSON 404. */
export const notFound: RequestHandler = (req, res) => {
  res.status(404).json({ error: 'NotFound', message: `No route ${req.method} ${req.path}` });
};

/**
 * The one place errors become responses: API errors keep their status and details; database outages are 503;
 * anything unexpected is logged with the correlation ID and answered with a generic 500 that leaks nothing.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    const apiError =
      error instanceof ApiError
        ? error
        : (fromBodyParser(error as BodyParserError) ??
          translateDatabaseError(error) ??
          unreadablePayload(error));
    const log = (res.locals.log as Logger | undefined) ?? logger;
    if (apiError) {
      if (apiError.status >= 500) log.warn({ err: error }, apiError.message);
      const body: Record<string, unknown> = { error: apiError.code, message: apiError.message };
      if (apiError.details) body.details = apiError.details;
      res.status(apiError.status).json(body);
      return;
    }
    log.error({ err: error }, 'unhandled error');
    res.status(500).json({
      error: 'InternalError',
      message: 'An unexpected error occurred',
      correlationId: res.locals.correlationId as string | undefined,
    });
  };
}
