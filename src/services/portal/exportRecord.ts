/**
 * "Download my record" (DOMAIN §7, data rights): one zip holding a FHIR R4 Bundle (Patient,
 * every DocumentReference the reader may see, the access history as AuditEvent-like entries, the
 * profile) and the original files under `documents/`. Only the holder and legal representatives
 * export (never a caregiver). The listing goes through the access decision like any read; the
 * export itself is one audit entry naming the documents it carried.
 */
import { zipSync, strToU8 } from 'fflate';
import type { Actor } from '../../domain/access/types.ts';
import { open } from '../../crypto/envelope.ts';
import { appendAudit } from '../../audit/audit.ts';
import { notFound } from '../../domain/errors.ts';
import { toDocumentReference } from '../../fhir/mhd/docref.ts';
import { aad, auditActor, holderDemographics, recordById } from '../internal/repo.ts';
import { listDocuments } from '../readDocuments.ts';
import { accessHistory } from '../accessHistory.ts';
import { inTransaction, type Ctx } from '../context.ts';
import { requireHolderSide } from './common.ts';
import { readProfile } from './profile.ts';

const EXT: Record<string, string> = {
  'application/pdf': 'pdf', 'text/xml': 'xml', 'application/xml': 'xml', 'application/hl7-cda+xml': 'xml', 'application/xslt+xml': 'xml',
  'image/jpeg': 'jpg', 'image/png': 'png', 'text/plain': 'txt', 'application/fhir+json': 'json', 'application/json': 'json',
};

export interface RecordExport {
  fileName: string;
  zip: Uint8Array;
  documents: number;
}

export async function exportRecord(ctx: Ctx, actor: Actor, recordId: string, opts: { fhirBase: string }): Promise<RecordExport> {
  await requireHolderSide(ctx, actor, recordId, { manage: true });
  const listed = await listDocuments(ctx, actor, recordId, { statuses: ['current', 'superseded'], includeArchived: true });
  const history = await accessHistory(ctx, actor, recordId, { limit: 1000 });
  const profile = await readProfile(ctx, actor, recordId);
  return inTransaction(ctx, async (tx) => {
    const record = await recordById(tx, recordId);
    const demo = await holderDemographics(tx, record);
    const key = await tx.keys.get(tx.db, recordId);
    const files: Record<string, Uint8Array> = {};
    const patient = { ins: record.ins, oid: record.ins_oid };
    const entries: unknown[] = [{
      fullUrl: `urn:uuid:${record.id}`,
      resource: {
        resourceType: 'Patient', id: record.id,
        identifier: [{ system: `urn:oid:${record.ins_oid}`, value: record.ins }],
        ...(demo ? {
          name: [{ use: 'official', family: demo.birthName, given: demo.firstNames }],
          gender: demo.sex === 'M' ? 'male' : demo.sex === 'F' ? 'female' : 'unknown',
          birthDate: demo.birthDate,
        } : {}),
      },
    }];
    for (const { document: d } of listed) {
      const row = await tx.db.selectFrom('documents').select(['blob_id']).where('record_id', '=', recordId).where('id', '=', d.id).executeTakeFirst();
      const sealed = row ? await tx.blobs.get(tx.db, recordId, row.blob_id) : undefined;
      if (!sealed) throw notFound('DOCUMENT_CONTENT_MISSING', 'The document content is missing');
      const path = `documents/${d.id}.${EXT[d.mimeType.split(';')[0].trim().toLowerCase()] ?? 'bin'}`;
      files[path] = open(key, sealed, aad.blob(recordId, d.id));
      const dr = toDocumentReference(d, { baseUrl: opts.fhirBase, patient, id: d.id });
      // inside the archive, the content is the file beside the Bundle
      for (const c of dr.content ?? []) c.attachment.url = path;
      entries.push({ fullUrl: `urn:uuid:${d.id}`, resource: dr });
    }
    const bundle = { resourceType: 'Bundle', type: 'collection', timestamp: tx.clock().toISOString(), entry: entries };
    files['bundle.json'] = strToU8(JSON.stringify(bundle, null, 2));
    files['access-history.json'] = strToU8(JSON.stringify(history, null, 2));
    files['profile.json'] = strToU8(JSON.stringify(profile, null, 2));
    files['LISEZMOI.txt'] = strToU8([
      'Carnet — export de votre dossier / export of your record',
      '',
      'bundle.json          : FHIR R4 Bundle (Patient, DocumentReference) / FHIR R4 Bundle',
      'documents/           : les fichiers originaux / the original files',
      'access-history.json  : historique des accès / access history',
      'profile.json         : personne de confiance, directives anticipées, don d’organes / profile',
      '',
    ].join('\n'));
    await appendAudit(tx.db, tx.engine, {
      recordId, actor: auditActor(actor), action: 'record.export', outcome: 'success',
      detail: { documents: listed.map((l) => l.document.id) }, at: tx.clock(),
    });
    const stamp = tx.clock().toISOString().slice(0, 10);
    return { fileName: `carnet-dossier-${stamp}.zip`, zip: zipSync(files, { level: 6 }), documents: listed.length };
  });
}
