/**
 * SMART App Launch v2 for catalogue apps, and the catalogue API of the portal. Thin: parse, call
 * services/apps, answer.
 *
 *   GET  /oauth2/authorize                 authorization request → the holder's page
 *   GET  /oauth2/authorize/consent         log in (if needed), then consent per purpose
 *   POST /oauth2/authorize/login           the holder's credential (see services/apps/holder-session.ts)
 *   POST /oauth2/authorize/consent         the holder's decision → redirect to the app
 *   POST /oauth2/token                     grant_type authorization_code | refresh_token (the
 *                                          client_credentials grant stays with routes/oauth.ts)
 *   POST /oauth2/revoke                    RFC 7009
 *   POST /oauth2/introspect                RFC 7662
 *   GET  /.well-known/openid-configuration OpenID Connect discovery (the id_token's issuer)
 *   GET  /api/apps…                        the catalogue, connected apps, revocation (docs/apps.md)
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, invalid, notFound } from '../../domain/errors.ts';
import { OAuthError } from '../../auth/token-endpoint.ts';
import { APP_SCOPES_SUPPORTED, smartConfiguration } from '../../auth/discovery.ts';
import { appendAudit } from '../../audit/audit.ts';
import { inTransaction } from '../../services/context.ts';
import { startAuthorization, pendingAuthorization, decideAuthorization, type AuthorizeDeps, type AuthorizeOutcome } from '../../services/apps/authorize.ts';
import { authenticateHolder, type HolderSession } from '../../services/apps/holder-session.ts';
import { appTokenGrant, introspectAppToken, revokeAppToken, type AppTokenDeps } from '../../services/apps/tokens.ts';
import { getApp, listApps, publicView } from '../../services/apps/catalogue.ts';
import { connectedApps, disconnectApp } from '../../services/apps/grants.ts';
import { consentPage, errorPage, langOf, loginPage, type Lang } from '../../services/apps/pages.ts';
import { authenticate } from '../auth.ts';
import { JWKS_PATH, TOKEN_PATH } from './oauth.ts';
import type { RouteDeps } from '../app.ts';

export const AUTHORIZE_PATH = '/oauth2/authorize';
export const REVOKE_PATH = '/oauth2/revoke';
export const INTROSPECT_PATH = '/oauth2/introspect';
const CONSENT_PATH = '/oauth2/authorize/consent';
const LOGIN_PATH = '/oauth2/authorize/login';
/** The holder's credential on the authorize pages only (HttpOnly, SameSite=Lax). */
export const HOLDER_COOKIE = 'carnet_holder';

type Form = Record<string, string | undefined>;

function formOf(req: FastifyRequest): Form {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw new OAuthError('invalid_request', 'an application/x-www-form-urlencoded body is expected', 'NOT_FORM');
  return b as Form;
}

function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

/** The page's own CSP: no script, and the form may only post here and lead to the app's redirect URI. */
function pageCsp(redirectUri?: string): string {
  let target = '';
  if (redirectUri) {
    try {
      const u = new URL(redirectUri);
      target = u.protocol === 'http:' || u.protocol === 'https:' ? ` ${u.origin}` : ` ${u.protocol}`;
    } catch {
      /* no target */
    }
  }
  return `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${target}; frame-ancestors 'none'; base-uri 'none'`;
}

