/**
 * SMART App Launch v2, the authorization request (standalone patient launch): checks the request
 * as RFC 6749 §4.1 / RFC 7636 / SMART say, keeps it while the holder logs in and chooses the
 * purposes they consent to, then issues a one-time, short-lived authorization code bound to the
 * client, the exact redirect URI, the PKCE challenge and the grant.
 *
 * Errors the app must not be sent to (unknown client, redirect URI not registered exactly) are
 * shown to the holder; every other error goes back to the redirect URI with `error`, `state` and
 * `iss` (RFC 9207).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseScopes, narrow, scopeString, type Scope } from '../../auth/scopes.ts';
import { appendAudit } from '../../audit/audit.ts';
import { auditActor, recordById } from '../internal/repo.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { APP_OTHER_SCOPES, getApp, type CatalogueApp } from './catalogue.ts';
import { createGrant } from './grants.ts';
import type { HolderSession } from './holder-session.ts';

/** How long the holder has to log in and decide. */
export const AUTH_REQUEST_TTL_SECONDS = 600;
/** Authorization codes live one minute and serve once. */
export const CODE_TTL_SECONDS = 60;

/** What the consent can ever give: the documents and their bytes, read-only. */
const CONSENT_CEILING = parseScopes(['patient/DocumentReference.rs', 'patient/Binary.r']).scopes;

const PKCE_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;

export interface AuthorizeDeps {
  /** Carnet's issuer (`iss` of the authorization response, RFC 9207). */
  issuer: string;
  /** The FHIR base the app must name in `aud`. */
  fhirBase: string;
}

export interface Message {
  fr: string;
  en: string;
}

export type AuthorizeOutcome =
  /** Shown to the holder, never sent to the app (RFC 6749 §4.1.2.1). */
  | { kind: 'error_page'; status: number; code: string; message: Message }
  | { kind: 'redirect'; location: string }
  | { kind: 'pending'; requestId: string };

export interface PendingAuthorization {
  id: string;
  app: CatalogueApp;
  redirectUri: string;
  /** The scope offered for consent (already narrowed to the app's registration). */
  scope: string;
  state?: string;
  csrf: string;
  expiresAt: string;
}

export const sha256Hex = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
export const newSecret = () => randomBytes(32).toString('base64url');

/** Adds parameters to a redirect URI, keeping its own query (RFC 6749 §3.1.2). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const u = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

function errorRedirect(redirectUri: string, deps: AuthorizeDeps, error: string, description: string, state?: string): AuthorizeOutcome {
  return { kind: 'redirect', location: redirectWith(redirectUri, { error, error_description: description, state, iss: deps.issuer }) };
}

const sameUrl = (a: string, b: string) => a.replace(/\/+$/, '') === b.replace(/\/+$/, '');

/**
 * The scope an app may be offered: what it asked for, narrowed to its registration and to what a
 * consent can give (documents and their bytes, read-only, on the holder's record). Scopes beyond
 * that are dropped, not refused (SMART lets the server grant less and say so in `scope`); only a
 * request left with no clinical scope at all is refused (`invalid_scope`). v1 scopes granted in
 * full come back as written.
 */
export function narrowAppScope(requested: string, app: Pick<CatalogueApp, 'scopes'>):
  | { ok: true; scope: string; clinical: Scope[]; other: string[] }
  | { ok: false; error: 'invalid_scope'; description: string } {
  const parsed = parseScopes(requested);
  if (parsed.invalid.length) return { ok: false, error: 'invalid_scope', description: `malformed scope: ${parsed.invalid.join(' ')}` };
  const registered = parseScopes(app.scopes);
  const clinical = narrow(narrow(parsed.scopes, registered.scopes), CONSENT_CEILING);
  const other = parsed.other.filter((o) => registered.other.includes(o) && (APP_OTHER_SCOPES as readonly string[]).includes(o));
  if (!clinical.length) {
    return { ok: false, error: 'invalid_scope', description: 'none of the requested scopes can be granted to this app (patient/DocumentReference.rs, patient/Binary.r)' };
  }
  return { ok: true, scope: scopeString(clinical, other), clinical, other };
}

