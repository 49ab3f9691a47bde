import type { Role } from './roles';

/** Who is calling: an API key (by name) or a JWT subject, with the role they act in. */
export interface Principal {
  /** The API key's name or the JWT's `sub`; what `createdBy` / `updatedBy` and audit events record. */
  name: string;
  role: Role;
  kind: 'apiKey' | 'jwt' | 'authOff' | 'devUi';
  /** The API key's ID (for revocation), when the credential is a key. */
  keyId?: string;
  /** Set when the request was authenticated by a console session cookie (api/auth/sessions.ts). */
  session?: { id: string; expiresAt: string };
}

/** Raised for a missing, malformed, unknown, expired or revoked credential; the caller is never told which. */
export class UnauthenticatedError extends Error {
  override name = 'UnauthenticatedError';
}

/** A valid JWT whose roles claim maps to none of ours: authenticated, but allowed nothing (403). */
export class NoRoleError extends Error {
  override name = 'NoRoleError';
  constructor(readonly principal: string) {
    super(`${principal} has no role of ours in its token`);
  }
}
