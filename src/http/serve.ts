/** `npm start` / `carnet serve`: open (and migrate) the store, seed the demo when empty, listen. */
import { openCarnet, optionsFromEnv } from '../services/carnet.ts';
import { loadOrCreateSigningKey } from '../auth/signing-keys.ts';
import { buildApp } from './app.ts';
import { readFileSync } from 'node:fs';
import type { ServerOptions as HttpsServerOptions } from 'node:https';
import { proOidcFromEnv } from '../services/accounts/proOidc.ts';

/**
 * HTTPS from the environment: CARNET_TLS_CERT and CARNET_TLS_KEY (PEM files); with
 * CARNET_CLIENT_CA (PEM bundle of the card authorities) professionals may log in with their card
 * (mutual TLS: the certificate is asked for, and checked, but its absence is answered by the route).
 */
function httpsFromEnv(env: NodeJS.ProcessEnv): HttpsServerOptions | undefined {
  if (!env.CARNET_TLS_CERT || !env.CARNET_TLS_KEY) return undefined;
  return {
    cert: readFileSync(env.CARNET_TLS_CERT),
    key: readFileSync(env.CARNET_TLS_KEY),
    ...(env.CARNET_CLIENT_CA ? { ca: readFileSync(env.CARNET_CLIENT_CA), requestCert: true, rejectUnauthorized: false } : {}),
  };
}

export async function serve(opts: { port: number; host: string; demo: boolean }) {
  const carnet = await openCarnet({ ...optionsFromEnv(), migrate: true });
  const signingKey = await loadOrCreateSigningKey(carnet.ctx.config.dataDir);
  const https = httpsFromEnv(process.env);
  const baseUrl = (process.env.CARNET_BASE_URL ?? `${https ? 'https' : 'http'}://localhost:${opts.port}`).replace(/\/+$/, '');
  if (opts.demo) {
    const { seedDemo } = await import('../demo/seed.ts');
    const r = await seedDemo(carnet);
    if (r.seeded) console.log(r.howTo);
  }
  const app = await buildApp({ carnet, signingKey, baseUrl, https, proOidc: proOidcFromEnv(process.env, baseUrl) });
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
