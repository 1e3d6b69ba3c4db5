/**
 * Summary of a V8 `.cpuprofile` (node --cpu-prof): self time per function and per area (a source
 * file of Carnet, a package, Node's internals, the garbage collector), idle time left out.
 */
import { readFileSync } from 'node:fs';

interface CpuNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: CpuNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  name: string;
  where: string;
  selfMs: number;
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** The part of the run summarised (ms since the server started), when limited to the measured load. */
  window?: { fromMs: number; toMs: number };
  sampledMs: number;
  idleMs: number;
  topFunctions: ProfileEntry[];
  topAreas: ProfileEntry[];
}

export function areaOf(url: string, repo: string): string {
  if (!url) return '(native / V8)';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith('node:')) return 'node internals';
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = u.slice(nm + 14).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (u.startsWith(repo)) u = u.slice(repo.length);
  return u;
}

/**
 * `window`: milliseconds since the process started (≈ the profile's start) of the measured load;
 * samples outside it (start-up, module compilation, warm-up) are left out.
 */
export function summariseProfile(file: string, repo: string, top = 25, window?: { fromMs: number; toMs: number }): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let t = 0;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    const dt = p.timeDeltas[i + 1] ?? 0; // the time until the next sample belongs to this one
    if (window && (t / 1000 < window.fromMs || t / 1000 > window.toMs)) continue;
    self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + dt);
  }
  const fn = new Map<string, ProfileEntry>();
  const area = new Map<string, ProfileEntry>();
  let idle = 0;
  let total = 0;
  for (const [id, us] of self) {
    const n = byId.get(id)!;
    const name = n.callFrame.functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const a = name === '(garbage collector)' ? '(garbage collector)' : name === '(program)' ? '(program)' : areaOf(n.callFrame.url, repo);
    const where = n.callFrame.url ? `${areaOf(n.callFrame.url, repo)}:${n.callFrame.lineNumber + 1}` : '';
    const k = `${name}@${where}`;
    const e = fn.get(k) ?? { name, where, selfMs: 0, percent: 0 };
    e.selfMs += us / 1000;
    fn.set(k, e);
    const ae = area.get(a) ?? { name: a, where: '', selfMs: 0, percent: 0 };
    ae.selfMs += us / 1000;
    area.set(a, ae);
  }
  const finish = (xs: Iterable<ProfileEntry>) =>
    [...xs]
      .sort((a, b) => b.selfMs - a.selfMs)
      .slice(0, top)
      .map((e) => ({ ...e, selfMs: Math.round(e.selfMs), percent: Math.round((e.selfMs / (total / 1000)) * 1000) / 10 }));
  return { file, window, sampledMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), topFunctions: finish(fn.values()), topAreas: finish(area.values()) };
}
