/**
 * Carnet as a separate process, started the way an operator starts it (`node bin/carnet.js serve
 * --no-demo`) on the benchmark's store, optionally under `--cpu-prof`. Its logs go to a file in the
 * store's folder (they are part of its work: one line per request at the default level).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readdirSync, readFileSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchStore } from './store.ts';
import { rssSampler, treeKb } from './probes.ts';
import { freePort } from '../../test/net.ts';
export { freePort };

export const REPO = new URL('../../', import.meta.url).pathname;

export interface RunningServer {
  pid: number;
  /** performance.now() of the benchmark process when the child was spawned (aligns the profile). */
  spawnedAt: number;
  url: string;
  baseUrl: string;
  logFile: string;
  /** Stops it (SIGTERM, as an operator would) and returns its peak memory and the profile written, if any. */
  stop(): Promise<{ peakRssKb: number; vmHwmKb: number; profile?: string }>;
}

/** Children still running: killed if the benchmark itself stops early, so no server is left behind. */
const live = new Set<ChildProcess>();
const killAll = () => {
  for (const c of live) c.kill('SIGKILL');
};
process.once('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    killAll();
    process.exit(130);
  });
}


/** The environment Carnet is served with; the base URL is fixed so tokens minted beforehand match. */
export function serverEnv(store: BenchStore, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CARNET_DATA: store.dataDir,
    CARNET_BASE_URL: `http://127.0.0.1:${port}`,
    // every request of the benchmark comes from one address (127.0.0.1); in service they come from
    // many. The limiter still runs on each request, it only never trips.
    CARNET_RATE_LIMIT: '100000000',
    CARNET_WORKERS: '1',
    ...extra,
  };
  if (store.databaseUrl) env.DATABASE_URL = store.databaseUrl;
  else delete env.DATABASE_URL;
  return env;
}

export const baseUrlFor = (port: number) => `http://127.0.0.1:${port}`;

export async function startServer(store: BenchStore, opts: { port: number; profileDir?: string; tag: string; env?: Record<string, string> }): Promise<RunningServer> {
  const logFile = join(store.dataDir, `server-${opts.tag}.log`);
  const profDir = opts.profileDir ? join(opts.profileDir, opts.tag) : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const fd = openSync(logFile, 'a');
  const args = [
    // one profile per thread (tsx's loader runs in its own): a folder per server, the main thread's is the largest
    ...(profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : []),
    join(REPO, 'bin/carnet.js'), 'serve', '--port', String(opts.port), '--host', '127.0.0.1', '--no-demo',
  ];
  const spawnedAt = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO, env: serverEnv(store, opts.port, opts.env), stdio: ['ignore', fd, fd] });
  closeSync(fd);
  live.add(child);
  child.once('exit', () => live.delete(child));
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', (code) => { exited = code; resolve(); }));
  const url = baseUrlFor(opts.port);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`Carnet exited (${exited}) before serving; see ${logFile}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`);
    try {
      const r = await fetch(`${url}/health`);
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Carnet did not answer /health within 60 s; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  const pid = child.pid!;
  const rss = rssSampler(pid);
  return {
    pid, spawnedAt, url, baseUrl: url, logFile,
    async stop() {
      const vmHwmKb = treeKb(pid, 'VmHWM');
      rss.stop();
      if (exited === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
        await exitPromise;
        clearTimeout(timer);
      }
      let profile: string | undefined;
      if (profDir) {
        const files = readdirSync(profDir).filter((x) => x.endsWith('.cpuprofile')).map((x) => join(profDir, x));
        profile = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
      }
      return { peakRssKb: Math.max(rss.peakKb(), 0), vmHwmKb, profile };
    },
  };
}
