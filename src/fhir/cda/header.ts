/**
 * CDA R2 header reading (CI-SIS "structuration minimale") and its mapping onto the PDSm / XDS
 * document metadata (DOMAIN §4). Rules followed, with where they come from:
 *
 * - uniqueId (XDSDocumentEntry.uniqueId): `ClinicalDocument/id/@root` (ANS XDS mapping table:
 *   "uniqueId — CDA : id@root"). The CI-SIS lets a document id be either a full OID with no
 *   extension, or an issuer root OID plus a per-document extension; for the latter we form the IHE
 *   XDS `root^extension` (ITI TF-3 4.2.3.2.26). The ANS notes that the DMP itself "ne supporte pas
 *   le format OID^Extension": Carnet accepts it and says so in `CdaHeader.uniqueIdHasExtension`.
 * - formatCode: level 1 (nonXMLBody) → IHE XDS-SD code by media type (`urn:ihe:iti:xds-sd:pdf:2008`
 *   …); level 3 → the content-profile templateId through the ANS table ASS_A11
 *   (CorresModeleCDA-XdsFormatCode-CISIS). Unknown → undefined, never an error.
 * - mimeType: `text/xml`, or `application/xslt+xml` for an "auto-présentable" CDA (an XSL stylesheet
 *   that carries the ClinicalDocument inside it; the DMP accepts these). We never run the XSL.
 * - healthcareFacilityTypeCode: componentOf/encompassingEncounter/location/healthCareFacility/code.
 * - practiceSettingCode: documentationOf/serviceEvent/performer/assignedEntity/
 *   representedOrganization/standardIndustryClassCode.
 * - service period: documentationOf/serviceEvent/effectiveTime low/high (first one that has it).
 * - authorSpecialty: author/assignedAuthor/code (TRE_R38 "G15_10/SM26" = profession 10, specialty
 *   SM26; TRE_G15 profession code is the part after `G15_`); authorRole: author/functionCode.
 * - idNat_PS (root 1.2.250.1.71.4.2.1): `8` + RPPS (11 digits), `0` + ADELI, `3`/`4`/`5` +
 *   FINESS/SIREN/SIRET + `/` + local id (structure staff and devices).
 * - idNat_Struct (root 1.2.250.1.71.4.2.2, TRE_G07): `0` + ADELI cabinet, `1` + FINESS, `2` +
 *   SIREN, `3` + SIRET, `4` + RPPS cabinet.
 *
 * Patient names, birth date and sex are kept (the feed compares them with the record's identity)
 * but must never be logged; nothing here logs or puts them in an error message.
 */
import type { Coding, DocumentAuthor, DocumentMetadata } from '../../domain/document.ts';
import { invalid } from '../../domain/errors.ts';
import { insKindOfOid, type InsKind } from '../../domain/ins.ts';
import { childrenNamed, firstChild, normalizedText, parseXmlSafely, path, type XmlDocument, type XmlElement } from './xml.ts';

export const HL7_NS = 'urn:hl7-org:v3';
const XSL_NS = 'http://www.w3.org/1999/XSL/Transform';

export const OID = {
  LOINC: '2.16.840.1.113883.6.1',
  SNOMED: '2.16.840.1.113883.6.96',
  CONFIDENTIALITY: '2.16.840.1.113883.5.25',
  IDNAT_PS: '1.2.250.1.71.4.2.1',
  IDNAT_STRUCT: '1.2.250.1.71.4.2.2',
  /** TRE_R38 profession / specialty codes (G15_xx/SMyy). */
  TRE_R38: '1.2.250.1.213.1.1.4.5',
  /** TRE_A06 complementary (CI-SIS) format codes. */
  TRE_A06_FORMAT: '1.2.250.1.213.1.1.4.2.282',
  /** IHE format codes (TRE_A11). */
  IHE_FORMAT: '1.3.6.1.4.1.19376.1.2.3',
  /** IHE XDS-SD scanned document (CDA level 1) template. */
  XDS_SD: '1.3.6.1.4.1.19376.1.2.20',
} as const;

/** HL7 II: an instance identifier. */
export interface CdaId {
  root: string;
  extension?: string;
}

/** HL7 CD/CE: a code; `system` is the bare OID as written in the CDA. */
export interface CdaCode {
  code: string;
  system?: string;
  display?: string;
}

export interface CdaNamePart {
  value: string;
  /** CI-SIS: BR = birth name / first birth given name, SP = used (spouse) name, CL = name in use. */
  qualifier?: string;
}

export interface CdaName {
  prefix: string[];
  given: CdaNamePart[];
  family: CdaNamePart[];
  suffix: string[];
}

