/// <reference types="fhir" />
/**
 * Authors: FHIR author resources (Practitioner, PractitionerRole, Organization, Device, Patient,
 * RelatedPerson) ⇄ the domain's `DocumentAuthor`.
 *
 * French identifiers (ANS annuaire santé):
 * - idNat_PS, system `urn:oid:1.2.250.1.71.4.2.1`: `8` + RPPS (11 digits) for RPPS holders; other
 *   prefixes (ADELI-based `0…`) carry no RPPS. FR Core also sends the bare RPPS under
 *   `https://rpps.esante.gouv.fr`.
 * - idNat_Struct, system `urn:oid:1.2.250.1.71.4.2.2`: `1` + FINESS (9 characters) for FINESS
 *   structures; other prefixes (`3` SIRET, `4`/`5` cabinets) carry no FINESS. FR Core also sends
 *   the bare FINESS under `https://finess.esante.gouv.fr`.
 */
import { invalid } from '../../domain/errors.ts';
import type { Coding, DocumentAuthor } from '../../domain/document.ts';
import {
  FINESS_SYSTEM,
  IDNAT_PS_SYSTEM,
  IDNAT_STRUCT_SYSTEM,
  PROFESSION_SYSTEM,
  RPPS_SYSTEM,
} from './constants.ts';
import { allCodings, firstCoding, optArray, optObject, optObjects, optString, readIdentifier, readReference, type Json } from './read.ts';
import { normaliseSystem, resolveAny, type ResolveScope } from './references.ts';

export const BAD_AUTHOR = 'MHD_BAD_AUTHOR';

function identifiersOf(res: Json, path: string) {
  return optArray(res, 'identifier', path)
    .map((v, i) => readIdentifier(v, `${path}.identifier[${i}]`))
    .filter((v): v is NonNullable<typeof v> => v !== undefined);
}

export function rppsFrom(ids: Array<{ system?: string; value: string }>): string | undefined {
  for (const id of ids) {
    const system = id.system ? normaliseSystem(id.system) : undefined;
    const v = id.value.trim();
    if (system === IDNAT_PS_SYSTEM) {
      if (/^8\d{11}$/.test(v)) return v.slice(1);
      if (/^\d{11}$/.test(v)) return v;
    }
    if (system === RPPS_SYSTEM && /^\d{11}$/.test(v)) return v;
  }
  return undefined;
}

export function finessFrom(ids: Array<{ system?: string; value: string }>): string | undefined {
  for (const id of ids) {
    const system = id.system ? normaliseSystem(id.system) : undefined;
    const v = id.value.trim().toUpperCase();
    if (system === IDNAT_STRUCT_SYSTEM) {
      if (/^1[0-9][0-9AB][0-9]{7}$/.test(v)) return v.slice(1);
      if (/^[0-9][0-9AB][0-9]{7}$/.test(v)) return v;
    }
    if (system === FINESS_SYSTEM && /^[0-9][0-9AB][0-9]{7}$/.test(v)) return v;
  }
  return undefined;
}

const isProfessionSystem = (s?: string) =>
  !!s && (/TRE[_-]G15/i.test(s) || normaliseSystem(s) === 'urn:oid:1.2.250.1.71.1.2.7');

function nameOf(res: Json, path: string): { given?: string; family?: string } {
  const names = optObjects(res, 'name', path);
  const pick = names.find((n) => n.use === 'official') ?? names.find((n) => n.use === 'usual') ?? names[0];
  if (!pick) return {};
  const i = names.indexOf(pick);
  const p = `${path}.name[${i}]`;
  const family = optString(pick, 'family', p);
  const given = optArray(pick, 'given', p)
    .map((g, j) => {
      if (typeof g !== 'string') throw invalid('MHD_BAD_VALUE', `${p}.given[${j}] must be a string`, { expression: [`${p}.given[${j}]`] });
      return g;
    })
    .join(' ');
  return { ...(family ? { family } : {}), ...(given ? { given } : {}) };
}

function organisationOf(res: Json, path: string): { finess?: string; name?: string } {
  const finess = finessFrom(identifiersOf(res, path));
  const name = optString(res, 'name', path);
  return { ...(finess ? { finess } : {}), ...(name ? { name } : {}) };
}

