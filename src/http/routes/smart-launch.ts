/** Routes of the smart-launch work (registered by app.ts). */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../app.ts';

export function registerSmartLaunch(_app: FastifyInstance, _deps: RouteDeps) {}
