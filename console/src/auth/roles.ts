/**
 * The API's roles, lowest first (api/auth/roles.ts): a role may do everything the ones before it may. An operator
 * runs flows; an editor also changes definitions; an admin also manages keys and reads the audit log. Pure.
 */
export const ROLES = ['viewer', 'operator', 'editor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` is `least` or above (an unknown role is below every role). */
export function atLeast(role: string | undefined, least: Role): boolean {
  const rank = ROLES.indexOf(role as Role);
  return rank >= 0 && rank >= ROLES.indexOf(least);
}

/** Start, stop, trigger, pause and resume: run control is for operators and up. */
export const canOperate = (role: string | undefined): boolean => atLeast(role, 'operator');

/** Plan and apply definitions: editors and admins. */
export const canEdit = (role: string | undefined): boolean => atLeast(role, 'editor');
