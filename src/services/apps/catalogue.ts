/**
 * The catalogue of referenced apps (DOMAIN §7): `carnet app add` registers an app with its
 * purposes — each a French label and the document types / categories it needs —, the most it may
 * ever be granted (SMART scopes, read-only, `patient/` context), its exact redirect URIs, and how
 * it authenticates (public with PKCE, or confidential with a JWKS for private_key_jwt).
 */
import { randomUUID } from 'node:crypto';
import { conflict, invalid } from '../../domain/errors.ts';
import { defaultMatrix, MES_CATEGORIES, MES_CATEGORY_LABELS, type MesCategory } from '../../domain/access/index.ts';
import { parseScopes } from '../../auth/scopes.ts';
import { appendAudit } from '../../audit/audit.ts';
import type { AppTable } from '../../store/schema-apps.ts';
import { inTransaction, type Ctx } from '../context.ts';

export interface AppPurpose {
  /** Stable id (`suivi-biologie`), unique within the app. */
  id: string;
  /** What the holder reads on the consent screen (French). */
  label: string;
  labelEn?: string;
  /** Document type codes (LOINC) this purpose needs. */
  types: string[];
  /** Class codes (JDV_J57) or MES categories (`BIOLOGIE`, `CPT_REND` …) this purpose needs. */
  categories: string[];
}

export type AppClientType = 'public' | 'confidential';

export interface CatalogueApp {
  clientId: string;
  name: string;
  description?: string;
  clientType: AppClientType;
  jwks?: { keys: Record<string, unknown>[] };
  jwksUrl?: string;
  redirectUris: string[];
  /** The most the app may be granted. */
  scopes: string[];
  purposes: AppPurpose[];
  launchUrl?: string;
  createdAt: string;
  disabled: boolean;
}

export interface AddAppInput {
  clientId?: string;
  name: string;
  description?: string;
  /** Default: `confidential` when keys are given, else `public`. */
  clientType?: AppClientType;
  jwks?: { keys: Record<string, unknown>[] };
  jwksUrl?: string;
  redirectUris: string[];
  scopes?: string[];
  purposes: AppPurpose[];
  launchUrl?: string;
}

/** Non-clinical scope tokens an app may be registered for. */
export const APP_OTHER_SCOPES = ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'online_access'] as const;
/** FHIR resource types apps read through (documents and their bytes). */
export const APP_RESOURCE_TYPES = ['DocumentReference', 'Binary'] as const;
export const DEFAULT_APP_SCOPES = ['openid', 'fhirUser', 'launch/patient', 'offline_access', 'patient/DocumentReference.rs', 'patient/Binary.r'];

const PURPOSE_ID_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const CODE_RE = /^[A-Za-z0-9._-]{1,64}$/;
const CLIENT_ID_RE = /^[A-Za-z0-9._~-]{1,128}$/;

const isLoopback = (host: string) => ['127.0.0.1', 'localhost', '[::1]'].includes(host);

/**
 * Redirect URIs are compared exactly (no wildcard, no prefix). Allowed: https; http on a loopback
 * host (development, RFC 8252 §7.3); a private-use scheme with a dot (`org.example.app:/cb`,
 * RFC 8252 §7.1) for native apps. No fragment.
 */
export function checkRedirectUri(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('APP_REDIRECT_URI_INVALID', 'A redirect URI must be an absolute URI', { details: { redirectUri: raw } });
  }
  if (u.hash || raw.includes('#')) throw invalid('APP_REDIRECT_URI_INVALID', 'A redirect URI must not have a fragment', { details: { redirectUri: raw } });
  const scheme = u.protocol.slice(0, -1);
  const ok =
    scheme === 'https' ||
    (scheme === 'http' && isLoopback(u.hostname)) ||
    (/^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+$/.test(scheme) && !['javascript', 'data', 'file', 'vbscript'].includes(scheme));
  if (!ok) {
    throw invalid('APP_REDIRECT_URI_INVALID', 'A redirect URI must be https, http on a loopback address, or a private-use scheme (reverse domain name)', {
      details: { redirectUri: raw },
    });
  }
  return raw;
}

