/** Routes of the pro-login work (registered by app.ts). */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../app.ts';

export function registerProLogin(_app: FastifyInstance, _deps: RouteDeps) {}
