/**
 * Test-only helpers shared by the service suites (`*.test.ts` beside this file): real CDA fixtures,
 * valid test INS numbers, actors, synthetic documents and small readers of the audit log and the
 * notifications outbox. Nothing in the application imports this module.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CarnetError } from '../domain/errors.ts';
import { FIXTURES_ROOT } from '../fixtures.ts';
import type { Actor } from '../domain/access/types.ts';
import type { DocumentMetadata } from '../domain/document.ts';
import { defaultMatrix } from '../domain/access/matrix.ts';
import { metadataFromCda } from './internal/cda-metadata.ts';
import { addPatient, type AddPatientInput } from './addPatient.ts';
import type { TestCarnet } from '../store/testing.ts';

/** The CDA examples (src/fixtures.ts says where the fixtures are). */
export const FIXTURES_DIR = join(FIXTURES_ROOT, 'cda');

/** The test identity every ANS example document (or nearly) is written for. */
export const FIXTURE_INS = '279035121518989';
export const TEST_OID = '1.2.250.1.213.1.4.10';
/** Author of the BIO-CR-BIO lab reports, and its laboratory. */
export const LAB_AUTHOR_RPPS = '01234534765';
export const LAB_FINESS = '120459876';

export const fixture = (name: string): Buffer => readFileSync(join(FIXTURES_DIR, name));

/** Metadata of a real CDA as a source would send it, with overrides. */
export function cdaDocument(name: string, overrides: Partial<DocumentMetadata> = {}) {
  const bytes = fixture(name);
  return { bytes, metadata: { ...metadataFromCda(bytes), ...overrides } };
}

/** A valid NIR-shaped INS from its 13-character body (key = 97 − body mod 97). */
export function insOf(body: string): string {
  assert.match(body, /^[12]\d{12}$/);
  const key = 97n - (BigInt(body) % 97n);
  return body + key.toString().padStart(2, '0');
}

let insCounter = 0;
/** A fresh valid test INS (a man born in March 1985 in Paris), different at each call. */
export function freshIns(): string {
  insCounter++;
  const commune = String(101 + Math.floor(insCounter / 999)).padStart(3, '0');
  const order = String(1 + (insCounter % 999)).padStart(3, '0');
  return insOf(`1850375${commune}${order}`);
}

export function professional(
  id: string,
  opts: { professionCode?: string; organisation?: string; name?: string } = {},
): Extract<Actor, { kind: 'professional' }> {
  return {
    kind: 'professional', id, name: opts.name ?? `Dr ${id}`, professionCode: opts.professionCode ?? '10',
    ...(opts.organisation ? { organisation: opts.organisation } : {}),
  };
}

export const holderOf = (recordId: string, name = 'Titulaire'): Actor => ({ kind: 'holder', id: recordId, name });
export const OPERATOR: Actor = { kind: 'operator', id: 'op-1', name: 'Opérateur' };

/** The lab author of the BIO fixtures, as the professional filing them. */
export const labAuthor = () => professional(LAB_AUTHOR_RPPS, { organisation: LAB_FINESS, name: 'Marcel Camparini' });

export async function newRecord(
  c: TestCarnet,
  opts: Partial<Omit<AddPatientInput, 'demographics'>> & { birthName?: string; firstName?: string } = {},
) {
  const ins = opts.ins ?? freshIns();
  return addPatient(c.ctx, {
    ins,
    insOid: opts.insOid ?? TEST_OID,
    identityStatus: opts.identityStatus ?? 'qualifiee',
    activateNow: opts.activateNow ?? true,
    minor: opts.minor,
    demographics: {
      birthName: opts.birthName ?? 'TESTNOM', firstNames: [opts.firstName ?? 'Camille'], sex: 'F', birthDate: '1985-03-01',
    },
  });
}

let docCounter = 0;
/**
 * A small non-CDA document (PDF bytes) with metadata: type, class, author and flags as asked.
 * Type defaults to a lab report (LOINC 11502-2, class 10).
 */
export function syntheticDocument(
  c: TestCarnet,
  opts: { typeCode?: string; classCode?: string; author?: { rpps: string; finess?: string }; flags?: string[]; text?: string } = {},
) {
  docCounter++;
  const uniqueId = `1.2.250.1.999.${process.pid}.${Date.now()}.${docCounter}`;
  const bytes = Buffer.from(`%PDF-1.4\n% ${opts.text ?? 'synthetic document'} ${uniqueId}\n%%EOF\n`);
  const metadata: DocumentMetadata = {
    uniqueId,
    type: { system: 'http://loinc.org', code: opts.typeCode ?? '11502-2' },
    category: { system: defaultMatrix.classSystem, code: opts.classCode ?? '10' },
    authors: opts.author
      ? [{ kind: 'practitioner', rpps: opts.author.rpps, professionCode: '10', organisation: opts.author.finess ? { finess: opts.author.finess } : undefined }]
      : [],
    creationTime: c.ctx.clock().toISOString(),
    mimeType: 'application/pdf',
    securityLabels: (opts.flags ?? []).map((code) => ({ code })),
  };
  return { metadata, bytes };
}

/** Asserts `p` rejects with a CarnetError of this code (and kind, when given); returns it. */
export async function rejectsWith(p: Promise<unknown>, code: string, kind?: CarnetError['kind']): Promise<CarnetError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught, `expected a rejection with ${code}, got a success`);
  assert.ok(caught instanceof CarnetError, `expected a CarnetError ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, `expected ${code}, got ${caught.code}: ${caught.message}`);
  if (kind) assert.equal(caught.kind, kind);
  return caught;
}

export async function auditOf(c: TestCarnet, recordId: string, where: { action?: string; actorId?: string; documentId?: string } = {}) {
  let q = c.ctx.db.selectFrom('audit_log').selectAll().where('record_id', '=', recordId);
  if (where.action) q = q.where('action', '=', where.action);
  if (where.actorId) q = q.where('actor_id', '=', where.actorId);
  if (where.documentId) q = q.where('document_id', '=', where.documentId);
  return q.orderBy('record_seq').execute();
}

export async function notificationsOf(c: TestCarnet, recordId: string, kind?: string) {
  let q = c.ctx.db.selectFrom('notifications').selectAll().where('record_id', '=', recordId);
  if (kind) q = q.where('kind', '=', kind);
  return (await q.orderBy('created_at').execute()).map((n) => ({ ...n, payload: JSON.parse(n.payload) as Record<string, unknown> }));
}

export async function countRows(c: TestCarnet, table: 'documents' | 'blobs' | 'audit_log' | 'notifications' | 'submission_sets', recordId: string) {
  const r = await c.ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).where('record_id', '=', recordId).executeTakeFirstOrThrow();
  return Number(r.n);
}