function practitionerFacts(res: Json, path: string): Partial<DocumentAuthor> {
  const rpps = rppsFrom(identifiersOf(res, path));
  let professionCode: string | undefined;
  optObjects(res, 'qualification', path).forEach((q, i) => {
    const cc = optObject(q, 'code', `${path}.qualification[${i}]`);
    if (!cc) return;
    const c = allCodings(cc, `${path}.qualification[${i}].code`).find((x) => isProfessionSystem(x.system));
    if (c && !professionCode) professionCode = c.code;
  });
  return { ...(rpps ? { rpps } : {}), ...nameOf(res, path), ...(professionCode ? { professionCode } : {}) };
}

/** Follows a reference from inside an author resource; undefined when it points outside. */
function follow(res: Json, key: string, path: string, scope: ResolveScope): { resource: Json; path: string } | undefined {
  const refObj = optObject(res, key, path);
  if (!refObj) return undefined;
  const ref = readReference(refObj, `${path}.${key}`);
  if (!ref.reference) return undefined;
  // A reference inside a contained resource points at a sibling contained resource (R4 references.html#contained).
  return resolveAny(ref.reference, scope, `${path}.${key}.reference`);
}

export function authorFromResource(res: Json, path: string, scope: ResolveScope): DocumentAuthor {
  switch (res.resourceType) {
    case 'Practitioner':
      return { kind: 'practitioner', ...practitionerFacts(res, path) };
    case 'PractitionerRole': {
      const author: DocumentAuthor = { kind: 'practitioner' };
      const pract = follow(res, 'practitioner', path, scope);
      if (pract) {
        if (pract.resource.resourceType !== 'Practitioner')
          throw invalid(BAD_AUTHOR, `${path}.practitioner is not a Practitioner`, { expression: [`${path}.practitioner`] });
        Object.assign(author, practitionerFacts(pract.resource, pract.path));
      }
      // PDSm4DMP examples put idNat_PS on the PractitionerRole itself.
      const rpps = rppsFrom(identifiersOf(res, path));
      if (rpps && !author.rpps) author.rpps = rpps;
      optObjects(res, 'code', path).forEach((cc, i) => {
        for (const c of allCodings(cc, `${path}.code[${i}]`)) {
          if (isProfessionSystem(c.system)) author.professionCode ??= c.code;
          else author.role ??= c;
        }
      });
      const specialties = optArray(res, 'specialty', path);
      if (specialties.length) {
        const s = firstCoding(specialties[0], `${path}.specialty[0]`);
        if (s) author.specialty = s;
      }
      const org = follow(res, 'organization', path, scope);
      if (org) {
        if (org.resource.resourceType !== 'Organization')
          throw invalid(BAD_AUTHOR, `${path}.organization is not an Organization`, { expression: [`${path}.organization`] });
        author.organisation = organisationOf(org.resource, org.path);
      }
      return author;
    }
    case 'Organization':
      return { kind: 'organisation', organisation: organisationOf(res, path) };
    case 'Device': {
      const owner = follow(res, 'owner', path, scope);
      return {
        kind: 'device',
        ...(owner && owner.resource.resourceType === 'Organization' ? { organisation: organisationOf(owner.resource, owner.path) } : {}),
      };
    }
    case 'Patient':
    case 'RelatedPerson':
      return { kind: 'patient', ...nameOf(res, path) };
    default:
      throw invalid(BAD_AUTHOR, `${path} cannot be an author`, {
        expression: [path],
        details: { resourceType: typeof res.resourceType === 'string' ? res.resourceType : undefined },
      });
  }
}

const KIND_BY_TYPE: Record<string, DocumentAuthor['kind']> = {
  Practitioner: 'practitioner',
  PractitionerRole: 'practitioner',
  Organization: 'organisation',
  Device: 'device',
  Patient: 'patient',
  RelatedPerson: 'patient',
};

