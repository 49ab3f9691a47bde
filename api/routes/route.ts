import type { RequestHandler } from 'express';
import type { Role } from '../auth/roles';
import type { RateClass } from '../middleware/rate-limit';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete';

/** The OpenAPI operation of a route, less what the route table adds itself (security, role, 401/403/429). */
export interface OperationDoc {
  tags: string[];
  summary: string;
  description?: string;
  parameters?: object[];
  requestBody?: object;
  responses: Record<string | number, object>;
}

/**
 * One route of the API: the single declaration that registers it with express, guards it with its role, limits its
 * rate, names its audit action and documents it in OpenAPI. A route cannot exist without all of these.
 */
export interface RouteSpec {
  method: HttpMethod;
  /** The OpenAPI path template (`/api/Step/{id}`); express gets `/api/Step/:id`. */
  path: string;
  /** The least role that may call it; `public` needs no credential. */
  role: Role | 'public';
  /** A stable name for the operation (`Step.create`): its OpenAPI operationId and its audit action. */
  action: string;
  /**
   * `npm run dev` only: a request without a credential from the dev Temporal UI's loopback origin counts as a viewer
   * (see `SecurityOptions.devUiOrigins`). Only the codec routes set it.
   */
  trustsDevUi?: boolean;
  /** Which budget it draws from; default: `read` for GET, `write` otherwise. */
  rateClass?: RateClass;
  doc: OperationDoc;
  handler: RequestHandler | RequestHandler[];
}

/** `/api/Step/{id}` → `/api/Step/:id`. */
export function expressPath(template: string): string {
  return template.replace(/\{(\w+)\}/g, ':$1');
}

/** The budget a route draws from. */
export function rateClassOf(route: RouteSpec): RateClass {
  return route.rateClass ?? (route.method === 'get' ? 'read' : 'write');
}
