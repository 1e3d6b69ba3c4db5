/**
 * The Fastify application: FHIR R4 base `/fhir` (JSON), OAuth2 token endpoint and JWKS, security
 * headers, body limits, rate limits, request ids, and logs that carry no health data (method,
 * route pattern, status, duration — never the URL's query, never a body).
 */
import Fastify, { LogController, type FastifyInstance, type FastifyServerFactory } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import { randomUUID } from 'node:crypto';
import { createServer as createHttpsServer, type ServerOptions as HttpsServerOptions } from 'node:https';
import type { Server as HttpServer } from 'node:http';
import type { Carnet } from '../services/carnet.ts';
import type { SigningKey } from '../auth/signing-keys.ts';
import { CarnetError } from '../domain/errors.ts';
import { errorHandler, FHIR_JSON } from './errors.ts';
import type { AuthDeps } from './auth.ts';
import { registerOAuth } from './routes/oauth.ts';
import { registerMetadata } from './routes/metadata.ts';
import { registerPatient } from './routes/patient.ts';
import { registerDocuments } from './routes/documents.ts';
import { registerConsent } from './routes/consent.ts';
import { registerAuditEvents } from './routes/audit-events.ts';
import { registerAccounts } from './routes/accounts.ts';
import { registerProLogin } from './routes/pro-login.ts';
import { sessionChecker } from '../services/accounts/sessions.ts';
import type { ProOidcConfig } from '../services/accounts/proOidc.ts';
import { registerSmartLaunch } from './routes/smart-launch.ts';
import { registerPortalApi } from './routes/portal-api.ts';
import { registerStatic } from './static.ts';

export interface AppOptions {
  carnet: Carnet;
  signingKey: SigningKey;
  /** Public base URL (no trailing slash), e.g. https://carnet.example.org; FHIR base is `${baseUrl}/fhir`. */
  baseUrl: string;
  bodyLimitBytes?: number;
  rateLimitPerMinute?: number;
  logger?: boolean;
  /**
   * Serve HTTPS (key, cert; for professional cards also `ca` + `requestCert: true,
   * rejectUnauthorized: false`: the card route then answers a clear OperationOutcome itself).
   */
  https?: HttpsServerOptions;
  /** Professional login through an external OpenID Connect provider. */
  proOidc?: ProOidcConfig;
}

export interface RouteDeps extends AuthDeps {
  carnet: Carnet;
  baseUrl: string;
  proOidc?: ProOidcConfig;
}

/** An HTTPS server (mutual TLS for professional cards) behind the same Fastify app. */
function httpsFactory(options: HttpsServerOptions | undefined): FastifyServerFactory | undefined {
  if (!options) return undefined;
  return (handler) => createHttpsServer(options, handler) as unknown as HttpServer;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes ?? 32 * 1024 * 1024,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // our own onResponse line replaces Fastify's request logs (which would print URLs with INS)
    logController: new LogController({ disableRequestLogging: true }),
    logger: opts.logger === false ? false : { level: process.env.LOG_LEVEL ?? 'info' },
    trustProxy: false,
    serverFactory: httpsFactory(opts.https),
    // FHIR clients POST a transaction to `[base]/` as often as to `[base]` (fhir-kit-client does)
    routerOptions: { ignoreTrailingSlash: true },
  });

  // FHIR JSON and JSON Patch are JSON; XML is refused cleanly until it is served.
  const parseJson = (_req: unknown, body: string, done: (err: Error | null, value?: unknown) => void) => {
    if (!body.length) return done(new CarnetError('BODY_EMPTY', 'invalid', 'The request body is empty'));
    try {
      done(null, JSON.parse(body));
    } catch {
      done(new CarnetError('JSON_MALFORMED', 'invalid', 'The body is not well-formed JSON'));
    }
  };
  // text/plain too: Fastify parses it by default, and a FHIR endpoint must answer 415 for it
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser(['application/json', 'application/fhir+json', 'application/json-patch+json'], { parseAs: 'string' }, parseJson);
  app.addContentTypeParser(['application/fhir+xml', 'application/xml', 'text/xml'], (_req, _payload, done) =>
    done(new CarnetError('FHIR_XML_NOT_SUPPORTED', 'unsupported', 'FHIR XML is not served yet: send application/fhir+json')),
  );

  await app.register(helmet, { contentSecurityPolicy: { directives: { defaultSrc: ["'self'"], frameAncestors: ["'none'"] } }, hsts: { maxAge: 31536000 } });
  await app.register(rateLimit, {
    max: opts.rateLimitPerMinute ?? Number(process.env.CARNET_RATE_LIMIT ?? 60_000),
    timeWindow: '1 minute',
    keyGenerator: (req) => req.ip,
  });

  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // _format / Accept: only JSON is served; say so instead of sending JSON to an XML client
    const fmt = (req.query as Record<string, unknown> | undefined)?._format;
    const accept = req.headers.accept ?? '';
    const wantsXmlOnly = (typeof fmt === 'string' && /xml/.test(fmt)) || (/xml/.test(accept) && !/json|\*\/\*/.test(accept));
    if (req.url.startsWith('/fhir') && wantsXmlOnly && !req.url.startsWith('/fhir/Binary/')) {
      throw new CarnetError('FHIR_NOT_ACCEPTABLE', 'unsupported', 'Only application/fhir+json is served for now');
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ reqId: req.id, method: req.method, route: req.routeOptions.url ?? 'unknown', status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).header('content-type', FHIR_JSON).send({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'not-supported', diagnostics: `No route ${req.method} ${req.url.split('?')[0]}` }],
    });
  });

  const deps: RouteDeps = {
    carnet: opts.carnet,
    signingKey: opts.signingKey,
    baseUrl: opts.baseUrl,
    issuer: opts.baseUrl,
    fhirBase: `${opts.baseUrl}/fhir`,
    now: opts.carnet.ctx.clock,
    checkSession: sessionChecker(opts.carnet.ctx),
    proOidc: opts.proOidc,
  };
  app.get('/health', async () => ({ status: 'ok' }));
  registerOAuth(app, deps);
  registerMetadata(app, deps);
  registerPatient(app, deps);
  registerDocuments(app, deps);
  registerConsent(app, deps);
  registerAuditEvents(app, deps);
  registerAccounts(app, deps);
  registerProLogin(app, deps);
  registerSmartLaunch(app, deps);
  registerPortalApi(app, deps);
  await registerStatic(app);
  return app;
}
