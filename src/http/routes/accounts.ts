/** Routes of the accounts work (registered by app.ts). */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from '../app.ts';

export function registerAccounts(_app: FastifyInstance, _deps: RouteDeps) {}
