/**
 * Migration 0008: delivery of the notifications outbox (services/outbox, docs/notifications.md).
 * - `attempts`: how many times the outbox took the row to send it;
 * - `claimed_at`: set (atomically, only where it was null) when the outbox takes the row, cleared
 *   again only after a failed attempt; a row taken and never released is never sent twice;
 * - `outcome`: what the last attempt gave (`sent`, or a code such as `NO_ADDRESS`, `EXPIRED`,
 *   `SMTP_…`) — never the message;
 * - `channel`: what delivered it (`email`, `console`, `sms`).
 * And the index the delivery loop reads by (due, undelivered rows).
 */
import type { Kysely, Migration } from 'kysely';

export function m0008_outbox(): Migration {
  return {
    async up(db: Kysely<any>) {
      // one column per statement: SQLite's ALTER TABLE adds one at a time
      await db.schema.alterTable('notifications').addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('notifications').addColumn('claimed_at', 'text').execute();
      await db.schema.alterTable('notifications').addColumn('outcome', 'text').execute();
      await db.schema.alterTable('notifications').addColumn('channel', 'text').execute();
      await db.schema.createIndex('notifications_due').on('notifications').columns(['delivered_at', 'claimed_at', 'due_at']).execute();
    },
  };
}
