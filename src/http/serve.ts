/** `npm start` / `carnet serve`: open (and migrate) the store, seed the demo when empty, listen. */
import { openCarnet, optionsFromEnv } from '../services/carnet.ts';
import { loadOrCreateSigningKey } from '../auth/signing-keys.ts';
import { buildApp } from './app.ts';

export async function serve(opts: { port: number; host: string; demo: boolean }) {
  const carnet = await openCarnet({ ...optionsFromEnv(), migrate: true });
  const signingKey = await loadOrCreateSigningKey(carnet.ctx.config.dataDir);
  const baseUrl = (process.env.CARNET_BASE_URL ?? `http://localhost:${opts.port}`).replace(/\/+$/, '');
  if (opts.demo) {
    const { seedDemo } = await import('../demo/seed.ts');
    const r = await seedDemo(carnet);
    if (r.seeded) console.log(r.howTo);
  }
  const app = await buildApp({ carnet, signingKey, baseUrl });
  await app.listen({ port: opts.port, host: opts.host });
  console.log(`Carnet is serving on ${baseUrl} (FHIR base ${baseUrl}/fhir, engine ${carnet.ctx.engine}, data ${carnet.ctx.config.dataDir})`);
  const stop = async () => {
    await app.close();
    await carnet.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
