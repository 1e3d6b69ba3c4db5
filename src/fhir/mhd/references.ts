/**
 * Resolving references inside a transaction Bundle and inside `contained`, and reading the patient
 * link of a submission (FHIR R4 bundle.html#references, IHE MHD ITI-65 §2:3.65.4.1.2.2).
 */
import { invalid } from '../../domain/errors.ts';
import { FHIR_ID_RE, INS_SYSTEMS, OID_RE } from './constants.ts';
import { asObject, optArray, readIdentifier, type Json, type ReferenceValue } from './read.ts';

/** How a submission names its patient. The service resolves it to a record. */
export type PatientLink =
  | { kind: 'identifier'; system: string; value: string }
  | { kind: 'id'; id: string };

export const BAD_PATIENT_LINK = 'MHD_BAD_PATIENT_LINK';
export const BAD_REFERENCE = 'MHD_BAD_REFERENCE';

export interface EntryInfo {
  index: number;
  /** `Bundle.entry[i]` */
  path: string;
  fullUrl?: string;
  resource: Json;
  resourceType: string;
  id?: string;
  method: string;
  url: string;
}

const ABSOLUTE_RE = /^(https?:\/\/|urn:uuid:|urn:oid:)/i;
const RELATIVE_RE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

export class BundleIndex {
  readonly entries: EntryInfo[];
  private readonly byFullUrl = new Map<string, EntryInfo>();

  constructor(entries: EntryInfo[]) {
    this.entries = entries;
    for (const e of entries) {
      if (!e.fullUrl) continue;
      if (this.byFullUrl.has(e.fullUrl))
        throw invalid('MHD_DUPLICATE_FULL_URL', `two entries share the fullUrl of ${e.path}`, {
          expression: [`${e.path}.fullUrl`],
        });
      this.byFullUrl.set(e.fullUrl, e);
    }
  }

  /** The entry a reference points at, or undefined when it points outside the Bundle. */
  resolve(reference: string, from?: EntryInfo): EntryInfo | undefined {
    const exact = this.byFullUrl.get(reference);
    if (exact) return exact;
    if (ABSOLUTE_RE.test(reference)) return undefined;
    const m = RELATIVE_RE.exec(reference);
    if (!m) return undefined;
    const [, type, id] = m;
    // A relative reference is resolved against the base of the referencing entry's RESTful fullUrl…
    const base = from?.fullUrl && /^https?:\/\//i.test(from.fullUrl) ? restBase(from.fullUrl) : undefined;
    if (base) {
      const hit = this.byFullUrl.get(`${base}/${type}/${id}`);
      if (hit) return hit;
    }
    // …and, being robust, against any entry that is that resource (same type and id, or a fullUrl
    // ending in Type/id).
    return this.entries.find(
      (e) => (e.resourceType === type && e.id === id) || (e.fullUrl !== undefined && e.fullUrl.endsWith(`/${type}/${id}`)),
    );
  }
}

function restBase(fullUrl: string): string | undefined {
  const m = /^(.*)\/[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}(\/_history\/.*)?$/.exec(fullUrl);
  return m?.[1];
}

/** A resource in `contained`, by local reference `#id`. */
export function resolveContained(resource: Json, reference: string, path: string): { resource: Json; path: string } | undefined {
  if (!reference.startsWith('#')) return undefined;
  const id = reference.slice(1);
  const contained = optArray(resource, 'contained', path);
  for (let i = 0; i < contained.length; i++) {
    const c = asObject(contained[i], `${path}.contained[${i}]`);
    if (c.id === id) return { resource: c, path: `${path}.contained[${i}]` };
  }
  return undefined;
}

export interface ResolveScope {
  /** The resource holding the reference (for `#id`). */
  resource: Json;
  /** Location of that resource, for error expressions. */
  resourcePath: string;
  bundle?: BundleIndex;
  entry?: EntryInfo;
}

/** What a reference points at: a contained resource, a Bundle entry, or nothing we hold. */
export function resolveAny(
  reference: string,
  scope: ResolveScope,
  refPath: string,
): { resource: Json; path: string } | undefined {
  if (reference.startsWith('#')) {
    const hit = resolveContained(scope.resource, reference, scope.resourcePath);
    if (!hit)
      throw invalid(BAD_REFERENCE, `${refPath} points at a contained resource that is not there`, {
        expression: [refPath],
      });
    return hit;
  }
  const entry = scope.bundle?.resolve(reference, scope.entry);
  if (entry) return { resource: entry.resource, path: `${entry.path}.resource` };
  if (/^urn:(uuid|oid):/i.test(reference))
    throw invalid(BAD_REFERENCE, `${refPath} points at a Bundle entry that is not there`, { expression: [refPath] });
  return undefined;
}

