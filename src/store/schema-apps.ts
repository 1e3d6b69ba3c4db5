/** Kysely types of the apps tables (migration 0005); merged into DB in schema.ts. */
export interface AppsTables {}