export interface CdaOrganisation {
  ids: CdaId[];
  /** idNat_Struct (extension under 1.2.250.1.71.4.2.2), as written. */
  idNat?: string;
  finess?: string;
  siret?: string;
  siren?: string;
  name?: string;
  /** standardIndustryClassCode (CI-SIS: practice setting, "cadre d'exercice"). */
  industryClass?: CdaCode;
}

/** A person or device acting in the header (author, legal authenticator, performer). */
export interface CdaActor {
  ids: CdaId[];
  /** idNat_PS (extension under 1.2.250.1.71.4.2.1), as written. */
  idNat?: string;
  /** RPPS (11 digits) when idNat_PS is `8` + RPPS. */
  rpps?: string;
  /** ADELI (9 characters) when idNat_PS is `0` + ADELI. */
  adeli?: string;
  name?: CdaName;
  /** assignedAuthor/code or assignedEntity/code: profession / specialty (TRE_R38) or role. */
  code?: CdaCode;
  /** TRE_G15 profession code derived from `code` (`G15_10/SM26` → `10`). */
  professionCode?: string;
  organisation?: CdaOrganisation;
  device?: { manufacturerModelName?: string; softwareName?: string };
}

export interface CdaAuthor extends CdaActor {
  kind: 'person' | 'device' | 'unknown';
  time?: string;
  functionCode?: CdaCode;
}

export interface CdaPatient {
  ids: CdaId[];
  /** The INS: the id whose root is one of the INS OIDs (NIR, NIA, test, demo). Key NOT checked here. */
  ins?: { value: string; oid: string; kind: InsKind };
  name?: CdaName;
  /** administrativeGenderCode/@code (M, F, U). */
  sex?: string;
  /** birthTime as an ISO date (YYYY-MM-DD, or coarser when the CDA is coarser). */
  birthDate?: string;
}

export interface CdaServiceEvent {
  code?: CdaCode;
  period?: { start?: string; end?: string };
  performers: CdaActor[];
}

export type CdaBody =
  | { level: 3 }
  | { level: 1; mediaType?: string; representation?: string }
  | { level: 'none' };

export interface CdaHeader {
  /** True when the bytes are an auto-présentable CDA (XSL stylesheet carrying the ClinicalDocument). */
  autoPresentable: boolean;
  id: CdaId;
  /** XDS uniqueId: `root`, or `root^extension` when the id has an extension. */
  uniqueId: string;
  uniqueIdHasExtension: boolean;
  setId?: CdaId;
  versionNumber?: number;
  templateIds: CdaId[];
  type?: CdaCode;
  title?: string;
  /** ISO 8601 (with offset when the CDA gave a time of day). */
  effectiveTime?: string;
  confidentiality?: CdaCode;
  language?: string;
  patient: CdaPatient;
  authors: CdaAuthor[];
  custodian?: CdaOrganisation;
  legalAuthenticator?: CdaActor & { time?: string };
  serviceEvents: CdaServiceEvent[];
  /** First serviceEvent effectiveTime found (XDS serviceStartTime / serviceStopTime). */
  servicePeriod?: { start?: string; end?: string };
  /** healthCareFacility/code (XDS healthcareFacilityTypeCode, TRE_R02 SAxx). */
  facilityType?: CdaCode;
  /** First performer organisation standardIndustryClassCode (XDS practiceSettingCode). */
  practiceSetting?: CdaCode;
  /** serviceEvent/code values (XDS eventCodeList). */
  eventCodes: CdaCode[];
  body: CdaBody;
  /** formatCode derived from the body level / templateIds, when known. */
  format?: CdaCode;
  /** Document replaced by this one (relatedDocument typeCode RPLC), as an XDS uniqueId. */
  replaces?: string;
  /** Things that were present but unusable (e.g. an unparseable date); codes, no values. */
  problems: string[];
}

// ---------------------------------------------------------------------------------------------
// Small readers

const attr = (el: XmlElement | undefined, name: string): string | undefined => {
  const v = el?.attrs[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
};

function readId(el: XmlElement | undefined): CdaId | undefined {
  const root = attr(el, 'root');
  if (!root) return undefined;
  const extension = attr(el, 'extension');
  return extension !== undefined ? { root, extension } : { root };
}

function readIds(parent: XmlElement | undefined): CdaId[] {
  const out: CdaId[] = [];
  for (const e of childrenNamed(parent, 'id', HL7_NS)) {
    const id = readId(e);
    if (id) out.push(id);
  }
  return out;
}

function readCode(el: XmlElement | undefined): CdaCode | undefined {
  const code = attr(el, 'code');
  if (!code) return undefined;
  const out: CdaCode = { code };
  const system = attr(el, 'codeSystem');
  if (system) out.system = system;
  const display = attr(el, 'displayName');
  if (display) out.display = display;
  return out;
}

function readName(el: XmlElement | undefined): CdaName | undefined {
  if (!el) return undefined;
  const name: CdaName = { prefix: [], given: [], family: [], suffix: [] };
  let any = false;
  for (const c of el.children) {
    if (typeof c === 'string' || c.ns !== HL7_NS) continue;
    const value = normalizedText(c);
    if (!value) continue;
    const qualifier = attr(c, 'qualifier');
    const part: CdaNamePart = qualifier ? { value, qualifier } : { value };
    if (c.name === 'given') name.given.push(part);
    else if (c.name === 'family') name.family.push(part);
    else if (c.name === 'prefix') name.prefix.push(value);
    else if (c.name === 'suffix') name.suffix.push(value);
    else continue;
    any = true;
  }
  if (!any) {
    // Unstructured name: <name>Dr Jean Dupont</name>.
    const text = normalizedText(el);
    if (!text) return undefined;
    name.family.push({ value: text });
  }
  return name;
}

const HL7_TS_RE = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,4}))?([+-]\d{4}|Z)?$/;