function checkScopes(scopes: string[]): string[] {
  const parsed = parseScopes(scopes);
  if (parsed.invalid.length) throw invalid('APP_SCOPE_INVALID', `Unknown scope syntax: ${parsed.invalid.join(' ')}`);
  const unknown = parsed.other.filter((o) => !(APP_OTHER_SCOPES as readonly string[]).includes(o));
  if (unknown.length) throw invalid('APP_SCOPE_INVALID', `Scopes an app cannot be granted: ${unknown.join(' ')}`, { details: { scopes: unknown } });
  for (const s of parsed.scopes) {
    if (s.context !== 'patient') {
      throw invalid('APP_SCOPE_NOT_PATIENT', `An app acts on the holder's record only (patient/ scopes): ${s.raw}`, { details: { scope: s.raw } });
    }
    if (s.interactions.some((i) => i !== 'r' && i !== 's')) {
      throw invalid('APP_SCOPE_NOT_READ_ONLY', `Catalogue apps read only: ${s.raw}`, { details: { scope: s.raw } });
    }
    if (s.resourceType !== '*' && !(APP_RESOURCE_TYPES as readonly string[]).includes(s.resourceType)) {
      throw invalid('APP_SCOPE_RESOURCE', `Apps read documents (DocumentReference, Binary): ${s.raw}`, { details: { scope: s.raw } });
    }
  }
  if (!parsed.scopes.length) throw invalid('APP_SCOPE_INVALID', 'An app needs at least one patient/ scope');
  return scopes;
}

function checkPurposes(purposes: AppPurpose[]): AppPurpose[] {
  if (!Array.isArray(purposes) || !purposes.length) throw invalid('APP_PURPOSES_MISSING', 'An app declares at least one purpose');
  const seen = new Set<string>();
  return purposes.map((p) => {
    if (!p || typeof p.id !== 'string' || !PURPOSE_ID_RE.test(p.id)) {
      throw invalid('APP_PURPOSE_INVALID', 'A purpose id is 1–64 lower-case letters, digits, - or _', { details: { id: p?.id } });
    }
    if (seen.has(p.id)) throw invalid('APP_PURPOSE_INVALID', `Purpose ${p.id} is declared twice`);
    seen.add(p.id);
    const label = typeof p.label === 'string' ? p.label.trim() : '';
    if (!label || label.length > 300) throw invalid('APP_PURPOSE_INVALID', `Purpose ${p.id} needs a French label (≤ 300 characters)`);
    const types = [...new Set(p.types ?? [])];
    const categories = [...new Set(p.categories ?? [])];
    if (!types.length && !categories.length) throw invalid('APP_PURPOSE_INVALID', `Purpose ${p.id} names no document type or category`);
    for (const c of [...types, ...categories]) {
      if (typeof c !== 'string' || !CODE_RE.test(c)) throw invalid('APP_PURPOSE_INVALID', `Purpose ${p.id}: invalid code`, { details: { code: c } });
    }
    const labelEn = typeof p.labelEn === 'string' && p.labelEn.trim() ? p.labelEn.trim() : undefined;
    return { id: p.id, label, ...(labelEn ? { labelEn } : {}), types, categories };
  });
}

function checkJwksUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('APP_JWKS_URL', 'The JWKS URL must be an absolute URL');
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) throw invalid('APP_JWKS_URL', 'The JWKS URL must be https');
  return raw;
}

