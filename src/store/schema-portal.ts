/** Kysely types of the portal tables (migration 0006); merged into DB in schema.ts. */

/**
 * The holder's profile (DOMAIN §4): trusted person, advance directives, organ-donation wish. One
 * row per record; everything it says is sealed under the record's data key.
 */
export interface PortalProfileTable {
  record_id: string;
  /** JSON of `HolderProfile` (services/portal/profile.ts), sealed (AES-256-GCM) under the record key. */
  data_enc: Buffer;
  updated_at: string;
}

/**
 * When a reader of the holder's space last looked at their alerts: what came after is "new".
 * `reader` is `kind:id` (the holder, or a legal representative / caregiver of the record).
 */
export interface PortalSeenTable {
  record_id: string;
  reader: string;
  seen_at: string;
}

export interface PortalTables {
  portal_profiles: PortalProfileTable;
  portal_seen: PortalSeenTable;
}
