/**
 * Black-box HTTP test support: a real Carnet server on a loopback port, tokens, a small fetch
 * wrapper, an ITI-65 Provide Document Bundle built from a CDA the way PDSm says, and readers of
 * OperationOutcome codes. Services are used only to set data up; every assertion goes through HTTP.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey as JoseKey } from 'jose';
import { buildApp } from '../../src/http/app.ts';
import { openTestCarnet, type TestCarnet } from '../../src/store/testing.ts';
import { createInMemorySigningKey, type SigningKey } from '../../src/auth/signing-keys.ts';
import { mintActorToken, type MintRequest } from '../../src/services/mintActorToken.ts';
import { addPatient, type IdentityStatus } from '../../src/services/addPatient.ts';
import { addPractitioner } from '../../src/services/addPractitioner.ts';
import { addOrganisation } from '../../src/services/addOrganisation.ts';
import { addClient } from '../../src/services/clients.ts';
import { metadataFromCda } from '../../src/services/internal/cda-metadata.ts';
import { verifyAudit } from '../../src/audit/audit.ts';
import type { DocumentMetadata } from '../../src/domain/document.ts';
import { FIXTURES_ROOT } from '../../src/fixtures.ts';
import { listenOnFreePort } from '../net.ts';
import { insOf } from '../../src/services/testkit.ts';
export { insOf };

export const FIXTURES = FIXTURES_ROOT;
export const CDA_DIR = join(FIXTURES, 'cda');
export const cdaFixture = (name: string): Buffer => readFileSync(join(CDA_DIR, name));
export const cdaFixtureNames = () => readdirSync(CDA_DIR).filter((f) => f.endsWith('.xml')).sort();
export const fhirFixtureText = (name: string): string => readFileSync(join(FIXTURES, 'fhir', name), 'utf8');

export const NIR_OID = '1.2.250.1.213.1.4.8';
export const TEST_OID = '1.2.250.1.213.1.4.10';
/** The test identities of the ANS CDA examples (keys verify). */
export const FIXTURE_INS = { main: '279035121518989', obstetric: '277076322082910' } as const;

let insCounter = 0;
/** A fresh valid INS (a woman born in May 1990 in the Rhône), different at each call in this process. */
export function freshIns(): string {
  insCounter++;
  return insOf(`2900569${String(100 + (process.pid % 800)).padStart(3, '0')}${String(insCounter).padStart(3, '0')}`);
}


export interface Server {
  carnet: TestCarnet;
  app: FastifyInstance;
  signingKey: SigningKey;
  baseUrl: string;
  fhir: string;
  close(): Promise<void>;
}

/** Opens a fresh Carnet and serves it on a loopback port; the public base URL is the real one. */
export async function startServer(opts: { bodyLimitBytes?: number; rateLimitPerMinute?: number } = {}): Promise<Server> {
  const carnet = await openTestCarnet();
  const signingKey = await createInMemorySigningKey();
  const { app, port } = await listenOnFreePort((p) => buildApp({ carnet, signingKey, baseUrl: `http://127.0.0.1:${p}`, logger: false, ...opts }));
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    carnet, app, signingKey, baseUrl, fhir: `${baseUrl}/fhir`,
    async close() {
      await app.close();
      await carnet.cleanup();
    },
  };
}

export async function token(s: Server, req: MintRequest): Promise<string> {
  return (await mintActorToken(s.carnet.ctx, s.signingKey, s.baseUrl, req)).access_token;
}

export interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
  json: any;
}

/** One HTTP request; `body` objects are sent as FHIR JSON. */
export async function call(
  s: Server | string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string>; contentType?: string } = {},
): Promise<Reply> {
  const url = /^https?:/.test(path) ? path : `${typeof s === 'string' ? s : s.baseUrl}${path}`;
  const headers: Record<string, string> = { accept: 'application/fhir+json', ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' || Buffer.isBuffer(opts.body) ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] = opts.contentType ?? 'application/fhir+json';
  }
  const res = await fetch(url, { method, headers, body });
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: buf, text, json };
}