export async function addApp(ctx: Ctx, input: AddAppInput): Promise<CatalogueApp> {
  const name = typeof input.name === 'string' ? input.name.trim() : '';
  if (!name || name.length > 200) throw invalid('APP_NAME_INVALID', 'An app needs a name (≤ 200 characters)');
  const clientId = input.clientId ?? `app-${randomUUID()}`;
  if (!CLIENT_ID_RE.test(clientId) || clientId === 'connected') throw invalid('APP_CLIENT_ID_INVALID', 'A client id is 1–128 URL-safe characters (not `connected`)');
  const clientType: AppClientType = input.clientType ?? (input.jwks || input.jwksUrl ? 'confidential' : 'public');
  if (clientType !== 'public' && clientType !== 'confidential') throw invalid('APP_CLIENT_TYPE', 'The client type is public or confidential');
  if (clientType === 'public' && (input.jwks || input.jwksUrl)) {
    throw invalid('APP_CLIENT_TYPE', 'A public app has no keys: register it as confidential to use private_key_jwt');
  }
  if (clientType === 'confidential') {
    if (!input.jwks && !input.jwksUrl) throw invalid('APP_KEYS_MISSING', 'A confidential app needs a JWKS or a JWKS URL (private_key_jwt)');
    if (input.jwks && !Array.isArray(input.jwks.keys)) throw invalid('APP_JWKS_INVALID', 'The JWKS must have a "keys" array');
    if (input.jwks?.keys.some((k) => 'd' in k || 'k' in k)) throw invalid('APP_JWKS_PRIVATE', 'The JWKS holds a private or symmetric key: register public keys only');
    if (input.jwksUrl) checkJwksUrl(input.jwksUrl);
  }
  if (!Array.isArray(input.redirectUris) || !input.redirectUris.length) throw invalid('APP_REDIRECT_URI_MISSING', 'An app needs at least one redirect URI');
  const redirectUris = [...new Set(input.redirectUris.map(checkRedirectUri))];
  const scopes = checkScopes(input.scopes?.length ? input.scopes : DEFAULT_APP_SCOPES);
  const purposes = checkPurposes(input.purposes);
  const launchUrl = input.launchUrl ? checkLaunchUrl(input.launchUrl) : undefined;
  const description = input.description?.trim() ? input.description.trim().slice(0, 2000) : undefined;

  return inTransaction(ctx, async (tx) => {
    const now = tx.clock().toISOString();
    const taken =
      (await tx.db.selectFrom('apps').select('client_id').where('client_id', '=', clientId).executeTakeFirst()) ??
      (await tx.db.selectFrom('clients').select('client_id').where('client_id', '=', clientId).executeTakeFirst());
    if (taken) throw conflict('APP_EXISTS', 'An app or client with this id is already registered');
    await tx.db.insertInto('apps').values({
      client_id: clientId, name, description: description ?? null, client_type: clientType,
      jwks: input.jwks ? JSON.stringify(input.jwks) : null, jwks_url: input.jwksUrl ?? null,
      redirect_uris: JSON.stringify(redirectUris), scopes: JSON.stringify(scopes), purposes: JSON.stringify(purposes),
      launch_url: launchUrl ?? null, created_at: now, disabled_at: null,
    }).execute();
    await appendAudit(tx.db, tx.engine, {
      actor: { kind: 'operator', id: 'carnet-cli', name: 'carnet app add' }, action: 'app.add', outcome: 'success',
      detail: { clientId, clientType, purposes: purposes.map((p) => p.id) }, at: tx.clock(),
    });
    return toApp((await tx.db.selectFrom('apps').selectAll().where('client_id', '=', clientId).executeTakeFirstOrThrow()));
  });
}

function checkLaunchUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw invalid('APP_LAUNCH_URL', 'The launch URL must be an absolute URL');
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) throw invalid('APP_LAUNCH_URL', 'The launch URL must be https');
  return raw;
}

export function toApp(row: AppTable): CatalogueApp {
  return {
    clientId: row.client_id,
    name: row.name,
    ...(row.description ? { description: row.description } : {}),
    clientType: row.client_type as AppClientType,
    ...(row.jwks ? { jwks: JSON.parse(row.jwks) } : {}),
    ...(row.jwks_url ? { jwksUrl: row.jwks_url } : {}),
    redirectUris: JSON.parse(row.redirect_uris),
    scopes: JSON.parse(row.scopes),
    purposes: JSON.parse(row.purposes),
    ...(row.launch_url ? { launchUrl: row.launch_url } : {}),
    createdAt: row.created_at,
    disabled: row.disabled_at !== null,
  };
}