// --- patient link --------------------------------------------------------------------------------

/** `1.2.3` → `urn:oid:1.2.3`; systems compare in that form. */
export function normaliseSystem(system: string): string {
  return OID_RE.test(system) ? `urn:oid:${system}` : system;
}

export function samePatient(a: PatientLink, b: PatientLink): boolean {
  if (a.kind === 'id' && b.kind === 'id') return a.id === b.id;
  if (a.kind === 'identifier' && b.kind === 'identifier')
    return normaliseSystem(a.system) === normaliseSystem(b.system) && a.value.trim() === b.value.trim();
  // One side by id, the other by identifier: nothing here can prove they are the same person.
  return false;
}

function badLink(path: string, why: string) {
  return invalid(BAD_PATIENT_LINK, `${path}: ${why}`, { expression: [path] });
}

/** The identifier to use for a Patient resource held in the submission: an INS first. */
function patientIdentifier(patient: Json, path: string): PatientLink {
  const ids = optArray(patient, 'identifier', path)
    .map((v, i) => readIdentifier(v, `${path}.identifier[${i}]`))
    .filter((v): v is NonNullable<typeof v> => v !== undefined && v.system !== undefined);
  const ins = ids.find((i) => (INS_SYSTEMS as readonly string[]).includes(normaliseSystem(i.system!)));
  const chosen = ins ?? ids[0];
  if (!chosen) throw badLink(path, 'the Patient carries no identifier with a system');
  return { kind: 'identifier', system: normaliseSystem(chosen.system!), value: chosen.value };
}

/**
 * Reads `subject` (List or DocumentReference). Accepted forms:
 * - `Patient?identifier=system|value` (PDSm conditional reference),
 * - `Patient/{id}` or `https://…/Patient/{id}` (literal),
 * - `subject.identifier` {system, value} (logical reference, a national identifier),
 * - a reference to a Patient in `contained` or in the Bundle: its INS (or first identifier).
 */
export function readPatientLink(ref: ReferenceValue | undefined, path: string, scope: ResolveScope): PatientLink {
  if (!ref) throw badLink(path, 'the patient is missing');
  const r = ref.reference;
  if (r !== undefined) {
    const cond = /^Patient\?(.*)$/.exec(r);
    if (cond) {
      const params = [...new URLSearchParams(cond[1])];
      if (params.length !== 1 || params[0][0] !== 'identifier')
        throw badLink(`${path}.reference`, 'a conditional patient reference must be Patient?identifier=system|value');
      const raw = params[0][1];
      const bar = raw.indexOf('|');
      const system = bar > 0 ? raw.slice(0, bar).trim() : '';
      const value = bar > 0 ? raw.slice(bar + 1).trim() : '';
      if (!system || !value || value.includes('|') || value.includes(','))
        throw badLink(`${path}.reference`, 'the patient identifier must be system|value');
      return { kind: 'identifier', system: normaliseSystem(system), value };
    }
    if (r.startsWith('#') || /^urn:(uuid|oid):/i.test(r) || scope.bundle?.resolve(r, scope.entry)) {
      let target: { resource: Json; path: string } | undefined;
      try {
        target = resolveAny(r, scope, `${path}.reference`);
      } catch {
        throw badLink(`${path}.reference`, 'the referenced Patient is not in the submission');
      }
      if (target) {
        if (target.resource.resourceType !== 'Patient') throw badLink(`${path}.reference`, 'the reference is not to a Patient');
        return patientIdentifier(target.resource, target.path);
      }
    }
    const lit = /^(?:https?:\/\/.+\/)?Patient\/([^/?#]+)(?:\/_history\/[^/]+)?$/.exec(r);
    if (lit && FHIR_ID_RE.test(lit[1])) return { kind: 'id', id: lit[1] };
    throw badLink(`${path}.reference`, 'not a Patient reference');
  }
  if (ref.identifier) {
    if (!ref.identifier.system) throw badLink(`${path}.identifier.system`, 'the patient identifier has no system');
    if (ref.type !== undefined && ref.type !== 'Patient') throw badLink(`${path}.type`, 'the reference is not to a Patient');
    return { kind: 'identifier', system: normaliseSystem(ref.identifier.system), value: ref.identifier.value.trim() };
  }
  throw badLink(path, 'the patient reference has neither a reference nor an identifier');
}