/** Offset of Europe/Paris at a given UTC instant, as ±HH:MM (used when the CDA omits the zone). */
function parisOffset(utcMillis: number): string {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: 'Europe/Paris', timeZoneName: 'longOffset' }).formatToParts(
    new Date(utcMillis),
  );
  const tz = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT+01:00';
  const m = /GMT([+-]\d{2}:\d{2})/.exec(tz);
  return m ? m[1] : '+00:00';
}

/**
 * HL7 v3 TS → ISO 8601. Date-only precision gives a date (`2021-01-04`, `2021-01`, `2021`);
 * a time of day gives `YYYY-MM-DDTHH:MM:SS[.fff]±HH:MM`. A time without zone is read as
 * Europe/Paris (CI-SIS requires the zone; French systems that omit it mean local time).
 * Returns undefined for anything that is not a valid TS.
 */
export function hl7TsToIso(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = HL7_TS_RE.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const year = Number(y);
  if (mo !== undefined && (Number(mo) < 1 || Number(mo) > 12)) return undefined;
  if (d !== undefined) {
    const dim = new Date(Date.UTC(year, Number(mo), 0)).getUTCDate();
    if (Number(d) < 1 || Number(d) > dim) return undefined;
  }
  if (h === undefined) {
    if (mo === undefined) return y;
    if (d === undefined) return `${y}-${mo}`;
    return `${y}-${mo}-${d}`;
  }
  if (d === undefined) return undefined;
  if (Number(h) > 23 || (mi !== undefined && Number(mi) > 59) || (s !== undefined && Number(s) > 60)) return undefined;
  const time = `${h}:${mi ?? '00'}:${s ?? '00'}${frac ? '.' + frac.padEnd(3, '0').slice(0, 3) : ''}`;
  let offset: string;
  if (zone === 'Z') offset = 'Z';
  else if (zone) {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(3, 5));
    if (oh > 14 || om > 59) return undefined;
    offset = `${zone.slice(0, 3)}:${zone.slice(3, 5)}`;
  } else {
    const naiveUtc = Date.UTC(year, Number(mo) - 1, Number(d), Number(h), Number(mi ?? 0), Number(s ?? 0));
    // Two passes settle the offset around DST changes well enough for a missing-zone fallback.
    offset = parisOffset(naiveUtc);
    const sign = offset.startsWith('-') ? -1 : 1;
    offset = parisOffset(naiveUtc - sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60000);
  }
  return `${y}-${mo}-${d}T${time}${offset}`;
}

function readTs(el: XmlElement | undefined, problems: string[], problem: string): string | undefined {
  const v = attr(el, 'value');
  if (v === undefined) return undefined;
  const iso = hl7TsToIso(v);
  if (iso === undefined) problems.push(problem);
  return iso;
}

function readPeriod(el: XmlElement | undefined, problems: string[], what: string): { start?: string; end?: string } | undefined {
  if (!el) return undefined;
  const start = readTs(firstChild(el, 'low', HL7_NS), problems, `${what}_LOW_INVALID`);
  const end = readTs(firstChild(el, 'high', HL7_NS), problems, `${what}_HIGH_INVALID`);
  // IVL_TS may also be a single @value (point in time).
  const point = start === undefined && end === undefined ? readTs(el, problems, `${what}_INVALID`) : undefined;
  if (point !== undefined) return { start: point, end: point };
  if (start === undefined && end === undefined) return undefined;
  const out: { start?: string; end?: string } = {};
  if (start !== undefined) out.start = start;
  if (end !== undefined) out.end = end;
  return out;
}

/** idNat_PS decoding (see the module comment). */
function classifyPersonIds(actor: CdaActor): void {
  const nat = actor.ids.find((i) => i.root === OID.IDNAT_PS && i.extension);
  if (!nat?.extension) return;
  actor.idNat = nat.extension;
  const v = nat.extension;
  if (/^8\d{11}$/.test(v)) actor.rpps = v.slice(1);
  else if (/^0[0-9A-Z]{9}$/i.test(v)) actor.adeli = v.slice(1);
}

