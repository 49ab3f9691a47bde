import type { Config } from '../infra/config';
import type { SecurityOptions } from './app';

const commaList = (text: string | undefined) =>
  (text ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/** The API's security options from the parsed configuration. */
export function securityFromConfig(config: Config): SecurityOptions {
  return {
    authMode: config.AUTH_MODE,
    ...(config.AUTH_JWT_ISSUER && config.AUTH_JWT_AUDIENCE
      ? {
          jwt: {
            issuer: config.AUTH_JWT_ISSUER,
            audience: config.AUTH_JWT_AUDIENCE,
            ...(config.AUTH_JWT_JWKS_URL ? { jwksUrl: config.AUTH_JWT_JWKS_URL } : {}),
            rolesClaim: config.AUTH_JWT_ROLES_CLAIM,
            ...(config.AUTH_JWT_ROLE_MAP ? { roleMap: config.AUTH_JWT_ROLE_MAP } : {}),
            clockSkewSec: config.AUTH_JWT_CLOCK_SKEW_SEC,
          },
        }
      : {}),
    metricsPublic: config.METRICS_PUBLIC,
    rateLimits: {
      perMinute: config.RATE_LIMIT_PER_MINUTE,
      writesPerMinute: config.RATE_LIMIT_WRITES_PER_MINUTE,
      startsPerMinute: config.RATE_LIMIT_STARTS_PER_MINUTE,
      authFailuresPerMinute: config.AUTH_FAILURES_PER_MINUTE,
    },
    corsOrigins: commaList(config.CORS_ORIGINS),
    secretKeys: config.SECRET_KEYS,
    temporalUiOrigins: commaList(config.TEMPORAL_UI_ORIGIN),
    trustProxy: config.TRUST_PROXY,
    sessionTtlMinutes: config.SESSION_TTL_MINUTES,
    ...(config.AUTH_OIDC_CLIENT_ID
      ? {
          oidcLogin: {
            clientId: config.AUTH_OIDC_CLIENT_ID,
            scope: config.AUTH_OIDC_SCOPE,
            ...(config.AUTH_OIDC_CLIENT_SECRET ? { clientSecret: config.AUTH_OIDC_CLIENT_SECRET } : {}),
          },
        }
      : {}),
    ...(config.TEMPORAL_UI_URL ? { temporalUiUrl: config.TEMPORAL_UI_URL } : {}),
  };
}

/** Printed at every start while authentication is off. */
export const AUTH_OFF_WARNING =
  'AUTH_MODE=off: every request is treated as an admin, with no credential. Use this only for local experiments; ' +
  'it is refused when NODE_ENV=production.';
