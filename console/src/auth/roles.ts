/** The API's roles, lowest first; a role may do everything the ones before it may. Pure. */
export const ROLES = ['viewer', 'editor', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Whether `role` is `least` or above (an unknown role is below every role). */
export function atLeast(role: string | undefined, least: Role): boolean {
  const rank = ROLES.indexOf(role as Role);
  return rank >= 0 && rank >= ROLES.indexOf(least);
}

/** Start, stop, trigger, pause and resume: run control is for operators and admins. */
export const canOperate = (role: string | undefined): boolean => atLeast(role, 'operator');