function sendPage(reply: FastifyReply, status: number, html: string, redirectUri?: string) {
  return reply
    .code(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('content-security-policy', pageCsp(redirectUri))
    .send(html);
}

const consentUrl = (requestId: string, lang: Lang) => `${CONSENT_PATH}?request=${encodeURIComponent(requestId)}${lang === 'en' ? '&lang=en' : ''}`;

export function registerSmartLaunch(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;
  const authorizeDeps: AuthorizeDeps = { issuer: deps.issuer, fhirBase: deps.fhirBase };
  const tokenEndpoint = `${deps.baseUrl}${TOKEN_PATH}`;
  const tokenDeps = (req: FastifyRequest): AppTokenDeps => ({
    signer: deps.signingKey,
    issuer: deps.issuer,
    fhirBase: deps.fhirBase,
    assertionAudiences: [...new Set([tokenEndpoint, deps.issuer, `${deps.baseUrl}${req.routeOptions.url}`, `${req.protocol}://${req.host}${req.routeOptions.url}`])],
  });
  const secureCookie = deps.baseUrl.startsWith('https:');

  /** The holder on the authorize pages: the one integration point with the login (services/apps/holder-session.ts). */
  const holderOf = (credential: string | undefined): Promise<HolderSession | undefined> =>
    authenticateHolder(ctx, credential, { verifier: deps.signingKey.verifier, issuer: deps.issuer, fhirBase: deps.fhirBase, checkSession: deps.checkSession });

  const answer = (reply: FastifyReply, out: AuthorizeOutcome, lang: Lang) => {
    if (out.kind === 'redirect') return reply.code(303).header('cache-control', 'no-store').header('location', out.location).send();
    if (out.kind === 'error_page') return sendPage(reply, out.status, errorPage({ lang, code: out.code, message: out.message }));
    return reply.code(303).header('location', consentUrl(out.requestId, lang)).send();
  };

  // --- the authorization request -------------------------------------------------------------------
  app.get(AUTHORIZE_PATH, async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const lang = langOf(q.ui_locales === 'en' || (typeof q.ui_locales === 'string' && q.ui_locales.startsWith('en')) ? 'en' : q.lang);
    const out = await startAuthorization(ctx, q, authorizeDeps);
    return answer(reply, out, lang);
  });

  app.get(CONSENT_PATH, async (req, reply) => {
    const q = (req.query ?? {}) as Record<string, unknown>;
    const lang = langOf(q.lang);
    const pending = await pendingAuthorization(ctx, q.request);
    if (!pending) return answer(reply, expired(), lang);
    const session = await holderOf(readCookie(req, HOLDER_COOKIE));
    if (!session) return sendPage(reply, 200, loginPage({ lang, app: pending.app, requestId: pending.id }));
    return sendPage(reply, 200, consentPage({ lang, app: pending.app, requestId: pending.id, csrf: pending.csrf, scope: pending.scope }), pending.redirectUri);
  });

  app.post(LOGIN_PATH, async (req, reply) => {
    const form = formOf(req);
    const lang = langOf(form.lang);
    const pending = await pendingAuthorization(ctx, form.request);
    if (!pending) return answer(reply, expired(), lang);
    const session = await holderOf(form.holder_token);
    if (!session) return sendPage(reply, 401, loginPage({ lang, app: pending.app, requestId: pending.id, error: true }));
    const maxAge = Math.max(0, Math.min(3600, Math.floor((session.expiresAt.getTime() - ctx.clock().getTime()) / 1000)));
    reply.header(
      'set-cookie',
      `${HOLDER_COOKIE}=${encodeURIComponent(form.holder_token!)}; Path=${AUTHORIZE_PATH}; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secureCookie ? '; Secure' : ''}`,
    );
    return reply.code(303).header('location', consentUrl(pending.id, lang)).send();
  });

  app.post(CONSENT_PATH, async (req, reply) => {
    const form = formOf(req);
    const lang = langOf(form.lang);
    const pending = await pendingAuthorization(ctx, form.request);
    if (!pending) return answer(reply, expired(), lang);
    const session = await holderOf(readCookie(req, HOLDER_COOKIE));
    if (!session) return sendPage(reply, 401, loginPage({ lang, app: pending.app, requestId: pending.id, error: true }));
    const purposeIds = Object.keys(form).filter((k) => k.startsWith('purpose_') && form[k] === 'on').map((k) => k.slice('purpose_'.length));
    if (form.decision !== 'approve' && form.decision !== 'deny') {
      return sendPage(reply, 400, errorPage({ lang, code: 'DECISION_MISSING', message: { fr: 'Choisissez « Autoriser » ou « Refuser ».', en: 'Choose “Allow” or “Refuse”.' } }));
    }
    const out = await decideAuthorization(ctx, session, { requestId: pending.id, csrf: form.csrf ?? '', approve: form.decision === 'approve', purposeIds }, authorizeDeps);
    if (out.kind === 'again') {
      return sendPage(reply, 400, consentPage({ lang, app: pending.app, requestId: pending.id, csrf: pending.csrf, scope: pending.scope, message: out.message }), pending.redirectUri);
    }
    return answer(reply, out, lang);
  });

  // --- the token endpoint, for apps -----------------------------------------------------------------
  // `/oauth2/token` is one endpoint (the one smart-configuration names) for every grant: this hook
  // answers the app grants before the route's own handler, which keeps client_credentials.
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST' || req.routeOptions.url !== TOKEN_PATH) return;
    const form = req.body as Form | undefined;
    if (!form || typeof form !== 'object' || (form.grant_type !== 'authorization_code' && form.grant_type !== 'refresh_token')) return;
    const token = await oauthAudited(form, 'oauth.token', () => appTokenGrant(ctx, form, tokenDeps(req)));
    return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(token);
  });

  app.post(REVOKE_PATH, async (req, reply) => {
    const form = formOf(req);
    await oauthAudited(form, 'oauth.revoke', () => revokeAppToken(ctx, form, tokenDeps(req)));
    return reply.code(200).header('cache-control', 'no-store').send({});
  });

  app.post(INTROSPECT_PATH, async (req, reply) => {
    const form = formOf(req);
    const result = await oauthAudited(form, 'oauth.introspect', () => introspectAppToken(ctx, form, tokenDeps(req)));
    return reply.header('cache-control', 'no-store').send(result);
  });

  /** Refusals at the OAuth endpoints land in the system audit chain (reason only, never the token). */
  async function oauthAudited<T>(form: Form, action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof OAuthError) {
        await inTransaction(ctx, (tx) =>
          appendAudit(tx.db, tx.engine, {
            actor: { kind: 'client', id: String(form.client_id ?? 'unknown').slice(0, 100), name: 'app token request' },
            action, outcome: 'failure', reason: e.reason, at: tx.clock(),
          }),
        );
      }
      throw e;
    }
  }

  // --- OpenID Connect discovery (the id_token's issuer) --------------------------------------------
  app.get('/.well-known/openid-configuration', async (_req, reply) => {
    const smart = smartConfiguration(deps.fhirBase, { tokenEndpoint, jwksUri: `${deps.baseUrl}${JWKS_PATH}`, issuer: deps.issuer });
    return reply.header('cache-control', 'public, max-age=300').send({
      issuer: deps.issuer,
      authorization_endpoint: smart.authorization_endpoint,
      token_endpoint: smart.token_endpoint,
      jwks_uri: `${deps.baseUrl}${JWKS_PATH}`,
      revocation_endpoint: smart.revocation_endpoint,
      introspection_endpoint: smart.introspection_endpoint,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code', 'refresh_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: [deps.signingKey.alg],
      token_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: smart.token_endpoint_auth_signing_alg_values_supported,
      revocation_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      introspection_endpoint_auth_methods_supported: ['none', 'private_key_jwt'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: APP_SCOPES_SUPPORTED,
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce', 'fhirUser'],
      authorization_response_iss_parameter_supported: true,
      ui_locales_supported: ['fr', 'en'],
    });
  });

  // --- the catalogue API of the portal ------------------------------------------------------------------
  /** The record the caller manages: the holder's own, or `?record=` for a legal representative. */
  async function managed(req: FastifyRequest) {
    const caller = await authenticate(req, deps);
    const { actor } = caller;
    if (actor.kind === 'holder') return { actor, recordId: actor.id };
    if (actor.kind === 'legal_representative') {
      const record = (req.query as Record<string, unknown> | undefined)?.record;
      if (typeof record !== 'string' || !record) throw invalid('RECORD_REQUIRED', 'A legal representative names the record: ?record=<id>');
      return { actor, recordId: record };
    }
    throw forbidden('DENY_NOT_HOLDER', 'Only the holder and legal representatives manage connected apps');
  }

  app.get('/api/apps', async (req) => {
    const { actor, recordId } = await managed(req);
    const connected = new Set((await connectedApps(ctx, actor, recordId)).map((c) => c.clientId));
    return { apps: (await listApps(ctx)).map((a) => ({ ...publicView(a), connected: connected.has(a.clientId) })) };
  });

  app.get('/api/apps/connected', async (req) => {
    const { actor, recordId } = await managed(req);
    return { apps: await connectedApps(ctx, actor, recordId) };
  });

  app.get('/api/apps/:clientId', async (req) => {
    const { actor, recordId } = await managed(req);
    const { clientId } = req.params as { clientId: string };
    const found = await getApp(ctx, clientId);
    if (!found || found.disabled) throw notFound('APP_UNKNOWN', 'No such app in the catalogue');
    const connection = (await connectedApps(ctx, actor, recordId)).find((c) => c.clientId === clientId);
    return { ...publicView(found), connected: !!connection, connections: connection?.connections ?? [] };
  });

  app.delete('/api/apps/:clientId/connection', async (req) => {
    const { actor, recordId } = await managed(req);
    const { clientId } = req.params as { clientId: string };
    const revoked = await disconnectApp(ctx, actor, recordId, clientId);
    return { clientId, revokedGrants: revoked };
  });
}

function expired(): AuthorizeOutcome {
  return {
    kind: 'error_page', status: 400, code: 'AUTH_REQUEST_EXPIRED',
    message: {
      fr: "Cette demande d'autorisation a expiré ou a déjà été traitée. Relancez la connexion depuis l'application.",
      en: 'This authorization request has expired or was already handled. Start again from the app.',
    },
  };
}

