/** Kysely types of the accounts tables (migration 0004); merged into DB in schema.ts. */
export interface AccountsTables {}
