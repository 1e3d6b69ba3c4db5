/** Kysely types of the portal tables (migration 0006); merged into DB in schema.ts. */
export interface PortalTables {}
