/** Kysely types of the accounts tables (migration 0004); merged into DB in schema.ts. */

/**
 * A person's own account (holder, legal representative, caregiver): one per INS. Secrets are never
 * in clear: the password is an scrypt hash, the TOTP secret and the e-mail address are sealed under
 * the account's own data key (a `record_keys` row named `account:<id>`, wrapped by the master key).
 */
export interface AccountTable {
  id: string;
  /** The person's own INS (15 characters): their login name. */
  ins: string;
  /** `scrypt$N$r$p$salt$hash` (services/accounts/passwords.ts). */
  password_hash: string;
  /** `email` (one-time code to the outbox) | `totp`. */
  second_factor: string;
  totp_secret_enc: Buffer | null;
  /** A TOTP secret being enrolled, until a first code confirms it. */
  totp_pending_enc: Buffer | null;
  /** Last accepted TOTP time step (a code is accepted once). */
  totp_last_step: number | null;
  email_enc: Buffer | null;
  /** Consecutive failed attempts since the last success or lock. */
  failed_count: number;
  /** How many times the account was locked since its last successful login (back-off). */
  lock_count: number;
  locked_until: string | null;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

/** One-time codes and login challenges: only hashes are kept. */
export interface AccountCodeTable {
  id: string;
  /** The account the code is for (null for an invitation, which precedes the account). */
  account_id: string | null;
  /** `login` (second-factor challenge) | `reset` (password reset) | `invitation`. */
  purpose: string;
  /** SHA-256 of the opaque handle given to the client (login challenges). */
  handle_hash: string | null;
  /** scrypt hash of the code sent by e-mail or handed over (null for a TOTP challenge). */
  code_hash: string | null;
  /** `totp` | `email` for login challenges. */
  method: string | null;
  /** Invitations: who is invited (their INS) and to which record. */
  person_ins: string | null;
  record_id: string | null;
  attempts: number;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Login sessions of persons and professionals: expire (idle, absolute) and can be revoked. */
export interface AccountSessionTable {
  id: string;
  /** `account` (subject_id = account id) | `professional` (subject_id = RPPS). */
  subject_kind: string;
  subject_id: string;
  /** `password+totp` | `password+email` | `x509` | `oidc`. */
  method: string;
  /**
   * Professionals: the `carnet_actor` claim their card or identity provider established (JSON; no
   * secret, no health data), re-used when the session mints a new token. Null for accounts.
   */
  actor: string | null;
  /** SHA-256 of the session secret that mints new access tokens. */
  secret_hash: string;
  created_at: string;
  last_seen_at: string;
  /** Absolute end of the session. */
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  user_agent: string | null;
  ip: string | null;
}

/** Pending OpenID Connect logins of professionals (state → nonce + PKCE verifier), minutes-long. */
export interface ProLoginStateTable {
  /** SHA-256 of `state`. */
  id: string;
  nonce: string;
  code_verifier: string;
  created_at: string;
  expires_at: string;
}

export interface AccountsTables {
  accounts: AccountTable;
  account_codes: AccountCodeTable;
  account_sessions: AccountSessionTable;
  pro_login_states: ProLoginStateTable;
}
