/**
 * SMART App Launch v2 for catalogue apps, and the catalogue API of the portal. Thin: parse, call
 * services/apps, answer.
 *
 *   GET  /oauth2/authorize                 authorization request → the holder's page
 *   GET  /oauth2/authorize/consent         log in (if needed: INS + password, then the code), then consent per purpose
 *   POST /oauth2/authorize/login           step 1: INS + password (or a portal's hand-over of the holder's session token)
 *   POST /oauth2/authorize/login/code      step 2: the TOTP or e-mailed code
 *   POST /oauth2/authorize/consent         the holder's decision → redirect to the app
 *   POST /oauth2/revoke                    RFC 7009
 *   POST /oauth2/introspect                RFC 7662
 *   GET  /.well-known/openid-configuration OpenID Connect discovery (the id_token's issuer)
 *   GET  /api/apps…                        the catalogue, connected apps, revocation (docs/apps.md)
 *
 * The app grants of `POST /oauth2/token` (authorization_code, refresh_token) are dispatched by
 * routes/oauth.ts to services/apps/tokens.ts.
 *
 * Cookies, all HttpOnly, SameSite=Lax, Path=/oauth2/authorize (Secure over https):
 *   carnet_holder           the authorize credential, bound to the holder's login session
 *   carnet_login_csrf       a random value the login forms' anti-forgery token is tied to
 *   carnet_login_challenge  the second-factor challenge between the two login steps (never in a URL or a page)
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { forbidden, invalid, notFound } from '../../domain/errors.ts';
import { OAuthError } from '../../auth/token-endpoint.ts';
import { APP_SCOPES_SUPPORTED, smartConfiguration } from '../../auth/discovery.ts';
import { appendAudit } from '../../audit/audit.ts';
import { inTransaction } from '../../services/context.ts';
import {
  startAuthorization, pendingAuthorization, decideAuthorization, AUTH_REQUEST_TTL_SECONDS, type AuthorizeDeps, type AuthorizeOutcome,
  type PendingAuthorization,
} from '../../services/apps/authorize.ts';
import {
  authenticateHolder, holderHandOver, holderLogin, holderSecondFactor, loginFormToken, loginFormTokenMatches,
  type HolderLoginOutcome, type HolderSession, type HolderSessionDeps,
} from '../../services/apps/holder-session.ts';
import { introspectAppToken, revokeAppToken, type AppTokenDeps } from '../../services/apps/tokens.ts';
import { getApp, listApps, publicView } from '../../services/apps/catalogue.ts';
import { connectedApps, disconnectApp } from '../../services/apps/grants.ts';
import {
  consentPage, errorPage, langOf, loginPage, secondFactorPage, NOT_HOLDER_MESSAGE, NO_RECORD_MESSAGE, type Lang, type LoginProblem,
} from '../../services/apps/pages.ts';
import { authenticate } from '../auth.ts';
import { JWKS_PATH, TOKEN_PATH } from './oauth.ts';
import { clientInfo, loginRateLimit } from './accounts.ts';
import type { RouteDeps } from '../app.ts';

export const AUTHORIZE_PATH = '/oauth2/authorize';
export const REVOKE_PATH = '/oauth2/revoke';
export const INTROSPECT_PATH = '/oauth2/introspect';
const CONSENT_PATH = '/oauth2/authorize/consent';
const LOGIN_PATH = '/oauth2/authorize/login';
const CODE_PATH = '/oauth2/authorize/login/code';
/** The holder's authorize credential (services/apps/holder-session.ts). */
export const HOLDER_COOKIE = 'carnet_holder';
/** What the login forms' anti-forgery token is tied to. */
export const LOGIN_CSRF_COOKIE = 'carnet_login_csrf';
/** `<method>.<challenge>` between the two login steps. */
export const CHALLENGE_COOKIE = 'carnet_login_challenge';

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
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined;
      }
    }
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

/** The challenge cookie's value back: method and handle. */
function challengeOf(raw: string | undefined): { method: 'totp' | 'email'; challenge: string } | undefined {
  const m = raw ? /^(totp|email)\.([A-Za-z0-9_-]{20,200})$/.exec(raw) : null;
  return m ? { method: m[1] as 'totp' | 'email', challenge: m[2] } : undefined;
}

