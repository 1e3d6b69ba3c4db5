/**
 * Document templates from the shared CI-SIS CDA fixtures, made into a population's documents: the
 * patient's INS and the author's RPPS are substituted (same lengths, so sizes do not change) and a
 * fixed-width comment makes every document's bytes unique. Only fixtures Carnet would accept are
 * used (the ones with a wrong INS key are left out, as the feed would refuse them).
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseCdaHeader } from '../../src/fhir/cda/header.ts';
import { metadataFromCda } from '../../src/services/internal/cda-metadata.ts';
import { checkCdaAgreement } from '../../src/services/internal/cda-check.ts';
import type { RecordRow } from '../../src/services/internal/repo.ts';
import type { DocumentMetadata } from '../../src/domain/document.ts';

export interface CdaTemplate {
  file: string;
  size: number;
  /** The fixture's bytes as latin1 text (one char per byte: substitutions keep the byte count). */
  text: string;
  ins: string;
  /** The first author's RPPS when the fixture names one (substituted by the dataset's author). */
  authorRpps?: string;
  typeCode: string;
  classCode: string;
  /** Where the unique tag goes: after the XML declaration, aligned on 3 bytes (base64 splits there). */
  tagAt: number;
}

/** `<!-- bench:0123456789abcdef -->` is 30 bytes: a multiple of 3, so its base64 stands alone. */
export const TAG_LEN = 30;
export const tagOf = (n: number | bigint) => `<!-- bench:${BigInt(n).toString(16).padStart(16, '0')}-->`.padEnd(TAG_LEN, ' ');

export function fixturesCdaDir(): string {
  const dirs = [process.env.CARNET_FIXTURES && join(process.env.CARNET_FIXTURES, 'cda'), '/work/shared/fixtures/cda',
    new URL('../../../shared/fixtures/cda', import.meta.url).pathname];
  const d = dirs.find((x): x is string => !!x && existsSync(x));
  if (!d) throw new Error('CDA fixtures not found (set CARNET_FIXTURES)');
  return d;
}

export function loadTemplates(dir = fixturesCdaDir()): CdaTemplate[] {
  const out: CdaTemplate[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.xml')).sort()) {
    const bytes = readFileSync(join(dir, file));
    let header;
    try {
      header = parseCdaHeader(bytes);
      if (!header.patient.ins) continue;
      // the feed's own acceptance rule, whatever it is today
      checkCdaAgreement(metadataFromCda(bytes, header), bytes, { ins: header.patient.ins.value.toUpperCase() } as RecordRow, []);
    } catch {
      continue; // refused by the feed: not part of a realistic accepted population
    }
    const meta = metadataFromCda(bytes, header);
    const text = bytes.toString('latin1');
    const bom = text.startsWith('\u00ef\u00bb\u00bf') ? 3 : 0; // a UTF-8 BOM, read as latin1
    const declEnd = text.startsWith('<?xml', bom) ? text.indexOf('?>') + 2 : bom;
    const tagAt = Math.ceil(declEnd / 3) * 3;
    out.push({
      file, size: bytes.length, text: text.slice(0, declEnd) + ' '.repeat(tagAt - declEnd) + text.slice(declEnd),
      ins: header.patient.ins.value, authorRpps: meta.authors.find((a) => a.rpps)?.rpps,
      typeCode: meta.type.code, classCode: meta.category.code, tagAt,
    });
  }
  return out;
}

const replaceAll = (s: string, from: string | undefined, to: string) => (from && from !== to ? s.split(from).join(to) : s);

/** The template's text for one patient and author, without the unique tag. */
export function personalise(t: CdaTemplate, ins: string, authorRpps: string | undefined): { head: string; rest: string } {
  let body = t.text.slice(t.tagAt);
  body = replaceAll(body, t.ins, ins);
  if (t.authorRpps && authorRpps) body = replaceAll(body, t.authorRpps, authorRpps);
  return { head: t.text.slice(0, t.tagAt), rest: body };
}

export const documentBytes = (p: { head: string; rest: string }, tag: string) => Buffer.from(p.head + tag + p.rest, 'latin1');

/** The metadata Carnet derives from the CDA header, as a source would send it. */
export function metadataFor(bytes: Buffer): DocumentMetadata {
  return metadataFromCda(bytes);
}
