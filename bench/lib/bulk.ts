/**
 * The growth run's bulk path: records and documents written straight into the tables, many per
 * transaction, with the rows the services write — same columns, same values, same sealing under
 * each record's own data key (wrapped by the master key exactly as `RecordKeys.create` does), same
 * audit chains (`entryHash`, one chain per record) and notifications. It reuses the services' own
 * pieces (envelope sealing, AAD labels, lifecycle, audit hashing, INS parsing); what it skips is
 * the per-request work (HTTP, validation, CDA parsing, one transaction per document).
 *
 * What differs from the services, on purpose: every bulk record's activation-code hash is the same
 * scrypt hash (one scrypt per record would cost 50k × ~50 ms for a column no read touches), and the
 * documents' bytes are cut to `docBytes` (the head of a real CDA fixture personalised for the
 * patient) so that a million documents fit the disk.
 */
import { createHash, randomUUID } from 'node:crypto';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { newDataKey, seal, sealJson } from '../../src/crypto/envelope.ts';
import type { KeyProvider } from '../../src/crypto/keys.ts';
import { auditEntry, type AuditInput } from '../../src/audit/audit.ts';
import { applyEvent, openRecord } from '../../src/domain/lifecycle.ts';
import { dueAtOf } from '../../src/services/internal/lifecycle.ts';
import { aad } from '../../src/services/internal/repo.ts';
import { hashSecret, newActivationCode } from '../../src/services/internal/secrets.ts';
import { parseIns } from '../../src/domain/ins.ts';
import { flagsOf, type DocumentMetadata } from '../../src/domain/document.ts';
import { DEFAULT_HOLDER_SETTINGS } from '../../src/domain/access/types.ts';
import { CONFIDENTIALITY_SYSTEM } from '../../src/services/fileDocuments.ts';
import { DEFAULT_CONFIG } from '../../src/services/context.ts';
import type { BenchStore } from './store.ts';
import type { BenchRecord, Practitioner } from './dataset.ts';
import { authorRole } from './dataset.ts';
import { rng, syntheticIns, TEST_INS_OID } from './ids.ts';
import { documentBytes, metadataFor, personalise, tagOf, type CdaTemplate } from './cda.ts';

type Row = Record<string, unknown>;

/** audit.ts keeps names only for these kinds (a person's name never lands in the log). */

interface Tables {
  records: Row[];
  record_keys: Row[];
  record_settings: Row[];
  record_access: Row[];
  documents: Row[];
  blobs: Row[];
  submission_sets: Row[];
  audit_log: Row[];
  audit_heads: Row[];
  notifications: Row[];
}
const emptyTables = (): Tables => ({
  records: [], record_keys: [], record_settings: [], record_access: [], documents: [], blobs: [], submission_sets: [], audit_log: [], audit_heads: [], notifications: [],
});

/** One record's audit chain, built like appendAudit builds it. */
class Chain {
  seq = 0;
  hash = '';
  constructor(private readonly recordId: string, private readonly out: Row[]) {}
  append(e: Omit<AuditInput, 'recordId'>) {
    const entry = auditEntry(this.recordId, this.seq + 1, this.hash, e);
    this.out.push(entry);
    this.seq = entry.record_seq;
    this.hash = entry.hash;
  }
}

const notification = (recordId: string, kind: string, payload: Record<string, unknown>, at: string): Row => ({
  id: randomUUID(), record_id: recordId, recipient_kind: 'holder', recipient_id: recordId, kind, payload: JSON.stringify(payload),
  created_at: at, due_at: at, delivered_at: null, dedupe_key: null,
});

export interface BulkOptions {
  firstRecord: number;
  records: number;
  docsPerRecord: number;
  practitioners: Practitioner[];
  templates: CdaTemplate[];
  /** 0: whole documents; otherwise the first `docBytes` bytes of each. */
  docBytes: number;
  keyProvider: KeyProvider;
  seed: number;
  /** Records per transaction. */
  batch?: number;
  progress?: (records: number) => void;
}

const roleCache = new WeakMap<BulkOptions, Map<string, Practitioner[]>>();
function rolesOf(o: BulkOptions): Map<string, Practitioner[]> {
  let m = roleCache.get(o);
  if (!m) {
    m = new Map();
    for (const p of o.practitioners) m.set(p.role, [...(m.get(p.role) ?? []), p]);
    roleCache.set(o, m);
  }
  return m;
}

const templateMeta = new Map<string, DocumentMetadata>();
/**
 * The metadata Carnet derives from a template's header for one author: parsed once per template,
 * the author's RPPS substituted as `personalise` substitutes it in the CDA (the header carries no
 * other author-dependent value the metadata takes).
 */
function metadataOf(t: CdaTemplate, rpps: string, cache: Map<string, DocumentMetadata>): DocumentMetadata {
  const k = `${t.file}|${rpps}`;
  let m = cache.get(k);
  if (!m) {
    let base = templateMeta.get(t.file);
    if (!base) templateMeta.set(t.file, (base = metadataFor(documentBytes(personalise(t, t.ins, t.authorRpps), tagOf(0)))));
    m = t.authorRpps ? (JSON.parse(JSON.stringify(base).split(t.authorRpps).join(rpps)) as DocumentMetadata) : base;
    cache.set(k, m);
  }
  return m;
}