/** The Carnet error codes an OperationOutcome carries. */
export const outcomeCodes = (oo: any): string[] =>
  (oo?.issue ?? []).flatMap((i: any) => (i.details?.coding ?? []).map((c: any) => c.code));

/** Asserts status + OperationOutcome with this Carnet code. */
export function assertOutcome(r: Reply, status: number, code: string) {
  assert.equal(r.status, status, `expected ${status} ${code}, got ${r.status}: ${r.text.slice(0, 400)}`);
  assert.equal(r.json?.resourceType, 'OperationOutcome', `expected an OperationOutcome, got ${r.text.slice(0, 200)}`);
  assert.ok(outcomeCodes(r.json).includes(code), `expected code ${code}, got ${outcomeCodes(r.json).join(',')}: ${r.text.slice(0, 400)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/fhir\+json/);
}

// --- setup through the services -----------------------------------------------------------------

export async function newPatient(s: Server, opts: { ins?: string; oid?: string; identityStatus?: IdentityStatus } = {}) {
  const ins = opts.ins ?? freshIns();
  const r = await addPatient(s.carnet.ctx, {
    ins, insOid: opts.oid ?? NIR_OID, identityStatus: opts.identityStatus ?? 'qualifiee', activateNow: true,
    demographics: { birthName: 'TESTNOM', firstNames: ['Camille'], sex: 'F', birthDate: '1990-05-01' },
  });
  return { recordId: r.recordId, ins, oid: opts.oid ?? NIR_OID };
}

export async function newPractitioner(s: Server, rpps: string, opts: { professionCode?: string; finess?: string; family?: string } = {}) {
  if (opts.finess) {
    const exists = await s.carnet.ctx.db.selectFrom('organisations').select('id').where('finess', '=', opts.finess).executeTakeFirst();
    if (!exists) await addOrganisation(s.carnet.ctx, { finess: opts.finess, name: `Structure ${opts.finess}` });
  }
  await addPractitioner(s.carnet.ctx, {
    rpps, family: opts.family ?? `Praticien${rpps.slice(-3)}`, given: 'Test', professionCode: opts.professionCode ?? '10',
    organisationFiness: opts.finess,
  });
  return rpps;
}

/** Audit chains intact, and the number of documents a record holds (for "the record is unchanged"). */
export async function recordSnapshot(s: Server, recordId: string) {
  const docs = await s.carnet.ctx.db.selectFrom('documents').select(['id', 'status', 'security_labels', 'archived']).where('record_id', '=', recordId).orderBy('id').execute();
  const sets = await s.carnet.ctx.db.selectFrom('submission_sets').select('id').where('record_id', '=', recordId).execute();
  const blobs = await s.carnet.ctx.db.selectFrom('blobs').select('id').where('record_id', '=', recordId).execute();
  return { docs, sets: sets.length, blobs: blobs.length };
}

export async function assertAuditIntact(s: Server) {
  const v = await verifyAudit(s.carnet.ctx.db);
  assert.ok(v.ok, `audit chain broken: ${JSON.stringify(v.broken)}`);
}

// --- ITI-65 Provide Document Bundle from a CDA --------------------------------------------------

export const IDNAT_PS = 'urn:oid:1.2.250.1.71.4.2.1';
export const IDNAT_STRUCT = 'urn:oid:1.2.250.1.71.4.2.2';
const PDSM = 'https://interop.esante.gouv.fr/ig/fhir/pdsm/StructureDefinition/';
export const BUNDLE_PROFILE = `${PDSM}pdsm-comprehensive-provide-document-bundle`;
const MHD_EXT = 'https://profiles.ihe.net/ITI/MHD/StructureDefinition/';

export interface BundleOptions {
  /** INS and OID of the patient (`Patient?identifier=urn:oid:…|INS`). */
  patient: { ins: string; oid: string };
  /** Metadata overrides (wins over what the CDA header says). */
  metadata?: Partial<DocumentMetadata>;
  /** Metadata to use instead of reading the CDA header (for bytes that have none). */
  fullMetadata?: DocumentMetadata;
  /** Replaces the hash / size sent (to build wrong ones). */
  hash?: string | null;
  size?: number | null;
  /** Replaces the mime type; `null` drops it. */
  mimeType?: string | null;
  /** The filing software (List.source) RPPS; defaults to the first CDA author. */
  sourceRpps?: string;
  replaces?: string;
  /** Editing hook on the finished Bundle (negative tests). */
  edit?: (b: any) => void;
}

/**
 * The PDSm / MHD Comprehensive ITI-65 transaction for one document: SubmissionSet List +
 * DocumentReference (metadata from the CDA header: uniqueId, type, class derived from the type,
 * author with idNat_PS, creation date, service period, format) + Binary, with SHA-1 and size.
 */
export function provideBundle(bytes: Buffer, opts: BundleOptions): { bundle: any; metadata: DocumentMetadata } {
  const m: DocumentMetadata = { ...(opts.fullMetadata ?? metadataFromCda(bytes)), ...(opts.metadata ?? {}) };
  const ssUrl = `urn:uuid:${randomUUID()}`;
  const drUrl = `urn:uuid:${randomUUID()}`;
  const binUrl = `urn:uuid:${randomUUID()}`;
  const patientRef = `Patient?identifier=urn:oid:${opts.patient.oid}|${opts.patient.ins}`;
  const persons = m.authors.filter((a) => a.rpps);
  const contained = persons.map((a, i) => ({
    resourceType: 'Practitioner',
    id: `author-${i}`,
    identifier: [{ system: IDNAT_PS, value: `8${a.rpps}` }],
    ...(a.family || a.given ? { name: [{ ...(a.family ? { family: a.family } : {}), ...(a.given ? { given: [a.given] } : {}) }] } : {}),
  }));
  const mime = opts.mimeType === null ? undefined : (opts.mimeType ?? m.mimeType);
  const sourceRpps = opts.sourceRpps ?? persons[0]?.rpps;
  const docRef: any = {
    resourceType: 'DocumentReference',
    meta: { profile: [`${PDSM}pdsm-comprehensive-document-reference`] },
    ...(contained.length ? { contained } : {}),
    masterIdentifier: { system: 'urn:ietf:rfc:3986', value: /^urn:/.test(m.uniqueId) ? m.uniqueId : `urn:oid:${m.uniqueId}` },
    identifier: [{ use: 'official', system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` }],
    status: 'current',
    type: { coding: [{ system: m.type.system ?? 'http://loinc.org', code: m.type.code, ...(m.type.display ? { display: m.type.display } : {}) }] },
    category: [{ coding: [{ system: m.category.system, code: m.category.code }] }],
    subject: { reference: patientRef },
    date: m.creationTime,
    ...(contained.length ? { author: contained.map((c) => ({ reference: `#${c.id}` })) } : {}),
    securityLabel: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] }],
    ...(opts.replaces ? { relatesTo: [{ code: 'replaces', target: { reference: `DocumentReference/${opts.replaces}` } }] } : {}),
    content: [{
      attachment: {
        ...(mime ? { contentType: mime } : {}),
        language: 'fr-FR',
        url: binUrl,
        ...(opts.size === null ? {} : { size: opts.size ?? bytes.length }),
        ...(opts.hash === null ? {} : { hash: opts.hash ?? createHash('sha1').update(bytes).digest('base64') }),
        creation: m.creationTime,
      },
      ...(m.format ? { format: { ...(m.format.system ? { system: m.format.system } : {}), code: m.format.code } } : {}),
    }],
    context: {
      ...(m.servicePeriod ? { period: m.servicePeriod } : {}),
      ...(m.facilityType ? { facilityType: { coding: [m.facilityType] } } : {}),
      ...(m.practiceSetting ? { practiceSetting: { coding: [m.practiceSetting] } } : {}),
    },
  };
  const list = {
    resourceType: 'List',
    meta: { profile: [`${PDSM}pdsm-submissionset-comprehensive`] },
    ...(sourceRpps ? { contained: [{ resourceType: 'Practitioner', id: 'source', identifier: [{ system: IDNAT_PS, value: `8${sourceRpps}` }] }] } : {}),
    extension: [{ url: `${MHD_EXT}ihe-sourceId`, valueIdentifier: { system: 'urn:ietf:rfc:3986', value: 'urn:oid:1.2.250.1.999.1' } }],
    identifier: [
      { use: 'usual', system: 'urn:ietf:rfc:3986', value: `urn:oid:1.2.250.1.999.2.${Date.now()}.${Math.floor(Math.random() * 1e9)}` },
      { use: 'official', system: 'urn:ietf:rfc:3986', value: ssUrl },
    ],
    status: 'current',
    mode: 'working',
    code: { coding: [{ system: 'https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes', code: 'submissionset' }] },
    subject: { reference: patientRef },
    date: new Date().toISOString(),
    ...(sourceRpps ? { source: { reference: '#source' } } : {}),
    entry: [{ item: { reference: drUrl } }],
  };
  const bundle = {
    resourceType: 'Bundle',
    meta: { profile: [BUNDLE_PROFILE] },
    type: 'transaction',
    entry: [
      { fullUrl: ssUrl, resource: list, request: { method: 'POST', url: 'List' } },
      { fullUrl: drUrl, resource: docRef, request: { method: 'POST', url: 'DocumentReference' } },
      { fullUrl: binUrl, resource: { resourceType: 'Binary', ...(mime ? { contentType: mime } : {}), data: bytes.toString('base64') }, request: { method: 'POST', url: 'Binary' } },
    ],
  };
  opts.edit?.(bundle);
  return { bundle, metadata: m };
}