export async function getApp(ctx: Ctx, clientId: string): Promise<CatalogueApp | undefined> {
  if (typeof clientId !== 'string' || !CLIENT_ID_RE.test(clientId)) return undefined;
  const row = await ctx.db.selectFrom('apps').selectAll().where('client_id', '=', clientId).executeTakeFirst();
  return row ? toApp(row) : undefined;
}

/** The catalogue: every app that is not withdrawn, by name. */
export async function listApps(ctx: Ctx): Promise<CatalogueApp[]> {
  const rows = await ctx.db.selectFrom('apps').selectAll().where('disabled_at', 'is', null).orderBy('name').orderBy('client_id').execute();
  return rows.map(toApp);
}

/** What a set of consented purposes lets the app read: the union of their types and categories. */
export function consentedReads(app: CatalogueApp, purposeIds: readonly string[]): { allowedTypes: string[]; allowedCategories: string[] } {
  const chosen = app.purposes.filter((p) => purposeIds.includes(p.id));
  return {
    allowedTypes: [...new Set(chosen.flatMap((p) => p.types))].sort(),
    allowedCategories: [...new Set(chosen.flatMap((p) => p.categories))].sort(),
  };
}

export interface ReadableItem {
  kind: 'category' | 'type';
  code: string;
  label: { fr: string; en: string };
}

/** Plain-language list of what a purpose (or a grant) lets an app read, for consent and portal. */
export function describeReads(types: readonly string[], categories: readonly string[]): ReadableItem[] {
  const cats = categories.map((code): ReadableItem => {
    if ((MES_CATEGORIES as readonly string[]).includes(code)) {
      const l = MES_CATEGORY_LABELS[code as MesCategory];
      return { kind: 'category', code, label: { fr: l.fr, en: l.en } };
    }
    const cls = Object.hasOwn(defaultMatrix.classes, code) ? defaultMatrix.classes[code].label : undefined;
    return { kind: 'category', code, label: cls ?? { fr: `Documents de la classe ${code}`, en: `Documents of class ${code}` } };
  });
  const tys = types.map((code): ReadableItem => {
    const t = Object.hasOwn(defaultMatrix.types, code) ? defaultMatrix.types[code].label : undefined;
    return { kind: 'type', code, label: t ? { fr: t, en: `${t} (LOINC ${code})` } : { fr: `Documents de type LOINC ${code}`, en: `Documents of LOINC type ${code}` } };
  });
  return [...cats, ...tys];
}

/** The public face of an app (portal catalogue): no keys. */
export function publicView(app: CatalogueApp) {
  return {
    clientId: app.clientId,
    name: app.name,
    ...(app.description ? { description: app.description } : {}),
    ...(app.launchUrl ? { launchUrl: app.launchUrl } : {}),
    clientType: app.clientType,
    scopes: app.scopes,
    purposes: app.purposes.map((p) => ({
      id: p.id,
      label: { fr: p.label, en: p.labelEn ?? p.label },
      reads: describeReads(p.types, p.categories),
    })),
  };
}

/**
 * A purpose written on the command line: JSON (`{"id":…,"label":…,"types":[…],"categories":[…]}`)
 * or `id=bio;label=Suivre vos analyses;categories=BIOLOGIE,CPT_REND;types=11502-2;label-en=…`.
 */
export function parsePurposeSpec(spec: string): AppPurpose {
  const text = spec.trim();
  if (text.startsWith('{')) {
    try {
      return JSON.parse(text) as AppPurpose;
    } catch {
      throw invalid('APP_PURPOSE_INVALID', 'The purpose is not valid JSON');
    }
  }
  const fields = new Map<string, string>();
  for (const part of text.split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) throw invalid('APP_PURPOSE_INVALID', 'A purpose is written id=…;label=…;categories=…;types=…');
    fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const list = (k: string) => (fields.get(k) ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  return {
    id: fields.get('id') ?? '',
    label: fields.get('label') ?? '',
    ...(fields.get('label-en') ? { labelEn: fields.get('label-en') } : {}),
    types: list('types'),
    categories: list('categories'),
  };
}
