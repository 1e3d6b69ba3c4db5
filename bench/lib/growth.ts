/**
 * The growth run: consult (ITI-67 + ITI-68 through Carnet over HTTP) at increasing document counts
 * (10 k, 100 k, 1 M by default), the records holding 20 documents each. The store grows by bulk
 * loads between the measures; the population of the first step is checked through the services
 * (list, read, audit chain) so the bulk rows are known to be what Carnet itself writes.
 */
import { openCarnet } from '../../src/services/carnet.ts';
import { listDocuments, readDocument } from '../../src/services/readDocuments.ts';
import { verifyAudit } from '../../src/audit/audit.ts';
import { addOrganisation } from '../../src/services/addOrganisation.ts';
import { addPractitioner } from '../../src/services/addPractitioner.ts';
import { loadOrCreateSigningKey } from '../../src/auth/signing-keys.ts';
import { mintActorToken } from '../../src/services/mintActorToken.ts';
import type { BenchOptions } from './options.ts';
import { createStore, type BenchStore, type Engine } from './store.ts';
import { practitionerPool, professionalActor, type BenchRecord } from './dataset.ts';
import { bulkLoad } from './bulk.ts';
import { feedTemplates, consultSteps, type Tokens } from './scenarios.ts';
import type { CdaTemplate } from './cda.ts';
import { startServer, freePort, baseUrlFor, REPO } from './server.ts';
import { drive, type LatencyStats } from './load.ts';
import type { CpuWindow } from './probes.ts';
import { loadAverage } from './probes.ts';
import { summariseProfile, type ProfileSummary } from './profile.ts';
import { rng, TEST_INS_OID } from './ids.ts';

export interface GrowthPoint {
  engine: Engine;
  documents: number;
  records: number;
  /** Records consulted during the measure (a sample spread over the store, primed beforehand). */
  consultedRecords: number;
  bulkSeconds: number;
  rps: number;
  latencyMs: LatencyStats;
  status: Record<string, number>;
  cpu: CpuWindow;
  peakRssMiB: number;
  loadAverage: string;
  databaseBytes?: number;
  profile?: ProfileSummary;
}

function sampleOf<T>(xs: T[], n: number, seed: number): T[] {
  if (xs.length <= n) return xs;
  const r = rng(seed);
  const picked = new Set<number>();
  while (picked.size < n) picked.add(r.int(xs.length));
  return [...picked].map((i) => xs[i]);
}

/** One ITI-67 per sampled record (8 at a time): first accesses happen before the measure. */
async function prime(url: string, sample: BenchRecord[], tokens: Tokens) {
  const steps = consultSteps({ records: sample }, tokens);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < sample.length) {
        const rec = sample[next++];
        const s = steps[0]({});
        const path = s.path.replace(/patient\.identifier=[^&]*/, `patient.identifier=${encodeURIComponent(`urn:oid:${TEST_INS_OID}|${rec.ins}`)}`);
        const r = await fetch(url + path, { headers: { authorization: `Bearer ${tokens.practitioner.get(rec.mt)}` } });
        await r.arrayBuffer();
        if (!r.ok) throw new Error(`growth prime: ITI-67 answered ${r.status}`);
      }
    }),
  );
}

async function databaseSize(store: BenchStore): Promise<number | undefined> {
  if (store.engine === 'sqlite') {
    const { statSync, existsSync } = await import('node:fs');
    const f = store.sqliteFile!;
    return [f, `${f}-wal`].filter(existsSync).reduce((a, p) => a + statSync(p).size, 0);
  }
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: store.databaseUrl });
  await c.connect();
  try {
    return Number((await c.query('select pg_database_size(current_database()) as s')).rows[0].s);
  } finally {
    await c.end();
  }
}

/** Reads a bulk record back through the services: the list decides and decrypts, the read opens the blob, the chain verifies. */
async function checkThroughServices(store: BenchStore, rec: BenchRecord, consultActor: ReturnType<typeof professionalActor>) {
  const carnet = await openCarnet({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, migrate: false });
  try {
    const listed = await listDocuments(carnet.ctx, consultActor, rec.id, { statuses: ['current', 'superseded'] });
    if (listed.length !== rec.docIds.length) throw new Error(`bulk check: listed ${listed.length} of ${rec.docIds.length} documents`);
    const read = await readDocument(carnet.ctx, consultActor, rec.docIds[0]);
    if (!read.bytes.length) throw new Error('bulk check: empty document');
    const v = await verifyAudit(carnet.ctx.db, { recordId: rec.id });
    if (!v.ok) throw new Error(`bulk check: audit chain broken: ${v.broken.map((b) => b.message).join('; ')}`);
  } finally {
    await carnet.close();
  }
}