const headCache = new Map<string, CdaTemplate>();
/** The template cut a little after `bytes` (an INS or RPPS across the cut is cut off anyway). */
function headOf(t: CdaTemplate, bytes: number): CdaTemplate {
  const k = `${t.file}|${bytes}`;
  let h = headCache.get(k);
  if (!h) headCache.set(k, (h = { ...t, text: t.text.slice(0, t.tagAt + bytes + 32) }));
  return h;
}

/** Builds the rows of one record and its documents, as addPatient + setMedecinTraitant + fileDocuments would. */
export function recordRows(i: number, o: BulkOptions, activationHash: string, metaCache: Map<string, DocumentMetadata>, out: Tables): BenchRecord {
  const r = rng(o.seed * 1_000_003 + i);
  const now = new Date();
  const at = now.toISOString();
  const ins = parseIns(syntheticIns(i), TEST_INS_OID);
  const recordId = randomUUID();
  const key = newDataKey();
  const { keyId, wrapped } = o.keyProvider.wrap(key, recordId);
  let lc = openRecord(now, { windowDays: DEFAULT_CONFIG.oppositionWindowDays });
  lc = applyEvent(lc, { type: 'activate' }, now);
  out.record_keys.push({ record_id: recordId, wrapped_key: wrapped, master_key_id: keyId, created_at: at });
  out.records.push({
    id: recordId, ins: ins.value, ins_oid: ins.oid, identity_status: 'qualifiee', state: lc.state, lifecycle: JSON.stringify(lc), due_at: dueAtOf(lc),
    minor: 0, holder_enc: sealJson(key, { birthName: 'BENCH', firstNames: ['Titulaire'], sex: i % 2 ? 'F' : 'M', birthDate: '1970-01-01' }, aad.holder(recordId)),
    activation_code_hash: activationHash, created_at: at, updated_at: at,
  });
  const s = DEFAULT_HOLDER_SETTINGS;
  out.record_settings.push({
    record_id: recordId, samu_allowed: s.samuAllowed ? 1 : 0, break_glass_allowed: s.breakGlassAllowed ? 1 : 0,
    masked_in_emergency: s.maskedInEmergency ? 1 : 0, mask_new_by_default: s.maskNewByDefault ? 1 : 0, updated_at: at,
  });
  const chain = new Chain(recordId, out.audit_log);
  chain.append({ actor: { kind: 'operator', id: 'carnet', name: 'Carnet' }, action: 'record.create', outcome: 'success', detail: { state: lc.state, identityStatus: 'qualifiee' }, at: now });
  out.notifications.push(notification(recordId, 'record_opened', { state: lc.state, pendingUntil: lc.pendingUntil ?? null }, at));
  const consult = rolesOf(o).get('consult')!;
  const mt = consult[i % consult.length];
  out.record_access.push({ id: randomUUID(), record_id: recordId, practitioner_id: mt.rpps, kind: 'medecin_traitant', granted_at: at, expires_at: null, revoked_at: null, granted_by: `holder:${recordId}` });
  chain.append({ actor: { kind: 'holder', id: recordId, name: 'Titulaire' }, action: 'rights.medecin_traitant.grant', outcome: 'success', detail: { practitioner: mt.rpps }, at: now });

  const docIds: string[] = [];
  for (let d = 0; d < o.docsPerRecord; d++) {
    const t = r.pick(o.templates);
    const author = r.pick(rolesOf(o).get(authorRole(t))!);
    const base = metadataOf(t, author.rpps, metaCache);
    // cut documents: only the kept head is personalised (the same bytes as cutting the whole one)
    const bytes = o.docBytes > 0
      ? documentBytes(personalise(headOf(t, o.docBytes), ins.value, author.rpps), tagOf(BigInt(i) * 1000n + BigInt(d))).subarray(0, o.docBytes)
      : documentBytes(personalise(t, ins.value, author.rpps), tagOf(BigInt(i) * 1000n + BigInt(d)));
    const m: DocumentMetadata = { ...base, uniqueId: `1.2.250.1.999.${o.seed}.${i}.${d}`, creationTime: new Date(now.getTime() - r.int(700) * 86_400_000 - r.int(86_400_000)).toISOString() };
    let labels = [...m.securityLabels];
    if (!labels.some((l) => ['N', 'R', 'V', 'L', 'M', 'U'].includes(l.code))) labels = [{ code: 'N', system: CONFIDENTIALITY_SYSTEM, display: 'normal' }, ...labels];
    const flags = flagsOf(labels);
    const id = randomUUID();
    const ssId = randomUUID();
    const authorIds = [...new Set(m.authors.map((a) => a.rpps).filter((x): x is string => !!x))];
    const authorOrgs = [...new Set(m.authors.map((a) => a.organisation?.finess).filter((x): x is string => !!x))];
    if (!authorOrgs.length) authorOrgs.push(author.finess);
    out.blobs.push({ id, record_id: recordId, data: seal(key, bytes, aad.blob(recordId, id)) });
    out.documents.push({
      id, record_id: recordId, unique_id: m.uniqueId, entry_uuid: null, status: 'current', archived: 0, type_code: m.type.code,
      type_system: m.type.system ?? null, class_code: m.category.code, format_code: m.format?.code ?? null, mime_type: m.mimeType, size: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'), sha1: createHash('sha1').update(bytes).digest('base64'),
      creation_time: new Date(m.creationTime!).toISOString(), submitted_at: at, service_start: m.servicePeriod?.start ?? null,
      service_end: m.servicePeriod?.end ?? null, facility_type: m.facilityType?.code ?? null, practice_setting: m.practiceSetting?.code ?? null,
      language: m.language ?? null, security_labels: JSON.stringify(labels.map((l) => l.code)), author_ids: JSON.stringify(authorIds),
      author_orgs: JSON.stringify(authorOrgs), filed_by_kind: 'professional', filed_by_id: author.rpps, filed_by_org: author.finess,
      submission_set_id: ssId, replaces_id: null, invisible_since: flags.includes('INVISIBLE_PATIENT') ? at : null, announced_at: null,
      meta_enc: sealJson(key, { ...m, securityLabels: labels }, aad.docMeta(recordId, id)), blob_id: id,
    });
    chain.append({
      actor: { kind: 'professional', id: author.rpps, name: `${author.given} ${author.family}` }, action: 'document.file', documentId: id,
      outcome: 'success', detail: { submissionSetId: ssId, transaction: 'ITI-65' }, at: now,
    });
    out.notifications.push(notification(recordId, 'new_document', { documentId: id, classCode: m.category.code }, at));
    const ss = { uniqueId: `${m.uniqueId}.1`, sourceId: `urn:oid:1.2.250.1.999.${o.seed}` };
    out.submission_sets.push({
      id: ssId, record_id: recordId, unique_id: ss.uniqueId, entry_uuid: null, source_id: ss.sourceId, submitted_at: at,
      document_ids: JSON.stringify([id]), meta_enc: sealJson(key, { ...ss, actor: { kind: 'professional', id: author.rpps } }, aad.submission(recordId, ssId)),
    });
    docIds.push(id);
  }
  out.audit_heads.push({ record_id: recordId, last_seq: chain.seq, last_hash: chain.hash });
  return { id: recordId, ins: ins.value, mt: mt.rpps, docIds };
}

