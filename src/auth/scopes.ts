/**
 * SMART on FHIR clinical scopes, v1 and v2 syntax (SMART App Launch 2.x, "Scopes for requesting
 * clinical data"):
 *
 *   ( patient | user | system ) "/" ( ResourceType | "*" ) "." ( cruds-subset | read | write | * )
 *   [ "?" param=value ( "&" param=value )* ]        (v2 only)
 *
 * v1 suffixes map to v2 permissions as the specification says: `read` ⇒ `rs`, `write` ⇒ `cud`,
 * `*` ⇒ `cruds`. v2 permission letters must appear in the order c, r, u, d, s; anything else
 * (`.dus`, `.rr`) is not a scope and is refused rather than guessed at.
 *
 * A scope with search-parameter constraints (`?category=…`) is kept with its `params`, but
 * `allows()` never treats it as a grant: only the caller that knows the resource's content could
 * honour the constraint, so it has to check `params` itself. Refusing is the safe default.
 */

export type ScopeContext = 'system' | 'user' | 'patient';
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

/** The permission letters in the only order SMART v2 allows. */
export const INTERACTIONS: readonly Interaction[] = ['c', 'r', 'u', 'd', 's'];

export interface Scope {
  context: ScopeContext;
  /** A FHIR resource type, or `*` for all. */
  resourceType: string;
  /** Granted interactions, in c-r-u-d-s order, without repeats. */
  interactions: Interaction[];
  /** v2 search-parameter constraint without the leading `?` (e.g. `category=…|laboratory`). */
  params?: string;
  /** Which syntax the scope was written in; v1 scopes are echoed back as v1 (SMART SHOULD). */
  version: 1 | 2;
  /** The scope exactly as written. */
  raw: string;
}

const SCOPE_RE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)(?:\?(.+))?$/;
const V1_SUFFIX: Record<string, Interaction[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};

/** Parses one clinical scope; `undefined` when the string is not a well-formed SMART clinical scope. */
export function parseScope(raw: string): Scope | undefined {
  const m = SCOPE_RE.exec(raw);
  if (!m) return undefined;
  const [, context, resourceType, suffix, params] = m;
  const v1 = V1_SUFFIX[suffix];
  if (v1) {
    if (params !== undefined) return undefined; // v1 had no search-parameter constraints
    return { context: context as ScopeContext, resourceType, interactions: [...v1], version: 1, raw };
  }
  const interactions = parsePermissions(suffix);
  if (!interactions) return undefined;
  if (params !== undefined && !/^[^\s?&=]+=[^\s&]*(?:&[^\s?&=]+=[^\s&]*)*$/.test(params)) return undefined;
  return {
    context: context as ScopeContext,
    resourceType,
    interactions,
    ...(params !== undefined ? { params } : {}),
    version: 2,
    raw,
  };
}

/** `cruds` subset in order, each letter at most once; `undefined` otherwise. */
function parsePermissions(suffix: string): Interaction[] | undefined {
  let last = -1;
  const out: Interaction[] = [];
  for (const ch of suffix) {
    const idx = INTERACTIONS.indexOf(ch as Interaction);
    if (idx <= last) return undefined; // unknown letter, repeat, or out of order
    last = idx;
    out.push(ch as Interaction);
  }
  return out.length ? out : undefined;
}

export interface ParsedScopes {
  /** Clinical scopes, parsed. */
  scopes: Scope[];
  /** Other well-formed scope tokens (`openid`, `launch`, `offline_access` …), kept as written. */
  other: string[];
  /** Tokens that look like clinical scopes but are malformed (`system/Observation.dus`). */
  invalid: string[];
}