/** idNat_Struct decoding (TRE_G07). */
function classifyOrganisation(org: CdaOrganisation): void {
  const nat = org.ids.find((i) => i.root === OID.IDNAT_STRUCT && i.extension);
  if (!nat?.extension) return;
  org.idNat = nat.extension;
  const v = nat.extension;
  if (/^1[0-9]{2}[0-9AB][0-9]{6}$/i.test(v)) org.finess = v.slice(1).toUpperCase();
  else if (/^2\d{9}$/.test(v)) org.siren = v.slice(1);
  else if (/^3\d{14}$/.test(v)) org.siret = v.slice(1);
}

function readOrganisation(el: XmlElement | undefined): CdaOrganisation | undefined {
  if (!el) return undefined;
  const org: CdaOrganisation = { ids: readIds(el) };
  const name = normalizedText(firstChild(el, 'name', HL7_NS));
  if (name) org.name = name;
  const sic = readCode(firstChild(el, 'standardIndustryClassCode', HL7_NS));
  if (sic) org.industryClass = sic;
  classifyOrganisation(org);
  if (!org.ids.length && !org.name && !org.industryClass) return undefined;
  return org;
}

function professionOf(code: CdaCode | undefined): string | undefined {
  if (!code) return undefined;
  const m = /^G15_(\d{2})(?:\/|$)/.exec(code.code);
  return m ? m[1] : undefined;
}

/** assignedAuthor / assignedEntity / associatedEntity. */
function readActor(el: XmlElement, personName: string, orgName: string): CdaActor {
  const actor: CdaActor = { ids: readIds(el) };
  const code = readCode(firstChild(el, 'code', HL7_NS));
  if (code) {
    actor.code = code;
    const p = professionOf(code);
    if (p) actor.professionCode = p;
  }
  const person = firstChild(el, personName, HL7_NS);
  const name = readName(firstChild(person, 'name', HL7_NS));
  if (name) actor.name = name;
  const org = readOrganisation(firstChild(el, orgName, HL7_NS));
  if (org) actor.organisation = org;
  const device = firstChild(el, 'assignedAuthoringDevice', HL7_NS);
  if (device) {
    const d: { manufacturerModelName?: string; softwareName?: string } = {};
    const model = normalizedText(firstChild(device, 'manufacturerModelName', HL7_NS));
    const soft = normalizedText(firstChild(device, 'softwareName', HL7_NS));
    if (model) d.manufacturerModelName = model;
    if (soft) d.softwareName = soft;
    actor.device = d;
  }
  classifyPersonIds(actor);
  return actor;
}

function readAuthor(el: XmlElement, problems: string[]): CdaAuthor | undefined {
  const aa = firstChild(el, 'assignedAuthor', HL7_NS);
  if (!aa) return undefined;
  const base = readActor(aa, 'assignedPerson', 'representedOrganization');
  const kind: CdaAuthor['kind'] = base.device ? 'device' : firstChild(aa, 'assignedPerson', HL7_NS) ? 'person' : 'unknown';
  const author: CdaAuthor = { ...base, kind };
  const time = readTs(firstChild(el, 'time', HL7_NS), problems, 'AUTHOR_TIME_INVALID');
  if (time) author.time = time;
  const fc = readCode(firstChild(el, 'functionCode', HL7_NS));
  if (fc) author.functionCode = fc;
  return author;
}

function readPatient(recordTarget: XmlElement | undefined, problems: string[]): CdaPatient | undefined {
  const role = firstChild(recordTarget, 'patientRole', HL7_NS);
  if (!role) return undefined;
  const patient: CdaPatient = { ids: readIds(role) };
  for (const id of patient.ids) {
    const kind = id.extension ? insKindOfOid(id.root) : undefined;
    if (kind && id.extension) {
      patient.ins = { value: id.extension, oid: id.root, kind };
      break;
    }
  }
  const p = firstChild(role, 'patient', HL7_NS);
  const name = readName(firstChild(p, 'name', HL7_NS));
  if (name) patient.name = name;
  const sex = attr(firstChild(p, 'administrativeGenderCode', HL7_NS), 'code');
  if (sex) patient.sex = sex;
  const birth = readTs(firstChild(p, 'birthTime', HL7_NS), problems, 'PATIENT_BIRTH_TIME_INVALID');
  if (birth) patient.birthDate = birth.slice(0, 10);
  return patient;
}

// ---------------------------------------------------------------------------------------------
// Format codes (ANS ASS_A11-CorresModeleCDA-XdsFormatCode-CISIS, plus XDS-SD for level 1)

