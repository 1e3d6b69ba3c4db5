/**
 * The three request mixes, as loops of steps each client repeats:
 * - feed: ITI-65, one ~30 KB CDA per Bundle, each unique (bytes and uniqueIds), spread over the
 *   records and filed by the author of the document;
 * - consult: ITI-67 search of one patient by INS (≈20 results, access decision + audit write) by
 *   the record's médecin traitant, then ITI-68 retrieve of one of its documents (decryption);
 * - holder: what the portal shows, through the same public API a portal uses: the holder's token on
 *   `GET /fhir/DocumentReference?patient=` (document list) and `GET /fhir/AuditEvent?patient=`
 *   (access history).
 */
import type { Step } from './load.ts';
import type { Population, Practitioner } from './dataset.ts';
import { authorRole } from './dataset.ts';
import { TEST_INS_OID, rng } from './ids.ts';
import { metadataFor, personalise, tagOf, documentBytes, type CdaTemplate } from './cda.ts';
import { provideBundleParts } from './bundle.ts';
import type { DocumentMetadata } from '../../src/domain/document.ts';

export interface Tokens {
  practitioner: Map<string, string>;
  holder: Map<string, string>;
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

export function consultSteps(pop: Pick<Population, 'records'>, tokens: Tokens): Step[] {
  const records = pop.records.filter((r) => r.docIds.length);
  return [
    (ctx) => {
      const rec = records[Math.floor(Math.random() * records.length)];
      ctx.rec = rec;
      ctx.auth = bearer(tokens.practitioner.get(rec.mt)!);
      return { method: 'GET', path: `/fhir/DocumentReference?patient.identifier=${encodeURIComponent(`urn:oid:${TEST_INS_OID}|${rec.ins}`)}`, headers: ctx.auth };
    },
    (ctx) => {
      const ids: string[] = ctx.rec.docIds;
      return { method: 'GET', path: `/fhir/Binary/${ids[Math.floor(Math.random() * ids.length)]}`, headers: ctx.auth };
    },
  ];
}

export function holderSteps(pop: Pick<Population, 'records'>, tokens: Tokens): Step[] {
  return [
    (ctx) => {
      const rec = pop.records[Math.floor(Math.random() * pop.records.length)];
      ctx.rec = rec;
      ctx.auth = bearer(tokens.holder.get(rec.id)!);
      return { method: 'GET', path: `/fhir/DocumentReference?patient=${rec.id}`, headers: ctx.auth };
    },
    (ctx) => ({ method: 'GET', path: `/fhir/AuditEvent?patient=${ctx.rec.id}`, headers: ctx.auth }),
  ];
}

/** The feed templates: the fixtures of about 30 KB (24–40 KB). */
export const feedTemplates = (all: CdaTemplate[]) => all.filter((t) => t.size >= 20_000 && t.size <= 40_000);

export function feedSteps(pop: Population, templates: CdaTemplate[], tokens: Tokens, run: number): { steps: Step[]; meanBytes: number } {
  if (!templates.length) throw new Error('no ~30 KB CDA fixture for the feed');
  const r = rng(run);
  const authorsFor = new Map<string, Practitioner[]>();
  for (const t of templates) authorsFor.set(t.file, pop.practitioners.filter((p) => p.role === authorRole(t)));
  // per (record, template, author): the document split around its unique tag, as base64
  const parts = new Map<string, { head64: string; rest64: string; size: number; meta: DocumentMetadata }>();
  const metaCache = new Map<string, DocumentMetadata>();
  let n = 0;
  const step: Step = () => {
    n++;
    const rec = pop.records[r.int(pop.records.length)];
    const t = templates[r.int(templates.length)];
    const author = r.pick(authorsFor.get(t.file)!);
    const key = `${rec.id}|${t.file}|${author.rpps}`;
    let p = parts.get(key);
    if (!p) {
      const pers = personalise(t, rec.ins, author.rpps);
      const mk = `${t.file}|${author.rpps}`;
      let meta = metaCache.get(mk);
      if (!meta) metaCache.set(mk, (meta = metadataFor(documentBytes(pers, tagOf(0)))));
      p = {
        head64: Buffer.from(pers.head, 'latin1').toString('base64'),
        rest64: Buffer.from(pers.rest, 'latin1').toString('base64'),
        size: pers.head.length + pers.rest.length + tagOf(0).length,
        meta,
      };
      parts.set(key, p);
    }
    const data = p.head64 + Buffer.from(tagOf(BigInt(run) * 2n ** 32n + BigInt(n)), 'latin1').toString('base64') + p.rest64;
    const [before, after] = provideBundleParts(p.meta, rec.ins, author.rpps, p.size, { n, run });
    return {
      method: 'POST', path: '/fhir',
      headers: { ...bearer(tokens.practitioner.get(author.rpps)!), 'content-type': 'application/fhir+json' },
      body: before + data + after,
    };
  };
  const meanBytes = Math.round(templates.reduce((a, t) => a + t.size, 0) / templates.length);
  return { steps: [step], meanBytes };
}
