/**
 * Kysely types of the apps tables (migration 0005); merged into DB in schema.ts. The catalogue
 * (`apps`) holds no personal data; every other table carries `record_id` (the sharding key).
 * Codes and refresh tokens are stored only as SHA-256 hashes: a database dump grants nothing.
 */

/** A referenced app of the catalogue (`carnet app add`). */
export interface AppTable {
  client_id: string;
  name: string;
  description: string | null;
  /** `public` (PKCE only) or `confidential` (private_key_jwt with a registered JWKS). */
  client_type: string;
  jwks: string | null;
  jwks_url: string | null;
  /** JSON array of exact redirect URIs. */
  redirect_uris: string;
  /** JSON array: the most the app may ever be granted (SMART scopes, read-only). */
  scopes: string;
  /** JSON array of purposes: `{ id, label, labelEn?, types[], categories[] }`. */
  purposes: string;
  /** Where the holder starts the app (standalone launch), optional. */
  launch_url: string | null;
  created_at: string;
  disabled_at: string | null;
}

/** One holder consent: an app connected to a record for some purposes. Revoking it kills its tokens. */
export interface AppGrantTable {
  id: string;
  record_id: string;
  client_id: string;
  /** JSON array of the purpose ids the holder ticked. */
  purposes: string;
  /** The granted scope string (space-separated). */
  scope: string;
  /** JSON arrays: document type codes / class codes or MES categories the consent covers. */
  allowed_types: string;
  allowed_categories: string;
  granted_by_kind: string;
  granted_by_id: string;
  created_at: string;
  revoked_at: string | null;
  /** `holder`, `app`, `CODE_REUSED`, `REFRESH_REUSED`, `APP_DISABLED` … */
  revoked_reason: string | null;
}

/** An authorization request between `/authorize` and the holder's decision (short-lived). */
export interface AppAuthRequestTable {
  id: string;
  client_id: string;
  redirect_uri: string;
  /** Scope after narrowing to the app's registration (what the consent screen offers). */
  scope: string;
  state: string | null;
  nonce: string | null;
  code_challenge: string;
  /** Anti-forgery token of the consent form. */
  csrf: string;
  /** The holder's record, once they have logged in on the consent screen. */
  record_id: string | null;
  created_at: string;
  expires_at: string;
  completed_at: string | null;
}

export interface AppCodeTable {
  code_hash: string;
  grant_id: string;
  record_id: string;
  client_id: string;
  redirect_uri: string;
  code_challenge: string;
  nonce: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface AppRefreshTokenTable {
  token_hash: string;
  grant_id: string;
  record_id: string;
  client_id: string;
  scope: string;
  created_at: string;
  expires_at: string;
  /** Set when rotated (or revoked): presenting it again is a reuse and revokes the grant. */
  used_at: string | null;
}

export interface AppsTables {
  apps: AppTable;
  app_grants: AppGrantTable;
  app_auth_requests: AppAuthRequestTable;
  app_codes: AppCodeTable;
  app_refresh_tokens: AppRefreshTokenTable;
}