/** Content-profile templateId → [format code, code system OID]. */
const FORMAT_BY_TEMPLATE: ReadonlyMap<string, readonly [string, string]> = new Map([
  ['1.2.250.1.213.1.1.1.5.1', ['urn:asip:ci-sis:cse-cs8:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.5.2', ['urn:asip:ci-sis:cse-cs9:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.5.3', ['urn:asip:ci-sis:cse-cs24:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.5.4', ['urn:ans:ci-sis:cse-mde:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.8', ['urn:asip:ci-sis:frcp:2011', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.9', ['urn:asip:ci-sis:idap:2011', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.10', ['urn:asip:ci-sis:cva:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.12.1', ['urn:asip:ci-sis:obp-sap:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.12.2', ['urn:asip:ci-sis:obp-snm:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.12.3', ['urn:asip:ci-sis:obp-sne:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.12.4', ['urn:asip:ci-sis:obp-scm:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.12.5', ['urn:asip:ci-sis:obp-sem:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.13', ['urn:asip:ci-sis:vsm:2012', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.15', ['urn:asip:ci-sis:aunv:2013', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.16', ['urn:asip:ci-sis:eunv:2013', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.17', ['urn:asip:ci-sis:sunv:2013', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.18', ['urn:asip:ci-sis:crrtn:2013', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.2.1.1', ['urn:asip:ci-sis:avk:2009', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.2.1.2', ['urn:asip:ci-sis:tap:2009', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.2.1.3', ['urn:asip:ci-sis:dci:2009', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.2.1.4', ['urn:asip:ci-sis:psc:2009', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.2.1.5', ['urn:asip:ci-sis:ppv:2009', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.20', ['urn:asip:ci-sis:pps-paerpa:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.21', ['urn:asip:ci-sis:ldl-ees:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.22', ['urn:asip:ci-sis:dlu:2015', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.23', ['urn:asip:ci-sis:fludt:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.24', ['urn:asip:ci-sis:fludr:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.25', ['urn:asip:ci-sis:pavc:2016', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.26', ['urn:asip:ci-sis:pps-cancer:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.27', ['urn:asip:ci-sis:d2lm-fin:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.28', ['urn:asip:ci-sis:d2lm-fidd:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.29', ['urn:asip:ci-sis:ldl-ses:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.30', ['urn:asip:ci-sis:sdm-mr:2017', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.32', ['urn:asip:ci-sis:crgm:2018', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.36', ['urn:asip:ci-sis:hr:2019', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.37', ['urn:asip:ci-sis:vac:2019', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.38', ['urn:asip:ci-sis:tlm-da:2020', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.40', ['urn:asip:ci-sis:cr-anest:2020', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.41', ['urn:asip:ci-sis:cr-cpa:2020', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.46', ['urn:asip:ci-sis:vac-note:2021', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.47', ['urn:ans:ci-sis:img-da:2022', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.48', ['urn:asip:ci-sis:dlu-dlu-dom:2022', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.49', ['urn:asip:ci-sis:dlu-fludt-dom:2022', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.50', ['urn:asip:ci-sis:dlu-fludr-dom:2022', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.52', ['urn:ans:ci-sis:bio-ep-bio:2022', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.56', ['urn:asip:ci-sis:ppp:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.58', ['urn:asip:ci-sis:export-dui:2023', OID.TRE_A06_FORMAT]],
  ['1.2.250.1.213.1.1.1.39', ['urn:ihe:pharm:pre:2010', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.54', ['urn:ihe:pharm:dis:2010', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.42', ['urn:ihe:eyecare:geneyeevalcn:2014', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.43', ['urn:ihe:eyecare:geneyeevalcn:2014', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.44', ['urn:ihe:eyecare:geneyeevalcn:2014', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.45', ['urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.55', ['urn:ihe:lab:xd-lab:2008', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.57', ['urn:ihe:palm:apsr:2016', OID.IHE_FORMAT]],
  ['1.3.6.1.4.1.19376.1.3.3', ['urn:ihe:lab:xd-lab:2008', OID.IHE_FORMAT]],
  ['1.2.250.1.213.1.1.1.51', ['urn:ihe:pcc:ips:2020', OID.IHE_FORMAT]],
]);

/** Level 1 (XDS-SD) format code by embedded media type. */
const FORMAT_BY_MEDIA_TYPE: ReadonlyMap<string, string> = new Map([
  ['application/pdf', 'urn:ihe:iti:xds-sd:pdf:2008'],
  ['text/plain', 'urn:ihe:iti:xds-sd:text:2008'],
  ['image/jpeg', 'urn:ihe:iti-fr:xds-sd:jpeg:2010'],
  ['text/rtf', 'urn:ihe:iti-fr:xds-sd:rtf:2010'],
  ['application/rtf', 'urn:ihe:iti-fr:xds-sd:rtf:2010'],
  ['image/tiff', 'urn:ihe:iti-fr:xds-sd:tiff:2010'],
]);

function deriveFormat(templateIds: CdaId[], body: CdaBody): CdaCode | undefined {
  if (body.level === 1) {
    const code = body.mediaType ? FORMAT_BY_MEDIA_TYPE.get(body.mediaType.toLowerCase()) : undefined;
    return code ? { code, system: OID.IHE_FORMAT } : undefined;
  }
  // The content-profile template is the most specific one; CI-SIS lists it last, so look from the end.
  for (let i = templateIds.length - 1; i >= 0; i--) {
    const f = FORMAT_BY_TEMPLATE.get(templateIds[i].root);
    if (f) return { code: f[0], system: f[1] };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------

/**
 * Find the ClinicalDocument: the root element, or, for an auto-présentable CDA, the
 * ClinicalDocument carried inside the XSL stylesheet (CI-SIS puts it in `data:Contenu`).
 */
export function locateClinicalDocument(doc: XmlDocument): { cd: XmlElement; autoPresentable: boolean } {
  const root = doc.root;
  if (root.name === 'ClinicalDocument' && root.ns === HL7_NS) return { cd: root, autoPresentable: false };
  if (root.ns === XSL_NS && (root.name === 'stylesheet' || root.name === 'transform')) {
    for (const c of root.children) {
      if (typeof c === 'string' || c.ns === XSL_NS) continue;
      if (c.name === 'ClinicalDocument' && c.ns === HL7_NS) return { cd: c, autoPresentable: true };
      for (const g of c.children) {
        if (typeof g !== 'string' && g.name === 'ClinicalDocument' && g.ns === HL7_NS) return { cd: g, autoPresentable: true };
      }
    }
  }
  throw invalid('CDA_NOT_CLINICAL_DOCUMENT', 'The XML document is not an HL7 CDA R2 ClinicalDocument', {
    details: { rootElement: root.name, namespace: root.ns ?? null },
  });
}

function readBody(cd: XmlElement): CdaBody {
  const comp = firstChild(cd, 'component', HL7_NS);
  if (!comp) return { level: 'none' };
  if (firstChild(comp, 'structuredBody', HL7_NS)) return { level: 3 };
  const nx = firstChild(comp, 'nonXMLBody', HL7_NS);
  if (nx) {
    const text = firstChild(nx, 'text', HL7_NS);
    const body: CdaBody = { level: 1 };
    const mediaType = attr(text, 'mediaType');
    if (mediaType) body.mediaType = mediaType;
    const representation = attr(text, 'representation');
    if (representation) body.representation = representation;
    return body;
  }
  return { level: 'none' };
}

/** Read the header of an already-parsed document (used by renderCda to parse only once). */
export function readCdaHeader(doc: XmlDocument): CdaHeader {
  const { cd, autoPresentable } = locateClinicalDocument(doc);
  const problems: string[] = [];

  let id: CdaId | undefined;
  let setId: CdaId | undefined;
  let versionNumber: number | undefined;
  const templateIds: CdaId[] = [];
  let type: CdaCode | undefined;
  let title: string | undefined;
  let effectiveTime: string | undefined;
  let confidentiality: CdaCode | undefined;
  let language: string | undefined;
  let patient: CdaPatient | undefined;
  const authors: CdaAuthor[] = [];
  let custodian: CdaOrganisation | undefined;
  let legalAuthenticator: (CdaActor & { time?: string }) | undefined;
  const serviceEvents: CdaServiceEvent[] = [];
  let facilityType: CdaCode | undefined;
  let replaces: string | undefined;

  // One pass over the header's direct children.
  for (const c of cd.children) {
    if (typeof c === 'string' || c.ns !== HL7_NS) continue;
    switch (c.name) {
      case 'templateId': {
        const t = readId(c);
        if (t) templateIds.push(t);
        break;
      }
      case 'id':
        id ??= readId(c);
        break;
      case 'code':
        type ??= readCode(c);
        break;
      case 'title':
        title ??= normalizedText(c) || undefined;
        break;
      case 'effectiveTime':
        if (effectiveTime === undefined) effectiveTime = readTs(c, problems, 'EFFECTIVE_TIME_INVALID');
        break;
      case 'confidentialityCode':
        confidentiality ??= readCode(c);
        break;
      case 'languageCode':
        language ??= attr(c, 'code');
        break;
      case 'setId':
        setId ??= readId(c);
        break;
      case 'versionNumber': {
        const v = attr(c, 'value');
        if (v !== undefined && versionNumber === undefined) {
          if (/^\d{1,9}$/.test(v)) versionNumber = Number(v);
          else problems.push('VERSION_NUMBER_INVALID');
        }
        break;
      }
      case 'recordTarget':
        if (patient) problems.push('MULTIPLE_RECORD_TARGETS');
        else patient = readPatient(c, problems);
        break;
      case 'author': {
        const a = readAuthor(c, problems);
        if (a) authors.push(a);
        break;
      }
      case 'custodian':
        custodian ??= readOrganisation(path(c, ['assignedCustodian', 'representedCustodianOrganization'], HL7_NS));
        break;
      case 'legalAuthenticator': {
        const ae = firstChild(c, 'assignedEntity', HL7_NS);
        if (ae && !legalAuthenticator) {
          legalAuthenticator = readActor(ae, 'assignedPerson', 'representedOrganization');
          const t = readTs(firstChild(c, 'time', HL7_NS), problems, 'LEGAL_AUTHENTICATOR_TIME_INVALID');
          if (t) legalAuthenticator.time = t;
        }
        break;
      }
      case 'documentationOf': {
        const se = firstChild(c, 'serviceEvent', HL7_NS);
        if (!se) break;
        const ev: CdaServiceEvent = { performers: [] };
        const code = readCode(firstChild(se, 'code', HL7_NS));
        if (code) ev.code = code;
        const period = readPeriod(firstChild(se, 'effectiveTime', HL7_NS), problems, 'SERVICE_TIME');
        if (period) ev.period = period;
        for (const perf of childrenNamed(se, 'performer', HL7_NS)) {
          const ae = firstChild(perf, 'assignedEntity', HL7_NS);
          if (ae) ev.performers.push(readActor(ae, 'assignedPerson', 'representedOrganization'));
        }
        serviceEvents.push(ev);
        break;
      }
      case 'relatedDocument': {
        if (attr(c, 'typeCode') === 'RPLC' && replaces === undefined) {
          const pid = readId(firstChild(firstChild(c, 'parentDocument', HL7_NS), 'id', HL7_NS));
          if (pid) replaces = pid.extension ? `${pid.root}^${pid.extension}` : pid.root;
        }
        break;
      }
      case 'componentOf': {
        const code = path(c, ['encompassingEncounter', 'location', 'healthCareFacility', 'code'], HL7_NS);
        facilityType ??= readCode(code);
        break;
      }
      default:
        break;
    }
  }

  if (!patient) {
    throw invalid('CDA_NO_PATIENT', 'The CDA document has no recordTarget/patientRole', {
      expression: ['ClinicalDocument.recordTarget.patientRole'],
    });
  }
  if (!id) {
    throw invalid('CDA_NO_ID', 'The CDA document has no ClinicalDocument/id with a root', { expression: ['ClinicalDocument.id'] });
  }

  const body = readBody(cd);
  const servicePeriod = serviceEvents.find((e) => e.period)?.period;
  let practiceSetting: CdaCode | undefined;
  for (const e of serviceEvents) {
    for (const p of e.performers) {
      practiceSetting ??= p.organisation?.industryClass;
    }
  }
  const eventCodes = serviceEvents.flatMap((e) => (e.code ? [e.code] : []));

  const header: CdaHeader = {
    autoPresentable,
    id,
    uniqueId: id.extension ? `${id.root}^${id.extension}` : id.root,
    uniqueIdHasExtension: id.extension !== undefined,
    templateIds,
    patient,
    authors,
    serviceEvents,
    eventCodes,
    body,
    problems,
  };
  if (setId) header.setId = setId;
  if (versionNumber !== undefined) header.versionNumber = versionNumber;
  if (type) header.type = type;
  if (title) header.title = title;
  if (effectiveTime) header.effectiveTime = effectiveTime;
  if (confidentiality) header.confidentiality = confidentiality;
  if (language) header.language = language;
  if (custodian) header.custodian = custodian;
  if (legalAuthenticator) header.legalAuthenticator = legalAuthenticator;
  if (servicePeriod) header.servicePeriod = servicePeriod;
  if (facilityType) header.facilityType = facilityType;
  if (practiceSetting) header.practiceSetting = practiceSetting;
  if (replaces) header.replaces = replaces;
  const format = deriveFormat(templateIds, body);
  if (format) header.format = format;
  return header;
}

/**
 * Parse CDA bytes and read the header. Throws CarnetError (kind `invalid`): the XML_* codes of
 * parseXmlSafely, CDA_NOT_CLINICAL_DOCUMENT, CDA_NO_PATIENT, CDA_NO_ID.
 * The INS key is NOT checked here (the feed does it with domain/ins.ts).
 */
export function parseCdaHeader(bytes: Buffer | Uint8Array | string): CdaHeader {
  return readCdaHeader(parseXmlSafely(bytes, { opaque: HEADER_ONLY }));
}

/** The body is not needed for the header: keep it unparsed (still checked for well-formedness). */
const HEADER_ONLY: ReadonlyArray<readonly string[]> = [['structuredBody'], ['nonXMLBody', 'text']];

// ---------------------------------------------------------------------------------------------
// Mapping onto the domain's DocumentMetadata

/** Code system OID → URI used in Codings (FHIR canonical URIs where one exists, else urn:oid:). */
const SYSTEM_URI: ReadonlyMap<string, string> = new Map([
  [OID.LOINC, 'http://loinc.org'],
  [OID.SNOMED, 'http://snomed.info/sct'],
  [OID.CONFIDENTIALITY, 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality'],
  [OID.IHE_FORMAT, 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode'],
  ['2.16.840.1.113883.5.4', 'http://terminology.hl7.org/CodeSystem/v3-ActCode'],
  ['2.16.840.1.113883.5.88', 'http://terminology.hl7.org/CodeSystem/v3-ParticipationFunction'],
]);

export function codeSystemUri(oid: string | undefined): string | undefined {
  if (!oid) return undefined;
  return SYSTEM_URI.get(oid) ?? (/^[0-2](\.\d+)+$/.test(oid) ? `urn:oid:${oid}` : oid);
}

export function toCoding(c: CdaCode | undefined): Coding | undefined {
  if (!c) return undefined;
  const out: Coding = { code: c.code };
  const system = codeSystemUri(c.system);
  if (system) out.system = system;
  if (c.display) out.display = c.display;
  return out;
}

/** Display name of a person, "Given Family" with the names in use preferred over birth names. */
export function displayName(n: CdaName | undefined): string | undefined {
  if (!n) return undefined;
  const pick = (parts: CdaNamePart[], prefer: string[], avoidQualified = false): string | undefined => {
    for (const q of prefer) {
      const p = parts.find((x) => x.qualifier === q);
      if (p) return p.value;
    }
    if (avoidQualified) {
      const p = parts.find((x) => !x.qualifier);
      if (p) return p.value;
    }
    return parts[0]?.value;
  };
  const given = pick(n.given, ['CL', 'BR'], true);
  const family = pick(n.family, ['CL', 'SP', 'BR']);
  const s = [given, family].filter(Boolean).join(' ').trim();
  return s || undefined;
}

function toDocumentAuthor(a: CdaAuthor): DocumentAuthor {
  const kind: DocumentAuthor['kind'] =
    a.kind === 'device' ? 'device' : a.kind === 'person' || !a.organisation ? 'practitioner' : 'organisation';
  const out: DocumentAuthor = { kind };
  if (a.rpps) out.rpps = a.rpps;
  if (a.name) {
    const given = a.name.given.find((g) => !g.qualifier)?.value ?? a.name.given[0]?.value;
    const family = a.name.family.find((f) => !f.qualifier)?.value ?? a.name.family[0]?.value;
    if (given) out.given = given;
    if (family) out.family = family;
  }
  if (a.professionCode) out.professionCode = a.professionCode;
  const specialty = toCoding(a.code);
  if (specialty) out.specialty = specialty;
  const role = toCoding(a.functionCode);
  if (role) out.role = role;
  if (a.organisation) {
    const org: { finess?: string; name?: string } = {};
    if (a.organisation.finess) org.finess = a.organisation.finess;
    if (a.organisation.name) org.name = a.organisation.name;
    if (org.finess || org.name) out.organisation = org;
  }
  return out;
}

/**
 * What the CDA header says about the document, as domain metadata. Fields the header cannot give
 * (category, size, hashes, entryUuid …) are left out; unknown codes are passed through, never
 * rejected. `uniqueId` is the XDS form (`root` or `root^extension`).
 */
export function cdaHeaderToMetadata(h: CdaHeader): Partial<DocumentMetadata> {
  const m: Partial<DocumentMetadata> = {
    uniqueId: h.uniqueId,
    authors: h.authors.map(toDocumentAuthor),
    mimeType: h.autoPresentable ? 'application/xslt+xml' : 'text/xml',
    securityLabels: [],
  };
  const type = toCoding(h.type);
  if (type) m.type = type;
  if (h.effectiveTime) m.creationTime = h.effectiveTime;
  if (h.title) m.title = h.title;
  if (h.language) m.language = h.language;
  const conf = toCoding(h.confidentiality);
  if (conf) m.securityLabels = [conf];
  if (h.servicePeriod) m.servicePeriod = { ...h.servicePeriod };
  const facility = toCoding(h.facilityType);
  if (facility) m.facilityType = facility;
  const setting = toCoding(h.practiceSetting);
  if (setting) m.practiceSetting = setting;
  if (h.eventCodes.length) m.events = h.eventCodes.map((c) => toCoding(c)!);
  const format = toCoding(h.format);
  if (format) m.format = format;
  return m;
}