const single = (params: Record<string, unknown>, name: string): string | undefined | null => {
  const v = params[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') return null; // repeated (RFC 6749 §3.1: parameters MUST NOT be included more than once)
  return v;
};

/** Checks an authorization request and keeps it for the holder's decision. */
export async function startAuthorization(ctx: Ctx, params: Record<string, unknown>, deps: AuthorizeDeps): Promise<AuthorizeOutcome> {
  const clientId = single(params, 'client_id');
  if (!clientId) {
    return { kind: 'error_page', status: 400, code: 'APP_UNKNOWN', message: { fr: "La demande ne nomme pas d'application (client_id).", en: 'The request names no app (client_id).' } };
  }
  const app = await getApp(ctx, clientId);
  if (!app || app.disabled) {
    return { kind: 'error_page', status: 400, code: 'APP_UNKNOWN', message: { fr: "Cette application n'est pas référencée dans le catalogue de Carnet.", en: 'This app is not in the Carnet catalogue.' } };
  }
  const redirectUri = single(params, 'redirect_uri');
  // exact string match with a registered URI: no prefix, no normalisation
  if (!redirectUri || !app.redirectUris.includes(redirectUri)) {
    return {
      kind: 'error_page', status: 400, code: 'REDIRECT_URI_MISMATCH',
      message: { fr: "L'adresse de retour de l'application ne correspond pas à celle qui a été enregistrée.", en: "The app's redirect URI is not the one it registered." },
    };
  }
  const state = single(params, 'state');
  const fail = (error: string, description: string) => errorRedirect(redirectUri, deps, error, description, typeof state === 'string' ? state : undefined);
  for (const name of ['response_type', 'scope', 'state', 'aud', 'code_challenge', 'code_challenge_method', 'nonce', 'launch']) {
    if (single(params, name) === null) return fail('invalid_request', `parameter ${name} repeated`);
  }
  if (single(params, 'response_type') !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
  if (state !== undefined && (state as string).length > 1024) return fail('invalid_request', 'state is too long (1024 characters at most)');
  if (single(params, 'launch') !== undefined) return fail('invalid_request', 'EHR launch is not supported: use a standalone launch (launch/patient)');

  // PKCE (RFC 7636), S256 only: no method means `plain`, which is refused like an explicit `plain`.
  const challenge = single(params, 'code_challenge');
  const method = single(params, 'code_challenge_method');
  if (!challenge) return fail('invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256');
  if (method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256 (plain is not accepted)');
  if (!PKCE_CHALLENGE_RE.test(challenge as string)) return fail('invalid_request', 'code_challenge must be the base64url SHA-256 of the verifier (43 characters)');

  // SMART: `aud` names the FHIR server the app wants to talk to; a token for another server is never issued.
  const aud = single(params, 'aud');
  if (!aud) return fail('invalid_request', 'aud is required: the FHIR base URL');
  if (!sameUrl(aud as string, deps.fhirBase)) return fail('invalid_request', 'aud is not this FHIR server');

  const nonce = single(params, 'nonce');
  if (nonce !== undefined && (nonce as string).length > 512) return fail('invalid_request', 'nonce is too long');
  const scope = single(params, 'scope');
  if (!scope) return fail('invalid_scope', 'scope is required');
  const narrowed = narrowAppScope(scope as string, app);
  if (!narrowed.ok) return fail(narrowed.error, narrowed.description);

  const id = newSecret();
  const now = ctx.clock();
  await inTransaction(ctx, async (tx) => {
    // forget requests nobody finished (cheap, indexed)
    await tx.db.deleteFrom('app_auth_requests').where('expires_at', '<', new Date(now.getTime() - 86_400_000).toISOString()).execute();
    await tx.db.insertInto('app_auth_requests').values({
      id, client_id: app.clientId, redirect_uri: redirectUri, scope: narrowed.scope,
      state: (state as string | undefined) ?? null, nonce: (nonce as string | undefined) ?? null,
      code_challenge: challenge as string, csrf: newSecret(), record_id: null,
      created_at: now.toISOString(), expires_at: new Date(now.getTime() + AUTH_REQUEST_TTL_SECONDS * 1000).toISOString(), completed_at: null,
    }).execute();
  });
  return { kind: 'pending', requestId: id };
}

const EXPIRED: AuthorizeOutcome = {
  kind: 'error_page', status: 400, code: 'AUTH_REQUEST_EXPIRED',
  message: { fr: "Cette demande d'autorisation a expiré ou a déjà été traitée. Relancez la connexion depuis l'application.", en: 'This authorization request has expired or was already handled. Start again from the app.' },
};

/** A request still waiting for the holder (not expired, not decided), with its app. */
export async function pendingAuthorization(ctx: Ctx, requestId: unknown): Promise<PendingAuthorization | undefined> {
  if (typeof requestId !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(requestId)) return undefined;
  const row = await ctx.db.selectFrom('app_auth_requests').selectAll().where('id', '=', requestId).executeTakeFirst();
  if (!row || row.completed_at !== null || row.expires_at <= ctx.clock().toISOString()) return undefined;
  const app = await getApp(ctx, row.client_id);
  if (!app || app.disabled) return undefined;
  return {
    id: row.id, app, redirectUri: row.redirect_uri, scope: row.scope, csrf: row.csrf, expiresAt: row.expires_at,
    ...(row.state !== null ? { state: row.state } : {}),
  };
}

export interface DecisionInput {
  requestId: string;
  csrf: string;
  approve: boolean;
  /** Purpose ids the holder ticked. */
  purposeIds: string[];
}

const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The holder's answer. Approve with at least one purpose → a grant and a code sent to the app;
 * refuse → `access_denied`. `again` asks the page to be shown once more (nothing ticked).
 */
export async function decideAuthorization(
  ctx: Ctx,
  session: HolderSession,
  input: DecisionInput,
  deps: AuthorizeDeps,
): Promise<AuthorizeOutcome | { kind: 'again'; message: Message }> {
  const pending = await pendingAuthorization(ctx, input.requestId);
  if (!pending) return EXPIRED;
  if (typeof input.csrf !== 'string' || !safeEqual(input.csrf, pending.csrf)) {
    return { kind: 'error_page', status: 403, code: 'CSRF', message: { fr: "Le formulaire n'est pas valide. Relancez la connexion depuis l'application.", en: 'The form is not valid. Start again from the app.' } };
  }
  const record = await recordById(ctx, session.recordId);
  if (record.state !== 'active') {
    // apps read active records only (DOMAIN §5): connecting one now would give it nothing
    return {
      kind: 'error_page', status: 409, code: 'RECORD_NOT_ACTIVE',
      message: { fr: "Votre dossier n'est pas ouvert : aucune application ne peut y être connectée pour l'instant.", en: 'Your record is not open: no app can be connected to it for now.' },
    };
  }
  const offered = new Set(pending.app.purposes.map((p) => p.id));
  const chosen = [...new Set(input.purposeIds)];
  if (chosen.some((p) => !offered.has(p))) {
    return { kind: 'error_page', status: 400, code: 'PURPOSE_UNKNOWN', message: { fr: "Un usage choisi n'est pas proposé par cette application.", en: 'A chosen purpose is not one this app offers.' } };
  }
  if (input.approve && !chosen.length) {
    return { kind: 'again', message: { fr: 'Cochez au moins un usage, ou refusez.', en: 'Tick at least one purpose, or refuse.' } };
  }

  const result = await inTransaction(ctx, async (tx) => {
    const now = tx.clock();
    const row = await tx.db.selectFrom('app_auth_requests').selectAll().where('id', '=', pending.id).executeTakeFirstOrThrow();
    // one decision per request, even with two tabs racing
    const done = await tx.db
      .updateTable('app_auth_requests')
      .set({ completed_at: now.toISOString(), record_id: session.recordId })
      .where('id', '=', pending.id)
      .where('completed_at', 'is', null)
      .executeTakeFirst();
    if (Number(done.numUpdatedRows ?? 0) !== 1) return undefined;
    if (!input.approve) {
      await appendAudit(tx.db, tx.engine, {
        recordId: session.recordId, actor: auditActor(session.actor), action: 'app.connect', outcome: 'failure', reason: 'HOLDER_REFUSED',
        detail: { clientId: pending.app.clientId, app: pending.app.name }, at: now,
      });
      return { code: undefined };
    }
    const grant = await createGrant(tx, { recordId: session.recordId, app: pending.app, purposeIds: chosen, scope: row.scope, grantedBy: session.actor });
    const code = newSecret();
    await tx.db.insertInto('app_codes').values({
      code_hash: sha256Hex(code), grant_id: grant.id, record_id: session.recordId, client_id: pending.app.clientId,
      redirect_uri: row.redirect_uri, code_challenge: row.code_challenge, nonce: row.nonce,
      created_at: now.toISOString(), expires_at: new Date(now.getTime() + CODE_TTL_SECONDS * 1000).toISOString(), used_at: null,
    }).execute();
    return { code };
  });
  if (!result) return EXPIRED;
  if (!result.code) return errorRedirect(pending.redirectUri, deps, 'access_denied', 'the holder refused', pending.state);
  return { kind: 'redirect', location: redirectWith(pending.redirectUri, { code: result.code, state: pending.state, iss: deps.issuer }) };
}