export function registerSmartLaunch(app: FastifyInstance, deps: RouteDeps) {
  const { ctx } = deps.carnet;
  const authorizeDeps: AuthorizeDeps = { issuer: deps.issuer, fhirBase: deps.fhirBase };
  const holderDeps: HolderSessionDeps = { signingKey: deps.signingKey, issuer: deps.issuer, fhirBase: deps.fhirBase };
  const tokenEndpoint = `${deps.baseUrl}${TOKEN_PATH}`;
  const tokenDeps = (req: FastifyRequest): AppTokenDeps => ({
    signer: deps.signingKey,
    issuer: deps.issuer,
    fhirBase: deps.fhirBase,
    assertionAudiences: [...new Set([tokenEndpoint, deps.issuer, `${deps.baseUrl}${req.routeOptions.url}`, `${req.protocol}://${req.host}${req.routeOptions.url}`])],
  });
  const secureCookie = deps.baseUrl.startsWith('https:');
  const LOGIN_RATE_LIMIT = loginRateLimit();

  const cookie = (name: string, value: string, maxAgeSeconds: number) =>
    `${name}=${encodeURIComponent(value)}; Path=${AUTHORIZE_PATH}; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}; HttpOnly; SameSite=Lax${secureCookie ? '; Secure' : ''}`;
  const clearCookie = (name: string) => cookie(name, '', 0);
  const secondsUntil = (d: Date) => (d.getTime() - ctx.clock().getTime()) / 1000;

  /** The holder on the authorize pages: the one integration point with the login (services/apps/holder-session.ts). */
  const holderOf = (req: FastifyRequest): Promise<HolderSession | undefined> => authenticateHolder(ctx, readCookie(req, HOLDER_COOKIE), holderDeps);

  /**
   * The browser value the login forms are tied to: the one the browser has, or a fresh one (sent
   * with the page). Returns the form token and the cookie to (re)set.
   */
  const loginCsrf = (req: FastifyRequest, pending: PendingAuthorization) => {
    const had = readCookie(req, LOGIN_CSRF_COOKIE);
    const browser = had && /^[A-Za-z0-9_-]{43}$/.test(had) ? had : randomBytes(32).toString('base64url');
    return { token: loginFormToken(pending.csrf, browser), setCookie: cookie(LOGIN_CSRF_COOKIE, browser, 2 * AUTH_REQUEST_TTL_SECONDS) };
  };

  /** Step 1's page (INS + password), with its problem if any. */
  const showLogin = (req: FastifyRequest, reply: FastifyReply, status: number, pending: PendingAuthorization, lang: Lang, o: { problem?: LoginProblem; ins?: string; cookies?: string[] } = {}) => {
    const csrf = loginCsrf(req, pending);
    reply.header('set-cookie', [...(o.cookies ?? []), csrf.setCookie]);
    return sendPage(reply, status, loginPage({ lang, app: pending.app, requestId: pending.id, csrf: csrf.token, problem: o.problem, ins: o.ins, now: ctx.clock() }));
  };

  /** Step 2's page (the code). */
  const showCode = (req: FastifyRequest, reply: FastifyReply, status: number, pending: PendingAuthorization, lang: Lang, method: 'totp' | 'email', problem?: LoginProblem) => {
    const csrf = loginCsrf(req, pending);
    reply.header('set-cookie', csrf.setCookie);
    return sendPage(reply, status, secondFactorPage({ lang, app: pending.app, requestId: pending.id, csrf: csrf.token, method, problem, now: ctx.clock() }));
  };

  const answer = (reply: FastifyReply, out: AuthorizeOutcome, lang: Lang) => {
    if (out.kind === 'redirect') return reply.code(303).header('cache-control', 'no-store').header('location', out.location).send();
    if (out.kind === 'error_page') return sendPage(reply, out.status, errorPage({ lang, code: out.code, message: out.message }));
    return reply.code(303).header('location', consentUrl(out.requestId, lang)).send();
  };

  /** Where a login step led: the consent page (logged in), the code step, or a page saying why not. */
  const afterLoginStep = (req: FastifyRequest, reply: FastifyReply, pending: PendingAuthorization, lang: Lang, out: HolderLoginOutcome, ins?: string) => {
    const challenge = readCookie(req, CHALLENGE_COOKIE);
    const dropChallenge = challenge !== undefined ? [clearCookie(CHALLENGE_COOKIE)] : [];
    if (out.kind === 'authenticated') {
      reply.header('set-cookie', [cookie(HOLDER_COOKIE, out.credential, Math.min(secondsUntil(out.session.expiresAt), 3600)), ...dropChallenge]);
      return reply.code(303).header('cache-control', 'no-store').header('location', consentUrl(pending.id, lang)).send();
    }
    if (out.kind === 'second_factor') {
      reply.header('set-cookie', cookie(CHALLENGE_COOKIE, `${out.method}.${out.challenge}`, secondsUntil(out.expiresAt)));
      return reply.code(303).header('cache-control', 'no-store').header('location', consentUrl(pending.id, lang)).send();
    }
    switch (out.reason) {
      case 'NOT_HOLDER':
      case 'NO_RECORD':
        reply.header('set-cookie', [clearCookie(HOLDER_COOKIE), ...dropChallenge]);
        return sendPage(reply, 403, errorPage({ lang, code: out.reason, message: out.reason === 'NOT_HOLDER' ? NOT_HOLDER_MESSAGE : NO_RECORD_MESSAGE }));
      case 'SECOND_FACTOR_WRONG': {
        const c = challengeOf(challenge);
        if (c) return showCode(req, reply, 401, pending, lang, c.method, { kind: 'SECOND_FACTOR_WRONG' });
        return showLogin(req, reply, 401, pending, lang, { problem: { kind: 'CHALLENGE_EXPIRED' }, cookies: dropChallenge });
      }
      case 'ACCOUNT_LOCKED':
        return showLogin(req, reply, 403, pending, lang, { problem: { kind: 'ACCOUNT_LOCKED', lockedUntil: out.lockedUntil }, ins, cookies: dropChallenge });
      case 'CHALLENGE_EXPIRED':
        return showLogin(req, reply, 401, pending, lang, { problem: { kind: 'CHALLENGE_EXPIRED' }, cookies: dropChallenge });
      case 'CREDENTIAL_INVALID':
        return showLogin(req, reply, 401, pending, lang, { problem: { kind: 'CREDENTIAL_INVALID' } });
      case 'LOGIN_FAILED':
        return showLogin(req, reply, 401, pending, lang, { problem: { kind: 'LOGIN_FAILED' }, ins, cookies: dropChallenge });
    }
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
    const session = await holderOf(req);
    if (session) return sendPage(reply, 200, consentPage({ lang, app: pending.app, requestId: pending.id, csrf: pending.csrf, scope: pending.scope }), pending.redirectUri);
    const stale = readCookie(req, HOLDER_COOKIE) !== undefined ? [clearCookie(HOLDER_COOKIE)] : [];
    const c = challengeOf(readCookie(req, CHALLENGE_COOKIE));
    if (c && q.restart === undefined) {
      if (stale.length) reply.header('set-cookie', stale);
      return showCode(req, reply, 200, pending, lang, c.method);
    }
    return showLogin(req, reply, 200, pending, lang, { cookies: [...stale, ...(c ? [clearCookie(CHALLENGE_COOKIE)] : [])] });
  });

  /** The pending request and the check of the login form's anti-forgery token; a page when either fails. */
  async function loginForm(req: FastifyRequest, reply: FastifyReply) {
    const form = formOf(req);
    const lang = langOf(form.lang);
    const pending = await pendingAuthorization(ctx, form.request);
    if (!pending) return { done: answer(reply, expired(), lang) };
    if (!loginFormTokenMatches(pending.csrf, readCookie(req, LOGIN_CSRF_COOKIE), form.csrf)) {
      return { done: showLogin(req, reply, 403, pending, lang, { problem: { kind: 'CSRF' } }) };
    }
    return { form, lang, pending };
  }

  app.post(LOGIN_PATH, { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const f = await loginForm(req, reply);
    if ('done' in f) return f.done;
    const { form, lang, pending } = f;
    // a portal holding the holder's session token may hand it over (same form protection)
    if (form.holder_token !== undefined) return afterLoginStep(req, reply, pending, lang, await holderHandOver(ctx, form.holder_token, holderDeps));
    const out = await holderLogin(ctx, { ins: form.ins, password: form.password, client: clientInfo(req) }, holderDeps);
    return afterLoginStep(req, reply, pending, lang, out, typeof form.ins === 'string' ? form.ins.slice(0, 32) : undefined);
  });

  app.post(CODE_PATH, { config: LOGIN_RATE_LIMIT }, async (req, reply) => {
    const f = await loginForm(req, reply);
    if ('done' in f) return f.done;
    const { form, lang, pending } = f;
    const c = challengeOf(readCookie(req, CHALLENGE_COOKIE));
    if (!c) return afterLoginStep(req, reply, pending, lang, { kind: 'refused', reason: 'CHALLENGE_EXPIRED' });
    const out = await holderSecondFactor(ctx, { challenge: c.challenge, code: form.code, client: clientInfo(req) }, holderDeps);
    return afterLoginStep(req, reply, pending, lang, out);
  });

  app.post(CONSENT_PATH, async (req, reply) => {
    const form = formOf(req);
    const lang = langOf(form.lang);
    const pending = await pendingAuthorization(ctx, form.request);
    if (!pending) return answer(reply, expired(), lang);
    const session = await holderOf(req);
    if (!session) return showLogin(req, reply, 401, pending, lang, { problem: { kind: 'SESSION_ENDED' }, cookies: [clearCookie(HOLDER_COOKIE)] });
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

  // --- RFC 7009, RFC 7662 (the token endpoint itself is routes/oauth.ts) ------------------------------
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

