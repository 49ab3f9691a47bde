import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * helmet's default security headers (CSP, HSTS, frame, referrer and cross-origin policies, …), set from a list made
 * once. helmet's defaults are constants, yet it runs a chain of twelve middleware per request to set them; here they
 * are read from helmet once, at startup, so helmet stays the source of the policy.
 * @throws Error at startup if helmet ever needs the request (a header that varies per request) or answers later.
 */
export function securityHeaders(): RequestHandler {
  const headers: [string, string][] = [];
  let finished = false;
  const recorder = {
    setHeader(name: string, value: unknown) {
      headers.push([name, String(value)]);
    },
    removeHeader() {},
  };
  const request = new Proxy(
    {},
    {
      get(_target, property) {
        throw new Error(`securityHeaders: helmet read the request's ${String(property)}`);
      },
    },
  );
  let failure: unknown;
  helmet()(request as never, recorder as never, (error?: unknown) => {
    failure = error;
    finished = true;
  });
  if (failure !== undefined) throw new Error('securityHeaders: helmet failed', { cause: failure });
  if (!finished) throw new Error('securityHeaders: helmet did not finish synchronously');
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}