/** A small, well-formed CI-SIS-shaped CDA for a patient, type and author (synthetic tests). */
export function miniCda(opts: { ins: string; oid?: string; typeCode?: string; authorRpps: string; uniqueId?: string; text?: string; extraHeader?: string; effectiveTime?: string }) {
  const uid = opts.uniqueId ?? `1.2.250.1.999.3.${Date.now()}.${Math.floor(Math.random() * 1e9)}`;
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <id root="${uid}"/>
  <code code="${opts.typeCode ?? '11488-4'}" codeSystem="2.16.840.1.113883.6.1" displayName="Compte rendu"/>
  <title>Compte rendu</title>
  <effectiveTime value="${opts.effectiveTime ?? '20260215103000+0100'}"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <recordTarget><patientRole><id root="${opts.oid ?? NIR_OID}" extension="${opts.ins}"/>
    <patient><name><given qualifier="BR">Camille</given><family qualifier="BR">TESTNOM</family></name>
    <administrativeGenderCode code="F" codeSystem="2.16.840.1.113883.5.1"/><birthTime value="19900501"/></patient>
  </patientRole></recordTarget>
  <author><time value="${opts.effectiveTime ?? '20260215103000+0100'}"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="8${opts.authorRpps}"/>
    <assignedPerson><name><given>Test</given><family>AUTEUR</family></name></assignedPerson></assignedAuthor></author>${opts.extraHeader ?? ''}
  <custodian><assignedCustodian><representedCustodianOrganization><id root="1.2.250.1.213.4.1" extension="1.2.250.1.213.4.1"/><name>Carnet</name></representedCustodianOrganization></assignedCustodian></custodian>
  <component><nonXMLBody><text mediaType="text/plain">${opts.text ?? 'compte rendu de test'}</text></nonXMLBody></component>
</ClinicalDocument>
`);
}

/** Asserts the response of a successful ITI-65 and returns the created DocumentReference ids. */
export function filedIds(r: Reply): string[] {
  assert.equal(r.status, 200, `ITI-65 refused: ${r.text.slice(0, 600)}`);
  assert.equal(r.json.resourceType, 'Bundle');
  assert.equal(r.json.type, 'transaction-response');
  return r.json.entry
    .map((e: any) => e.response?.location as string | undefined)
    .filter((l: string | undefined): l is string => !!l && l.startsWith('DocumentReference/'))
    .map((l: string) => l.slice('DocumentReference/'.length));
}

/** idNat_PS values of a DocumentReference's authors, following contained PractitionerRole → Practitioner. */
export function authorIdNats(dr: any): string[] {
  const byId = new Map<string, any>((dr.contained ?? []).map((c: any) => [c.id, c]));
  const ofRes = (res: any): string[] => {
    if (!res) return [];
    const own = (res.identifier ?? []).filter((i: any) => i.system === IDNAT_PS).map((i: any) => i.value as string);
    const pr = res.resourceType === 'PractitionerRole' ? byId.get(String(res.practitioner?.reference ?? '').slice(1)) : undefined;
    return [...own, ...ofRes(pr)];
  };
  return [...new Set((dr.author ?? []).flatMap((a: any) => ofRes(byId.get(String(a.reference ?? '').slice(1)))))] as string[];
}

// --- establishment authentication (SMART Backend Services + IHE IUA) ------------------------------


export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TestClient {
  clientId: string;
  finess: string;
  alg: 'RS384' | 'ES384';
  kid: string;
  privateKey: JoseKey;
}

/** Registers an establishment system with the JWKS of a freshly generated RS384 or ES384 key. */
export async function registerClient(s: Server, opts: { alg?: 'RS384' | 'ES384'; finess?: string; scopes?: string[] } = {}): Promise<TestClient> {
  const alg = opts.alg ?? 'ES384';
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  const finess = opts.finess ?? '750712184';
  const c = await addClient(s.carnet.ctx, { name: `SIH ${alg}`, finess, jwks: { keys: [jwk] }, ...(opts.scopes ? { scopes: opts.scopes } : {}) });
  return { clientId: c.clientId, finess, alg, kid, privateKey };
}

export interface IuaClaims {
  subject_id?: string;
  subject_name?: string;
  subject_role?: unknown;
  subject_organization_id?: string;
  purpose_of_use?: string;
  justification?: string;
}

/** A client assertion (private_key_jwt) for the token endpoint, timed on the server's clock. */
export async function clientAssertion(
  s: Server,
  c: TestClient,
  opts: { iua?: IuaClaims; aud?: string; jti?: string; expIn?: number; iatOffset?: number; key?: JoseKey; kid?: string; extra?: Record<string, unknown> } = {},
): Promise<string> {
  const now = Math.floor(s.carnet.ctx.clock().getTime() / 1000) + (opts.iatOffset ?? 0);
  return new SignJWT({
    ...(opts.iua !== undefined ? { extensions: { ihe_iua: opts.iua } } : {}),
    ...(opts.extra ?? {}),
  })
    .setProtectedHeader({ alg: c.alg, kid: opts.kid ?? c.kid, typ: 'JWT' })
    .setIssuer(c.clientId)
    .setSubject(c.clientId)
    .setAudience(opts.aud ?? `${s.baseUrl}/oauth2/token`)
    .setIssuedAt(now)
    .setExpirationTime(now + (opts.expIn ?? 240))
    .setJti(opts.jti ?? randomUUID())
    .sign(opts.key ?? c.privateKey);
}

export const iua = (rpps: string, extra: IuaClaims = {}): IuaClaims => ({
  subject_id: `8${rpps}`, subject_name: 'Dr Test', subject_role: { system: 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante', code: '10' },
  purpose_of_use: 'normal', ...extra,
});

/** POST /oauth2/token (form-encoded). */
export async function tokenRequest(s: Server, form: Record<string, string>): Promise<Reply> {
  const res = await fetch(`${s.baseUrl}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams(form).toString(),
  });
  const body = Buffer.from(await res.arrayBuffer());
  const text = body.toString('utf8');
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, body, text, json };
}

export const clientCredentials = (assertion: string, scope = 'system/DocumentReference.crus system/Binary.r system/Patient.rs') => ({
  grant_type: 'client_credentials', client_assertion_type: JWT_BEARER, client_assertion: assertion, scope,
});
