import type { RequestHandler } from 'express';

const ALLOWED_HEADERS = 'Authorization, X-API-Key, Content-Type, X-Correlation-ID, Idempotency-Key';
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
const EXPOSED_HEADERS = 'X-Correlation-ID, X-Total-Count, Location, RateLimit, RateLimit-Policy, Retry-After';

/**
 * CORS, closed unless origins are listed (CORS_ORIGINS): only a listed origin gets CORS headers, so browsers on any
 * other origin cannot read answers. A listed origin's preflight is answered here (204) without a credential, as
 * browsers send none.
 */
export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.get('origin');
    if (!origin || !allowed.has(origin)) return next();
    res.vary('Origin');
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && req.get('access-control-request-method')) {
      res.setHeader('Access-Control-Allow-Methods', ALLOWED_METHODS);
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
      return;
    }
    next();
  };
}