/** Splits a space-separated `scope` parameter (RFC 6749 §3.3) or a list and parses each token. */
export function parseScopes(input: string | readonly string[]): ParsedScopes {
  const tokens = typeof input === 'string' ? input.split(' ').filter((t) => t.length > 0) : input;
  const out: ParsedScopes = { scopes: [], other: [], invalid: [] };
  const seen = new Set<string>();
  for (const token of tokens) {
    if (seen.has(token)) continue;
    seen.add(token);
    const s = parseScope(token);
    if (s) out.scopes.push(s);
    else if (/^(patient|user|system)\//.test(token) || !isScopeToken(token)) out.invalid.push(token);
    else out.other.push(token);
  }
  return out;
}

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
function isScopeToken(t: string): boolean {
  return /^[\x21\x23-\x5B\x5D-\x7E]+$/.test(t);
}

/** The v2 form of a scope (`system/DocumentReference.rs`), with its constraint if any. */
export function formatScope(scope: Pick<Scope, 'context' | 'resourceType' | 'interactions' | 'params'>): string {
  const letters = INTERACTIONS.filter((i) => scope.interactions.includes(i)).join('');
  return `${scope.context}/${scope.resourceType}.${letters}${scope.params !== undefined ? `?${scope.params}` : ''}`;
}

/**
 * Does this set of scopes let the holder of the token perform `interaction` on `resourceType` in
 * `context`? Context must match exactly (a `system/` scope does not grant `user/` access);
 * `*` covers every resource type; constrained scopes (`?…`) grant nothing here (see top).
 */
export function allows(
  scopes: readonly Scope[],
  context: ScopeContext,
  resourceType: string,
  interaction: Interaction,
): boolean {
  return scopes.some(
    (s) =>
      s.params === undefined &&
      s.context === context &&
      (s.resourceType === '*' || s.resourceType === resourceType) &&
      s.interactions.includes(interaction),
  );
}

/**
 * Is everything `requested` asks for already granted by `allowed`? A constrained requested scope
 * is covered by an unconstrained one, or by an allowed scope with the very same constraint.
 */
export function covers(allowed: readonly Scope[], requested: Scope): boolean {
  return requested.interactions.every((i) =>
    allowed.some(
      (a) =>
        a.context === requested.context &&
        (a.resourceType === '*' || a.resourceType === requested.resourceType) &&
        a.interactions.includes(i) &&
        (a.params === undefined || a.params === requested.params),
    ),
  );
}

/**
 * The part of `requested` that `allowed` grants: each requested scope reduced to the interactions
 * an allowed scope grants, a requested wildcard type reduced to the allowed specific types.
 * Scopes reduced to nothing are dropped; the result is deduplicated and in v2 form, except that a
 * requested scope granted in full is returned as written (so v1 requests get v1 answers).
 */
export function narrow(requested: readonly Scope[], allowed: readonly Scope[]): Scope[] {
  const out = new Map<string, Scope>();
  const add = (s: Scope) => {
    const key = `${s.context}/${s.resourceType}?${s.params ?? ''}`;
    const prev = out.get(key);
    if (!prev) out.set(key, s);
    else {
      const merged = INTERACTIONS.filter((i) => prev.interactions.includes(i) || s.interactions.includes(i));
      out.set(key, v2({ ...prev, interactions: merged }));
    }
  };
  for (const r of requested) {
    if (covers(allowed, r)) {
      add(r);
      continue;
    }
    for (const a of allowed) {
      if (a.context !== r.context) continue;
      let type: string;
      if (a.resourceType === '*' || a.resourceType === r.resourceType) type = r.resourceType;
      else if (r.resourceType === '*') type = a.resourceType;
      else continue;
      // Two different constraints cannot be intersected syntactically: skip rather than guess.
      if (a.params !== undefined && r.params !== undefined && a.params !== r.params) continue;
      const params = r.params ?? a.params;
      const interactions = INTERACTIONS.filter((i) => r.interactions.includes(i) && a.interactions.includes(i));
      if (!interactions.length) continue;
      add(v2({ context: r.context, resourceType: type, interactions, ...(params !== undefined ? { params } : {}) }));
    }
  }
  return [...out.values()];
}

function v2(s: Pick<Scope, 'context' | 'resourceType' | 'interactions' | 'params'>): Scope {
  const base = { context: s.context, resourceType: s.resourceType, interactions: [...s.interactions] };
  const scope: Scope = { ...base, ...(s.params !== undefined ? { params: s.params } : {}), version: 2, raw: '' };
  scope.raw = formatScope(scope);
  return scope;
}

/** Space-separated `scope` string for a token or a token response. */
export function scopeString(scopes: readonly Scope[], other: readonly string[] = []): string {
  return [...scopes.map((s) => s.raw || formatScope(s)), ...other].join(' ');
}
