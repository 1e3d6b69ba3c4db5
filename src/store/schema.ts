/**
 * The database schema as Kysely sees it. One schema, two engines (SQLite, PostgreSQL): times are
 * ISO-8601 UTC text (sortable, portable), booleans are 0/1 integers, JSON is text, bytes are
 * BLOB/bytea (Buffer on both). Every table holding a person's data carries `record_id`, and every
 * query on it filters by it (the sharding key).
 */
import type { Generated } from 'kysely';
import type { AccountsTables } from './schema-accounts.ts';
import type { AppsTables } from './schema-apps.ts';
import type { PortalTables } from './schema-portal.ts';

export interface OrganisationTable {
  id: string;
  finess: string;
  name: string;
  kind: string;
  created_at: string;
}

export interface PractitionerTable {
  id: string;
  rpps: string;
  family: string;
  given: string;
  profession_code: string;
  specialty: string | null;
  organisation_finess: string | null;
  created_at: string;
}

export interface RecordTable {
  id: string;
  /** The INS (15 characters) and its OID: the lookup key of hospital software (TD0.2). */
  ins: string;
  ins_oid: string;
  identity_status: string;
  state: string;
  /** The lifecycle dates as JSON (domain/lifecycle.ts). */
  lifecycle: string;
  /** Earliest instant at which the daily job has something to do on this record. */
  due_at: string | null;
  minor: number;
  /** Holder's demographics (names, birth date, contact), sealed under the record's data key. */
  holder_enc: Buffer | null;
  /** scrypt hash of the one-time activation code of the opening notice. */
  activation_code_hash: string | null;
  created_at: string;
  updated_at: string;
}

export interface RecordKeyTable {
  record_id: string;
  /** The record's data key, wrapped by the master key `master_key_id`. */
  wrapped_key: Buffer;
  master_key_id: string;
  created_at: string;
}

export interface DocumentTable {
  id: string;
  record_id: string;
  unique_id: string;
  entry_uuid: string | null;
  status: string;
  archived: number;
  type_code: string;
  type_system: string | null;
  class_code: string;
  format_code: string | null;
  mime_type: string;
  size: number;
  sha256: string;
  sha1: string;
  creation_time: string;
  submitted_at: string;
  service_start: string | null;
  service_end: string | null;
  facility_type: string | null;
  practice_setting: string | null;
  language: string | null;
  /** JSON array of security label codes (confidentiality + visibility flags). */
  security_labels: string;
  /** JSON arrays: authors' RPPS and organisations' FINESS (needed by the access decision). */
  author_ids: string;
  author_orgs: string;
  filed_by_kind: string;
  filed_by_id: string;
  filed_by_org: string | null;
  submission_set_id: string | null;
  replaces_id: string | null;
  invisible_since: string | null;
  announced_at: string | null;
  /** Full metadata (titles, author names, comments, displays) sealed under the record's key. */
  meta_enc: Buffer;
  blob_id: string;
}

export interface BlobTable {
  id: string;
  record_id: string;
  /** Sealed bytes (the BlobStore never sees plaintext). */
  data: Buffer;
}

export interface SubmissionSetTable {
  id: string;
  record_id: string;
  unique_id: string;
  entry_uuid: string | null;
  source_id: string;
  submitted_at: string;
  document_ids: string;
  meta_enc: Buffer;
}

export interface AuditLogTable {
  seq: Generated<number>;
  /** The record whose chain this entry belongs to; '_system' for entries about no record. */
  record_id: string;
  record_seq: number;
  at: string;
  actor_kind: string;
  actor_id: string;
  /** Only for professionals, apps and clients: a holder's name never lands here in clear. */
  actor_name: string | null;
  action: string;
  document_id: string | null;
  mode: string;
  outcome: string;
  reason: string | null;
  detail: string | null;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  record_id: string;
  last_seq: number;
  last_hash: string;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface RecordSettingsTable {
  record_id: string;
  samu_allowed: number;
  break_glass_allowed: number;
  masked_in_emergency: number;
  mask_new_by_default: number;
  updated_at: string;
}

export interface RecordAccessTable {
  id: string;
  record_id: string;
  practitioner_id: string;
  /** consent | block | care_team | care_team_objection | medecin_traitant | administrateur */
  kind: string;
  granted_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  granted_by: string;
}

export interface RecordPersonTable {
  id: string;
  record_id: string;
  /** The person's own identifier (their INS) — they log in as themselves. */
  person_ins: string;
  kind: string; // legal_representative | caregiver
  name_enc: Buffer;
  delegation: string; // JSON
  added_at: string;
  removed_at: string | null;
}

export interface EmergencySessionTable {
  id: string;
  record_id: string;
  practitioner_id: string;
  mode: string;
  justification_enc: Buffer;
  started_at: string;
  expires_at: string;
}

export interface NotificationTable {
  id: string;
  record_id: string;
  recipient_kind: string;
  recipient_id: string;
  kind: string;
  /** JSON without health content: who, when, which mode; the reader resolves the rest. */
  payload: string;
  created_at: string;
  /** Earliest delivery time (e.g. the 2-week notice of an invisible document). */
  due_at: string;
  delivered_at: string | null;
  dedupe_key: string | null;
  /** Outbox delivery (migration 0008, services/outbox): times the row was taken to be sent. */
  attempts: Generated<number>;
  /** When the outbox took the row; cleared only after a failed attempt (never sent twice). */
  claimed_at: string | null;
  /** What the last attempt gave: `sent` or a code (`NO_ADDRESS`, `EXPIRED`, …), never content. */
  outcome: string | null;
  /** What delivered it: `email`, `console`, `sms`. */
  channel: string | null;
}

export interface PractitionerSeenTable {
  record_id: string;
  practitioner_id: string;
  first_at: string;
}

export interface ClientTable {
  client_id: string;
  name: string;
  finess: string;
  kind: string;
  jwks: string | null;
  jwks_url: string | null;
  scopes: string;
  created_at: string;
}

export interface OAuthJtiTable {
  client_id: string;
  jti: string;
  expires_at: string;
}

export interface DB extends AccountsTables, AppsTables, PortalTables {
  organisations: OrganisationTable;
  practitioners: PractitionerTable;
  records: RecordTable;
  record_keys: RecordKeyTable;
  documents: DocumentTable;
  blobs: BlobTable;
  submission_sets: SubmissionSetTable;
  audit_log: AuditLogTable;
  audit_heads: AuditHeadTable;
  meta: MetaTable;
  record_settings: RecordSettingsTable;
  record_access: RecordAccessTable;
  record_persons: RecordPersonTable;
  emergency_sessions: EmergencySessionTable;
  notifications: NotificationTable;
  practitioner_seen: PractitionerSeenTable;
  clients: ClientTable;
  oauth_jti: OAuthJtiTable;
}