const ORDER: (keyof Tables)[] = ['records', 'record_keys', 'record_settings', 'record_access', 'audit_heads', 'documents', 'blobs', 'submission_sets', 'audit_log', 'notifications'];

export async function bulkLoad(store: BenchStore, o: BulkOptions): Promise<BenchRecord[]> {
  const activationHash = hashSecret(newActivationCode());
  const metaCache = new Map<string, DocumentMetadata>();
  const batch = o.batch ?? 200;
  const out: BenchRecord[] = [];
  if (store.engine === 'sqlite') {
    const db = new SQLite(store.sqliteFile!);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('secure_delete = ON');
    const stmts = new Map<string, SQLite.Statement>();
    const insert = (table: string, row: Row) => {
      const cols = Object.keys(row);
      const k = `${table}:${cols.join(',')}`;
      let st = stmts.get(k);
      if (!st) stmts.set(k, (st = db.prepare(`insert into ${table} (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`)));
      st.run(...cols.map((c) => row[c]));
    };
    const write = db.transaction((t: Tables) => {
      for (const table of ORDER) for (const row of t[table]) insert(table, row);
    });
    try {
      for (let i = o.firstRecord; i < o.firstRecord + o.records; i += batch) {
        const t = emptyTables();
        for (let j = i; j < Math.min(i + batch, o.firstRecord + o.records); j++) out.push(recordRows(j, o, activationHash, metaCache, t));
        write(t);
        o.progress?.(out.length);
      }
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: store.databaseUrl });
    await client.connect();
    const insertMany = async (table: string, rows: Row[]) => {
      if (!rows.length) return;
      const cols = Object.keys(rows[0]);
      const per = Math.max(1, Math.floor(30_000 / cols.length));
      for (let k = 0; k < rows.length; k += per) {
        const chunk = rows.slice(k, k + per);
        const params: unknown[] = [];
        const tuples = chunk.map((row) => `(${cols.map((c) => (params.push(row[c]), `$${params.length}`)).join(', ')})`);
        await client.query(`insert into ${table} (${cols.join(', ')}) values ${tuples.join(', ')}`, params);
      }
    };
    try {
      for (let i = o.firstRecord; i < o.firstRecord + o.records; i += batch) {
        const t = emptyTables();
        for (let j = i; j < Math.min(i + batch, o.firstRecord + o.records); j++) out.push(recordRows(j, o, activationHash, metaCache, t));
        await client.query('begin');
        for (const table of ORDER) await insertMany(table, t[table]);
        await client.query('commit');
        o.progress?.(out.length);
      }
      // what autovacuum would do after such a load, before anyone reads
      await client.query('analyze');
    } finally {
      await client.end();
    }
  }
  return out;
}
