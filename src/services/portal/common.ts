/**
 * What the portal services share: who stands on the holder's side of a record, and the portal's
 * plain-JSON view of a document (its MES category, marks, author) — never its bytes.
 */
import { forbidden } from '../../domain/errors.ts';
import type { StoredDocument } from '../../domain/document.ts';
import { PATIENT_CLASS_CODE, flagsOf } from '../../domain/document.ts';
import type { Actor, Decision } from '../../domain/access/types.ts';
import { canManageSharing, MES_CATEGORY_LABELS, mesCategoryOf, defaultMatrix, type MesCategory } from '../../domain/access/index.ts';
import { relationshipOf } from '../internal/repo.ts';
import type { Ctx } from '../context.ts';

export const PERSON_KINDS = ['holder', 'legal_representative', 'caregiver'] as const;
export type PersonActor = Extract<Actor, { kind: (typeof PERSON_KINDS)[number] }>;
export const isPerson = (a: Actor): a is PersonActor => (PERSON_KINDS as readonly string[]).includes(a.kind);

/**
 * The holder's space is for the holder and the people linked to the record (legal representatives,
 * caregivers): anyone else is refused here, whatever the record-level rules would say.
 */
export async function requireHolderSide(ctx: Ctx, actor: Actor, recordId: string, opts: { manage?: boolean } = {}) {
  if (!isPerson(actor)) throw forbidden('PORTAL_HOLDER_SIDE_ONLY', "This part of the portal is the holder's space");
  const rel = await relationshipOf(ctx, recordId, actor);
  if (!rel.personLink) throw forbidden('DENY_NOT_LINKED', 'No link to this record is recorded for this person');
  if (opts.manage) {
    const d = canManageSharing(actor, rel);
    if (!d.allow) throw forbidden(d.reason, d.explanation.en, { details: { explanation: d.explanation } });
  }
  return rel;
}

export type DocumentFormat = 'cda' | 'pdf' | 'image' | 'text' | 'other';

const XML_MIME = /^(text\/xml|application\/xml|application\/hl7-v3\+xml|application\/hl7-cda\+xml|application\/xslt\+xml)$/i;

export function formatOf(mimeType: string): DocumentFormat {
  const m = mimeType.split(';')[0].trim().toLowerCase();
  if (XML_MIME.test(m)) return 'cda';
  if (m === 'application/pdf') return 'pdf';
  if (/^image\/(png|jpeg|gif|webp)$/.test(m)) return 'image';
  if (m === 'text/plain') return 'text';
  return 'other';
}

export interface PortalDocument {
  id: string;
  title: string;
  type: { code: string; display?: string };
  classCode: string;
  category: MesCategory;
  categoryLabel: { fr: string; en: string };
  /** Added by the holder's side (class 90): shown apart. */
  patientAdded: boolean;
  author?: { name?: string; organisation?: string; rpps?: string; kind: string };
  creationTime: string;
  submittedAt: string;
  mimeType: string;
  size: number;
  format: DocumentFormat;
  status: string;
  archived: boolean;
  masked: boolean;
  invisibleToPatient: boolean;
  hiddenFromRepresentatives: boolean;
  /** Why the caller may read it (the decision's reason and its plain-language explanation). */
  access?: { reason: string; explanation: { fr: string; en: string } };
}

export function toPortalDocument(doc: StoredDocument, decision?: Decision): PortalDocument {
  const flags = flagsOf(doc.securityLabels);
  const category = mesCategoryOf(doc.category, doc.type);
  const a = doc.authors[0];
  const person = [a?.given, a?.family].filter(Boolean).join(' ');
  const typeLabel = Object.prototype.hasOwnProperty.call(defaultMatrix.types, doc.type.code) ? defaultMatrix.types[doc.type.code].label : undefined;
  return {
    id: doc.id,
    title: doc.title || doc.type.display || typeLabel || MES_CATEGORY_LABELS[category].fr,
    type: { code: doc.type.code, ...((doc.type.display ?? typeLabel) ? { display: doc.type.display ?? typeLabel } : {}) },
    classCode: doc.category.code,
    category,
    categoryLabel: { fr: MES_CATEGORY_LABELS[category].fr, en: MES_CATEGORY_LABELS[category].en },
    patientAdded: doc.category.code === PATIENT_CLASS_CODE,
    ...(a
      ? {
          author: {
            kind: a.kind,
            ...(person ? { name: person } : {}),
            ...(a.organisation?.name ? { organisation: a.organisation.name } : {}),
            ...(a.rpps ? { rpps: a.rpps } : {}),
          },
        }
      : {}),
    creationTime: doc.creationTime,
    submittedAt: doc.submittedAt,
    mimeType: doc.mimeType,
    size: doc.size,
    format: formatOf(doc.mimeType),
    status: doc.status,
    archived: doc.archived,
    masked: flags.includes('MASQUE_PS'),
    invisibleToPatient: flags.includes('INVISIBLE_PATIENT'),
    hiddenFromRepresentatives: flags.includes('INVISIBLE_REPRESENTANTS_LEGAUX'),
    ...(decision ? { access: { reason: decision.reason, explanation: decision.explanation } } : {}),
  };
}

/** `kind:id` of a reader, for per-reader state (alerts seen). */
export const readerKey = (a: Actor) => `${a.kind}:${a.id}`;