export async function runGrowth(
  opts: BenchOptions, engine: Engine, templates: CdaTemplate[], profileDir: string | undefined, log: (...a: unknown[]) => void,
): Promise<GrowthPoint[]> {
  const points: GrowthPoint[] = [];
  const store = await createStore(engine, opts.pgUrl);
  try {
    const port = await freePort();
    const carnet = await openCarnet({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, migrate: true });
    const { organisations, practitioners } = practitionerPool(opts.consultPhysicians);
    const tokens: Tokens = { practitioner: new Map(), holder: new Map() };
    try {
      for (const o of organisations) await addOrganisation(carnet.ctx, o);
      for (const p of practitioners) {
        await addPractitioner(carnet.ctx, { rpps: p.rpps, family: p.family, given: p.given, professionCode: p.professionCode, specialty: p.specialty, organisationFiness: p.finess });
      }
      const signer = await loadOrCreateSigningKey(carnet.ctx.config.dataDir);
      for (const p of practitioners.filter((x) => x.role === 'consult')) {
        tokens.practitioner.set(p.rpps, (await mintActorToken(carnet.ctx, signer, baseUrlFor(port), { as: `practitioner:${p.rpps}`, ttlSeconds: 86_400 })).access_token);
      }
    } finally {
      await carnet.close();
    }
    const growthTemplates = opts.growthDocBytes > 0 ? templates : feedTemplates(templates);
    const records: BenchRecord[] = [];
    for (const size of opts.growth) {
      const want = Math.ceil(size / opts.docsPerRecord);
      const t0 = performance.now();
      if (want > records.length) {
        log(`${engine} growth: bulk-loading records ${records.length}..${want} (${(want - records.length) * opts.docsPerRecord} documents)`);
        const keyCarnet = await openCarnet({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, migrate: false });
        try {
          const added = await bulkLoad(store, {
            firstRecord: records.length, records: want - records.length, docsPerRecord: opts.docsPerRecord, practitioners,
            templates: growthTemplates, docBytes: opts.growthDocBytes, keyProvider: keyCarnet.keyProvider, seed: opts.seed,
            progress: (n) => n % 5000 === 0 && log(`  ${n} records`),
          });
          records.push(...added);
        } finally {
          await keyCarnet.close();
        }
        const probe = records[records.length - 1];
        await checkThroughServices(store, probe, professionalActor(practitioners.find((p) => p.rpps === probe.mt)!));
      }
      const bulkSeconds = (performance.now() - t0) / 1000;
      const dbBytes = await databaseSize(store);
      log(`${engine} growth: ${records.length * opts.docsPerRecord} documents (${((dbBytes ?? 0) / 2 ** 30).toFixed(2)} GiB), bulk ${bulkSeconds.toFixed(0)} s`);
      const server = await startServer(store, { port, profileDir, tag: `${engine}-growth-${size}`, env: { CARNET_WORKERS: String(engine === 'postgres' ? opts.workers : 1) } });
      let stopped;
      let res;
      let load = '';
      // the same workload at every size: a sample of records spread over the whole store, each
      // consulted once before the measure (its first-access notice written), so only the size of
      // the tables differs between the steps
      const sample = sampleOf(records, opts.growthSample, opts.seed + size);
      try {
        await prime(server.url, sample, tokens);
        load = loadAverage();
        res = await drive({
          url: server.url, steps: consultSteps({ records: sample }, tokens), connections: opts.connections, seconds: opts.duration,
          warmupSeconds: opts.warmup, serverPid: server.pid, pg: store.dbName ? { adminUrl: opts.pgUrl, dbName: store.dbName } : undefined,
        });
      } finally {
        stopped = await server.stop();
      }
      const point: GrowthPoint = {
        engine, documents: records.length * opts.docsPerRecord, records: records.length, consultedRecords: sample.length, bulkSeconds: Math.round(bulkSeconds),
        rps: res.rps, latencyMs: res.latencyMs, status: res.status, cpu: res.cpu,
        peakRssMiB: Math.round((Math.max(stopped.peakRssKb, stopped.vmHwmKb) / 1024) * 10) / 10, loadAverage: load, databaseBytes: dbBytes,
      };
      if (stopped.profile) point.profile = summariseProfile(stopped.profile, REPO, 15, { fromMs: res.window.start - server.spawnedAt, toMs: res.window.end - server.spawnedAt });
      log(`${engine} growth ${point.documents}: ${res.rps} req/s, p50 ${res.latencyMs.p50} ms, p99 ${res.latencyMs.p99} ms, status ${JSON.stringify(res.status)}`);
      points.push(point);
    }
  } finally {
    await store.drop();
  }
  return points;
}