/** One `author` Reference → DocumentAuthor (contained, in the Bundle, literal or logical). */
export function readAuthorReference(refObj: unknown, path: string, scope: ResolveScope): DocumentAuthor {
  const ref = readReference(refObj, path);
  if (ref.reference) {
    const target = resolveAny(ref.reference, scope, `${path}.reference`);
    if (target) return authorFromResource(target.resource, target.path, scope);
    // A literal reference to a resource on a server: only its type is known here.
    const m = /(?:^|\/)(Practitioner|PractitionerRole|Organization|Device|Patient|RelatedPerson)\/[A-Za-z0-9\-.]{1,64}(\/_history\/.*)?$/.exec(ref.reference);
    if (!m) throw invalid(BAD_AUTHOR, `${path}.reference is not a reference to an author resource`, { expression: [`${path}.reference`] });
    return { kind: KIND_BY_TYPE[m[1]] };
  }
  if (ref.identifier) {
    const rpps = rppsFrom([ref.identifier]);
    if (rpps) return { kind: 'practitioner', rpps };
    const finess = finessFrom([ref.identifier]);
    if (finess) return { kind: 'organisation', organisation: { finess } };
    const kind = ref.type && Object.hasOwn(KIND_BY_TYPE, ref.type) ? KIND_BY_TYPE[ref.type] : undefined;
    if (kind) return { kind };
  }
  throw invalid(BAD_AUTHOR, `${path} does not say who the author is`, { expression: [path] });
}

// --- domain → FHIR -------------------------------------------------------------------------------

export interface ContainedAuthors {
  contained: fhir4.FhirResource[];
  references: fhir4.Reference[];
}

const codingOut = (c: Coding): fhir4.Coding => ({
  ...(c.system ? { system: c.system } : {}),
  code: c.code,
  ...(c.display ? { display: c.display } : {}),
});

function organizationResource(id: string, org: { finess?: string; name?: string }): fhir4.Organization {
  return {
    resourceType: 'Organization',
    id,
    ...(org.finess ? { identifier: [{ system: IDNAT_STRUCT_SYSTEM, value: `1${org.finess}` }] } : {}),
    ...(org.name ? { name: org.name } : {}),
  };
}

/**
 * Contained resources for the authors: a professional becomes a PractitionerRole (profession, role,
 * specialty) pointing at a contained Practitioner (idNat_PS, name) and Organization (idNat_Struct),
 * as the PDSm and annuaire santé profiles shape them. `patient` gives the holder's INS for an author
 * of kind `patient` (documents the holder added).
 */
export function containedAuthors(
  authors: DocumentAuthor[],
  prefix: string,
  patient?: { system: string; value: string },
): ContainedAuthors {
  const contained: fhir4.FhirResource[] = [];
  const references: fhir4.Reference[] = [];
  authors.forEach((a, i) => {
    const id = `${prefix}${i + 1}`;
    switch (a.kind) {
      case 'practitioner': {
        const name: fhir4.HumanName[] =
          a.family || a.given ? [{ ...(a.family ? { family: a.family } : {}), ...(a.given ? { given: a.given.split(' ') } : {}) }] : [];
        contained.push({
          resourceType: 'Practitioner',
          id: `${id}-practitioner`,
          ...(a.rpps ? { identifier: [{ system: IDNAT_PS_SYSTEM, value: `8${a.rpps}` }] } : {}),
          ...(name.length ? { name } : {}),
        });
        if (a.organisation) contained.push(organizationResource(`${id}-organization`, a.organisation));
        const code: fhir4.CodeableConcept[] = [];
        if (a.professionCode) code.push({ coding: [{ system: PROFESSION_SYSTEM, code: a.professionCode }] });
        if (a.role) code.push({ coding: [codingOut(a.role)] });
        contained.push({
          resourceType: 'PractitionerRole',
          id,
          practitioner: { reference: `#${id}-practitioner` },
          ...(a.organisation ? { organization: { reference: `#${id}-organization` } } : {}),
          ...(code.length ? { code } : {}),
          ...(a.specialty ? { specialty: [{ coding: [codingOut(a.specialty)] }] } : {}),
        });
        references.push({ reference: `#${id}` });
        break;
      }
      case 'organisation':
        contained.push(organizationResource(id, a.organisation ?? {}));
        references.push({ reference: `#${id}` });
        break;
      case 'device':
        contained.push({
          resourceType: 'Device',
          id,
          ...(a.organisation ? { owner: { reference: `#${id}-organization` } } : {}),
        });
        if (a.organisation) contained.push(organizationResource(`${id}-organization`, a.organisation));
        references.push({ reference: `#${id}` });
        break;
      case 'patient':
        contained.push({
          resourceType: 'Patient',
          id,
          ...(patient ? { identifier: [{ system: patient.system, value: patient.value }] } : {}),
          ...(a.family || a.given
            ? { name: [{ ...(a.family ? { family: a.family } : {}), ...(a.given ? { given: a.given.split(' ') } : {}) }] }
            : {}),
        });
        references.push({ reference: `#${id}` });
        break;
    }
  });
  return { contained, references };
}
