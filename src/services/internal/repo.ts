/**
 * Reading and writing the rows behind the use cases: records, documents, relationships. Every query
 * on a person's data filters by `record_id`. Only services import this.
 */
import { sql, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import type { DB } from '../../store/schema.ts';
import { sealJson, openJson } from '../../crypto/envelope.ts';
import { CarnetError, notFound } from '../../domain/errors.ts';
import { parseIns } from '../../domain/ins.ts';
import type { DocumentMetadata, StoredDocument } from '../../domain/document.ts';
import { flagsOf } from '../../domain/document.ts';
import type { Lifecycle } from '../../domain/lifecycle.ts';
import type {
  Actor, DocumentView, HolderSettings, RecordState, RecordView, Relationship,
} from '../../domain/access/types.ts';
import { DEFAULT_HOLDER_SETTINGS } from '../../domain/access/types.ts';
import type { DocumentTable, RecordSettingsTable, RecordTable } from '../../store/schema.ts';
import type { AuditActor } from '../../audit/audit.ts';
import type { Ctx } from '../context.ts';
import type { RecordKeys } from '../../crypto/record-keys.ts';

export type RecordRow = RecordTable;

export interface HolderDemographics {
  birthName: string;
  usedName?: string;
  firstNames: string[];
  sex: 'M' | 'F' | 'U';
  birthDate: string;
  birthPlaceCode?: string;
  email?: string;
  phone?: string;
}

export const aad = {
  holder: (recordId: string) => `${recordId}:holder`,
  docMeta: (recordId: string, docId: string) => `${recordId}:doc-meta:${docId}`,
  blob: (recordId: string, docId: string) => `${recordId}:doc-bytes:${docId}`,
  submission: (recordId: string, id: string) => `${recordId}:submission:${id}`,
  person: (recordId: string, id: string) => `${recordId}:person:${id}`,
  justification: (recordId: string, id: string) => `${recordId}:justification:${id}`,
};

export async function recordById(ctx: Ctx, recordId: string): Promise<RecordRow> {
  const row = await ctx.db.selectFrom('records').selectAll().where('id', '=', recordId).executeTakeFirst();
  if (!row) throw notFound('RECORD_UNKNOWN', 'No record with this id');
  return row;
}

/** Finds a record by INS, after checking the INS itself (a malformed INS is a typed error). */
export async function recordByIns(ctx: Ctx, ins: string, oid?: string): Promise<RecordRow> {
  const parsed = parseIns(ins, oid);
  const row = await ctx.db.selectFrom('records').selectAll().where('ins', '=', parsed.value).executeTakeFirst();
  if (!row) throw notFound('PATIENT_UNKNOWN', 'No record exists for this INS');
  return row;
}

export const lifecycleOf = (row: RecordRow): Lifecycle => JSON.parse(row.lifecycle) as Lifecycle;
export const recordView = (row: RecordRow): RecordView => ({ id: row.id, state: row.state as RecordState, minor: row.minor === 1 });

export async function holderDemographics(ctx: Ctx, row: RecordRow): Promise<HolderDemographics | undefined> {
  if (!row.holder_enc) return undefined;
  const key = await ctx.keys.get(ctx.db, row.id);
  return openJson<HolderDemographics>(key, Buffer.from(row.holder_enc), aad.holder(row.id));
}

export const holderDisplayName = (d?: HolderDemographics) =>
  d ? `${d.firstNames[0] ?? ''} ${d.usedName ?? d.birthName}`.trim() : '';

export async function settingsOf(ctx: Ctx, recordId: string): Promise<HolderSettings> {
  const row = await ctx.db.selectFrom('record_settings').selectAll().where('record_id', '=', recordId).executeTakeFirst();
  return settingsFromRow(row);
}

type SettingsColumns = Pick<RecordSettingsTable, 'samu_allowed' | 'break_glass_allowed' | 'masked_in_emergency' | 'mask_new_by_default'>;

function settingsFromRow(row: SettingsColumns | undefined): HolderSettings {
  if (!row) return { ...DEFAULT_HOLDER_SETTINGS };
  return {
    samuAllowed: row.samu_allowed === 1,
    breakGlassAllowed: row.break_glass_allowed === 1,
    maskedInEmergency: row.masked_in_emergency === 1,
    maskNewByDefault: row.mask_new_by_default === 1,
  };
}

/** `select id from records where ins = …`: a record designated by INS inside a larger query. */
type RecordIdQuery = SelectQueryBuilder<DB, 'records', { id: string }>;

/** The record row and the holder's settings (left join: no settings row means the defaults). */
function recordWithSettingsQuery(ctx: Ctx, ref: string | { ins: string }) {
  return ctx.db
    .selectFrom('records')
    .leftJoin('record_settings', 'record_settings.record_id', 'records.id')
    .selectAll('records')
    .select([
      'record_settings.record_id as s_record_id',
      'record_settings.samu_allowed as s_samu_allowed',
      'record_settings.break_glass_allowed as s_break_glass_allowed',
      'record_settings.masked_in_emergency as s_masked_in_emergency',
      'record_settings.mask_new_by_default as s_mask_new_by_default',
    ])
    .where(typeof ref === 'string' ? 'records.id' : 'records.ins', '=', typeof ref === 'string' ? ref : ref.ins);
}

type RecordWithSettingsRow = NonNullable<Awaited<ReturnType<ReturnType<typeof recordWithSettingsQuery>['executeTakeFirst']>>>;

function splitRecordWithSettings(row: RecordWithSettingsRow): { record: RecordRow; settings: HolderSettings } {
  const { s_record_id, s_samu_allowed, s_break_glass_allowed, s_masked_in_emergency, s_mask_new_by_default, ...record } = row;
  const settings = settingsFromRow(
    s_record_id === null
      ? undefined
      : {
          samu_allowed: Number(s_samu_allowed),
          break_glass_allowed: Number(s_break_glass_allowed),
          masked_in_emergency: Number(s_masked_in_emergency),
          mask_new_by_default: Number(s_mask_new_by_default),
        },
  );
  return { record: record as RecordRow, settings };
}

/** How `actor` stands towards the record (consent, block, care team, links, emergency session). */
export async function relationshipOf(ctx: Ctx, recordId: string, actor: Actor): Promise<Relationship> {
  if (actor.kind === 'holder') return actor.id === recordId ? { personLink: 'holder' } : {};
  if (actor.kind === 'legal_representative' || actor.kind === 'caregiver') {
    const link = await ctx.db
      .selectFrom('record_persons')
      .select(['kind', 'delegation'])
      .where('record_id', '=', recordId)
      .where('person_ins', '=', actor.id)
      .where('removed_at', 'is', null)
      .executeTakeFirst();
    if (!link || link.kind !== actor.kind) return {};
    return { personLink: actor.kind, delegation: JSON.parse(link.delegation) };
  }
  if (actor.kind !== 'professional') return {};
  // one round trip: the practitioner's access rows (by grant date), then their latest emergency session
  const rows = await professionalAccessRows(ctx, recordId, actor.id).orderBy('src').orderBy('at').execute();
  return relationshipFromAccessRows(rows);
}

/** A professional's access rows on a record (src 0, by grant date) and their latest emergency session (src 1). */
function professionalAccessRows(ctx: Ctx, recordId: string | RecordIdQuery, practitionerId: string) {
  const accessRows = ctx.db
    .selectFrom('record_access')
    .select([
      sql<number>`0`.as('src'), 'kind', 'granted_at as at', 'expires_at', 'revoked_at', sql<number>`0`.as('justified'),
    ])
    .where('record_id', '=', recordId)
    .where('practitioner_id', '=', practitionerId);
  const latestSession = ctx.db
    .selectFrom(
      ctx.db
        .selectFrom('emergency_sessions')
        .select(['mode', 'started_at', 'expires_at', 'justification_enc'])
        .where('record_id', '=', recordId)
        .where('practitioner_id', '=', practitionerId)
        .orderBy('started_at', 'desc')
        .limit(1)
        .as('s'),
    )
    .select([
      sql<number>`1`.as('src'), 's.mode as kind', 's.started_at as at', 's.expires_at', sql<string | null>`null`.as('revoked_at'),
      sql<number>`length(s.justification_enc)`.as('justified'),
    ]);
  return accessRows.unionAll(latestSession);
}

interface AccessRow {
  src: number;
  kind: string;
  at: string;
  expires_at: string | null;
  revoked_at: string | null;
  justified: number | null;
}

function relationshipFromAccessRows(rows: readonly AccessRow[]): Relationship {
  const rel: Relationship = {};
  for (const r of rows) {
    if (Number(r.src) === 1) {
      rel.emergency = {
        mode: r.kind as 'bris_de_glace' | 'centre_15',
        startedAt: r.at,
        expiresAt: r.expires_at!,
        // the decision only needs to know a justification was given; its text stays sealed
        justification: Number(r.justified) > 0 ? 'given' : '',
      };
      continue;
    }
    const active = r.revoked_at === null;
    switch (r.kind) {
      case 'consent':
        // the latest consent row wins (a revoked one stays visible as revoked)
        rel.consent = { grantedAt: r.at, expiresAt: r.expires_at ?? undefined, revokedAt: r.revoked_at ?? undefined };
        break;
      case 'block':
        if (active) rel.blockedAt = r.at;
        break;
      case 'care_team':
        if (active) rel.careTeam = true;
        break;
      case 'care_team_objection':
        if (active) rel.careTeamObjected = true;
        break;
      case 'medecin_traitant':
        if (active) rel.medecinTraitant = true;
        break;
      case 'administrateur':
        if (active) rel.administrateur = true;
        break;
    }
  }
  return rel;
}

const byAccessOrder = (a: AccessRow, b: AccessRow) =>
  Number(a.src) - Number(b.src) || (a.at < b.at ? -1 : a.at > b.at ? 1 : 0);

/**
 * What every read decision needs, in one round trip for a professional: the record row, the
 * holder's settings, and how the actor stands towards the record (their access rows and latest
 * emergency session, aggregated as JSON in the same query). Same results as `recordById` + `settingsOf` +
 * `relationshipOf`.
 */
export async function recordForActor(
  ctx: Ctx, ref: string | { ins: string; oid?: string }, actor: Actor,
): Promise<{ record: RecordRow; settings: HolderSettings; relationship: Relationship }> {
  // by INS: the INS is checked first (a malformed one is a typed error), then looked up in the query
  const byIns = typeof ref === 'string' ? undefined : parseIns(ref.ins, ref.oid).value;
  const where = byIns ? { ins: byIns } : (ref as string);
  const unknown = () => (byIns ? notFound('PATIENT_UNKNOWN', 'No record exists for this INS') : notFound('RECORD_UNKNOWN', 'No record with this id'));
  if (actor.kind !== 'professional') {
    const row = await recordWithSettingsQuery(ctx, where).executeTakeFirst();
    if (!row) throw unknown();
    const { record, settings } = splitRecordWithSettings(row);
    return { record, settings, relationship: await relationshipOf(ctx, record.id, actor) };
  }
  const recordId = byIns ? ctx.db.selectFrom('records').select('id').where('ins', '=', byIns) : (ref as string);
  const access = professionalAccessRows(ctx, recordId, actor.id);
  const agg: RawBuilder<AccessRow[] | string> =
    ctx.engine === 'postgres'
      ? sql<AccessRow[]>`(select coalesce(json_agg(r), '[]'::json) from (${access}) as r)`
      : sql<string>`(select coalesce(json_group_array(json_object('src', r.src, 'kind', r.kind, 'at', r.at, 'expires_at', r.expires_at, 'revoked_at', r.revoked_at, 'justified', r.justified)), '[]') from (${access}) as r)`;
  const row = await recordWithSettingsQuery(ctx, where).select(agg.as('access_rows')).executeTakeFirst();
  if (!row) throw unknown();
  const { access_rows, ...rest } = row;
  const rows = (typeof access_rows === 'string' ? JSON.parse(access_rows) : access_rows) as AccessRow[];
  const { record, settings } = splitRecordWithSettings(rest);
  return { record, settings, relationship: relationshipFromAccessRows([...rows].sort(byAccessOrder)) };
}

export const auditActor = (a: Actor): AuditActor => ({ kind: a.kind, id: a.id, name: a.name });

const parseJsonArray = (s: string | null): string[] => (s ? (JSON.parse(s) as string[]) : []);

export function documentView(row: DocumentTable): DocumentView {
  const labels = parseJsonArray(row.security_labels);
  return {
    id: row.id,
    category: { code: row.class_code },
    type: { code: row.type_code, system: row.type_system ?? undefined },
    status: row.status as DocumentView['status'],
    archived: row.archived === 1,
    flags: flagsOf(labels.map((code) => ({ code }))),
    authorIds: parseJsonArray(row.author_ids),
    authorOrganisations: parseJsonArray(row.author_orgs),
    submittedAt: row.submitted_at,
    invisibleSince: row.invisible_since ?? undefined,
    announcedAt: row.announced_at ?? undefined,
  };
}

/** The full stored document: clear columns + the sealed metadata opened with the record key. */
export function storedDocument(row: DocumentTable, key: Buffer, keys?: RecordKeys): StoredDocument {
  const sealed = row.meta_enc as Uint8Array;
  const openMeta = () => openJson<DocumentMetadata>(key, Buffer.from(sealed), aad.docMeta(row.record_id, row.id));
  // the record's keys remember what they opened (the listing opens every document each time)
  const meta = keys ? keys.openedValue(row.record_id, `doc-meta:${row.id}`, sealed, openMeta) : openMeta();
  const labels = parseJsonArray(row.security_labels);
  // the clear columns are authoritative for what the services change after filing
  const byCode = new Map(meta.securityLabels.map((l) => [l.code, l]));
  return {
    ...meta,
    securityLabels: labels.map((code) => byCode.get(code) ?? { code }),
    id: row.id,
    recordId: row.record_id,
    status: row.status as StoredDocument['status'],
    archived: row.archived === 1,
    size: Number(row.size),
    sha256: row.sha256,
    sha1: row.sha1,
    submittedAt: row.submitted_at,
    submissionSetId: row.submission_set_id ?? undefined,
    replacesId: row.replaces_id ?? undefined,
    invisibleSince: row.invisible_since ?? undefined,
    announcedAt: row.announced_at ?? undefined,
    filedBy: { kind: row.filed_by_kind, id: row.filed_by_id, organisation: row.filed_by_org ?? undefined },
  };
}

export function sealDocumentMeta(key: Buffer, recordId: string, docId: string, meta: DocumentMetadata): Buffer {
  return sealJson(key, meta, aad.docMeta(recordId, docId));
}

export async function documentRow(ctx: Ctx, recordId: string, docId: string): Promise<DocumentTable> {
  const row = await ctx.db
    .selectFrom('documents')
    .selectAll()
    .where('record_id', '=', recordId)
    .where('id', '=', docId)
    .executeTakeFirst();
  if (!row) throw notFound('DOCUMENT_UNKNOWN', 'No such document in this record');
  return row;
}

/** Finds a document by id alone (ITI-68 URLs carry no record): one indexed lookup, then per-record. */
export async function documentRowById(ctx: Ctx, docId: string): Promise<DocumentTable> {
  const row = await ctx.db.selectFrom('documents').selectAll().where('id', '=', docId).executeTakeFirst();
  if (!row) throw notFound('DOCUMENT_UNKNOWN', 'No such document');
  return row;
}

export function assertRecordState(row: RecordRow, allowed: RecordState[], what: string) {
  if (!allowed.includes(row.state as RecordState)) {
    throw new CarnetError('RECORD_STATE', 'conflict', `${what} is not possible on a record in state ${row.state}`, {
      details: { state: row.state },
    });
  }
}
