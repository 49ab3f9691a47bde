import type { RequestHandler } from 'express';

const ALLOWED_HEADERS =
  'Authorization, X-API-Key, Content-Type, X-Correlation-ID, Idempotency-Key, X-Namespace';
const ALLOWED_METHODS = 'GET, POST, PUT, DELETE';
const EXPOSED_HEADERS = 'X-Correlation-ID, X-Total-Count, Location, RateLimit, RateLimit-Policy, Retry-After';

/**
 * CORS, closed unless origins are listed (CORS_ORIGINS; the Temporal UI's TEMPORAL_UI_ORIGIN for `/codec/*` only): only a listed origin gets CORS headers, so browsers on any
 * other origin cannot read answers. A listed origin's preflight is answered here (204) without a credential, as
 * browsers send none.
 */
export function cors(origins: readonly string[], codecOrigins: readonly string[] = []): RequestHandler {
  const allowed = new Set(origins);
  const codec = new Set(codecOrigins);
  return (req, res, next) => {
    const origin = req.get('origin');
    res.vary('Origin');
    // The Temporal Web UI's origins may call the codec routes only.
    const forCodec = origin !== undefined && codec.has(origin) && req.path.startsWith('/codec/');
    if (!origin || !(allowed.has(origin) || forCodec)) return next();
    res.setHeader('Access-Control-Allow-Origin', origin);
    // The Web UI's "include credentials" option sends cookies; ours carry no session, but the UI needs the header.
    if (forCodec) res.setHeader('Access-Control-Allow-Credentials', 'true');
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
