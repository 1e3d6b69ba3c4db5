/** Routes of the portal-api work (registered by app.ts). */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../app.ts';

export function registerPortalApi(_app: FastifyInstance, _deps: RouteDeps) {}
