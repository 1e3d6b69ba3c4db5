/**
 * Numbered migrations, one schema for both engines. Each migration is a function of the engine
 * only where the two dialects differ (binary and auto-increment columns).
 */
import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Engine } from './db.ts';
import { m0004_accounts } from './migrations/0004_accounts.ts';
import { m0005_apps } from './migrations/0005_apps.ts';
import { m0006_portal } from './migrations/0006_portal.ts';
import { m0007_read_indexes } from './migrations/0007_read_indexes.ts';
import { m0008_outbox } from './migrations/0008_outbox.ts';

type AnyDb = Kysely<any>;

export function types(engine: Engine) {
  return {
    bytes: engine === 'postgres' ? sql`bytea` : sql`blob`,
  };
}

function m0001_foundation(engine: Engine): Migration {
  const t = types(engine);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('organisations')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('finess', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('practitioners')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('rpps', 'text', (c) => c.notNull().unique())
        .addColumn('family', 'text', (c) => c.notNull())
        .addColumn('given', 'text', (c) => c.notNull())
        .addColumn('profession_code', 'text', (c) => c.notNull())
        .addColumn('specialty', 'text')
        .addColumn('organisation_finess', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('records')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ins', 'text', (c) => c.notNull().unique())
        .addColumn('ins_oid', 'text', (c) => c.notNull())
        .addColumn('identity_status', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('lifecycle', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text')
        .addColumn('minor', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('holder_enc', t.bytes)
        .addColumn('activation_code_hash', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('records_due').on('records').columns(['due_at']).execute();

      await db.schema
        .createTable('record_keys')
        .addColumn('record_id', 'text', (c) => c.primaryKey())
        .addColumn('wrapped_key', t.bytes, (c) => c.notNull())
        .addColumn('master_key_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('documents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('entry_uuid', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('archived', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('type_code', 'text', (c) => c.notNull())
        .addColumn('type_system', 'text')
        .addColumn('class_code', 'text', (c) => c.notNull())
        .addColumn('format_code', 'text')
        .addColumn('mime_type', 'text', (c) => c.notNull())
        .addColumn('size', 'integer', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('sha1', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('submitted_at', 'text', (c) => c.notNull())
        .addColumn('service_start', 'text')
        .addColumn('service_end', 'text')
        .addColumn('facility_type', 'text')
        .addColumn('practice_setting', 'text')
        .addColumn('language', 'text')
        .addColumn('security_labels', 'text', (c) => c.notNull())
        .addColumn('author_ids', 'text', (c) => c.notNull())
        .addColumn('author_orgs', 'text', (c) => c.notNull())
        .addColumn('filed_by_kind', 'text', (c) => c.notNull())
        .addColumn('filed_by_id', 'text', (c) => c.notNull())
        .addColumn('filed_by_org', 'text')
        .addColumn('submission_set_id', 'text')
        .addColumn('replaces_id', 'text')
        .addColumn('invisible_since', 'text')
        .addColumn('announced_at', 'text')
        .addColumn('meta_enc', t.bytes, (c) => c.notNull())
        .addColumn('blob_id', 'text', (c) => c.notNull())
        .addUniqueConstraint('documents_record_unique_id', ['record_id', 'unique_id'])
        .execute();
      await db.schema
        .createIndex('documents_by_record')
        .on('documents')
        .columns(['record_id', 'status', 'creation_time'])
        .execute();
      await db.schema.createIndex('documents_by_entry_uuid').on('documents').columns(['entry_uuid']).execute();

      await db.schema
        .createTable('blobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('data', t.bytes, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('blobs_by_record').on('blobs').columns(['record_id']).execute();

      await db.schema
        .createTable('submission_sets')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('unique_id', 'text', (c) => c.notNull())
        .addColumn('entry_uuid', 'text')
        .addColumn('source_id', 'text', (c) => c.notNull())
        .addColumn('submitted_at', 'text', (c) => c.notNull())
        .addColumn('document_ids', 'text', (c) => c.notNull())
        .addColumn('meta_enc', t.bytes, (c) => c.notNull())
        .addUniqueConstraint('submission_sets_record_unique_id', ['record_id', 'unique_id'])
        .execute();

      let audit = db.schema.createTable('audit_log');
      audit =
        engine === 'postgres'
          ? audit.addColumn('seq', 'bigserial', (c) => c.primaryKey())
          : audit.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
      await audit
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('record_seq', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor_kind', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('actor_name', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('document_id', 'text')
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('outcome', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('detail', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addUniqueConstraint('audit_log_record_seq', ['record_id', 'record_seq'])
        .execute();

      await db.schema
        .createTable('audit_heads')
        .addColumn('record_id', 'text', (c) => c.primaryKey())
        .addColumn('last_seq', 'integer', (c) => c.notNull())
        .addColumn('last_hash', 'text', (c) => c.notNull())
        .execute();
      await db.insertInto('audit_heads').values({ record_id: '_system', last_seq: 0, last_hash: '' }).execute();
    },
  };
}

function m0002_access(engine: Engine): Migration {
  const t = types(engine);
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('record_settings')
        .addColumn('record_id', 'text', (c) => c.primaryKey())
        .addColumn('samu_allowed', 'integer', (c) => c.notNull())
        .addColumn('break_glass_allowed', 'integer', (c) => c.notNull())
        .addColumn('masked_in_emergency', 'integer', (c) => c.notNull())
        .addColumn('mask_new_by_default', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('record_access')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('practitioner_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('granted_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('granted_by', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('record_access_by_record')
        .on('record_access')
        .columns(['record_id', 'practitioner_id'])
        .execute();

      await db.schema
        .createTable('record_persons')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('person_ins', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name_enc', t.bytes, (c) => c.notNull())
        .addColumn('delegation', 'text', (c) => c.notNull())
        .addColumn('added_at', 'text', (c) => c.notNull())
        .addColumn('removed_at', 'text')
        .execute();
      await db.schema.createIndex('record_persons_by_record').on('record_persons').columns(['record_id']).execute();
      await db.schema.createIndex('record_persons_by_person').on('record_persons').columns(['person_ins']).execute();

      await db.schema
        .createTable('emergency_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('practitioner_id', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('justification_enc', t.bytes, (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('emergency_sessions_by_record')
        .on('emergency_sessions')
        .columns(['record_id', 'practitioner_id'])
        .execute();

      await db.schema
        .createTable('notifications')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('recipient_kind', 'text', (c) => c.notNull())
        .addColumn('recipient_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .addColumn('dedupe_key', 'text', (c) => c.unique())
        .execute();
      await db.schema.createIndex('notifications_by_record').on('notifications').columns(['record_id']).execute();

      await db.schema
        .createTable('practitioner_seen')
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('practitioner_id', 'text', (c) => c.notNull())
        .addColumn('first_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('practitioner_seen_pk', ['record_id', 'practitioner_id'])
        .execute();
    },
  };
}

function m0003_clients(): Migration {
  return {
    async up(db: AnyDb) {
      await db.schema
        .createTable('clients')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('finess', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('jwks', 'text')
        .addColumn('jwks_url', 'text')
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('oauth_jti')
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('oauth_jti_pk', ['client_id', 'jti'])
        .execute();
    },
  };
}

export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations() {
      return {
        '0001_foundation': m0001_foundation(engine),
        '0002_access': m0002_access(engine),
        '0003_clients': m0003_clients(),
        '0004_accounts': m0004_accounts(engine),
        '0005_apps': m0005_apps(engine),
        '0006_portal': m0006_portal(engine),
        '0007_read_indexes': m0007_read_indexes(),
        '0008_outbox': m0008_outbox(),
      };
    },
  };
}
