/**
 * Migration 0004: accounts tables (holder / representative / caregiver accounts, one-time codes,
 * login sessions, pending professional OpenID Connect logins). Both engines.
 */
import type { Kysely, Migration } from 'kysely';
import type { Engine } from '../db.ts';
import { types } from '../migrations.ts';

export function m0004_accounts(engine: Engine): Migration {
  const t = types(engine);
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('accounts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('ins', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('second_factor', 'text', (c) => c.notNull())
        .addColumn('totp_secret_enc', t.bytes)
        .addColumn('totp_pending_enc', t.bytes)
        .addColumn('totp_last_step', 'integer')
        .addColumn('email_enc', t.bytes)
        .addColumn('failed_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lock_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('locked_until', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('last_login_at', 'text')
        .execute();

      await db.schema
        .createTable('account_codes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text')
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('handle_hash', 'text', (c) => c.unique())
        .addColumn('code_hash', 'text')
        .addColumn('method', 'text')
        .addColumn('person_ins', 'text')
        .addColumn('record_id', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema.createIndex('account_codes_by_account').on('account_codes').columns(['account_id', 'purpose']).execute();
      await db.schema.createIndex('account_codes_by_person').on('account_codes').columns(['person_ins', 'purpose']).execute();

      await db.schema
        .createTable('account_sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_kind', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('actor', 'text')
        .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('ip', 'text')
        .execute();
      await db.schema.createIndex('account_sessions_by_subject').on('account_sessions').columns(['subject_kind', 'subject_id']).execute();

      await db.schema
        .createTable('pro_login_states')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('nonce', 'text', (c) => c.notNull())
        .addColumn('code_verifier', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  };
}
