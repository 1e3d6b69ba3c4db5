/**
 * Safe XML parsing for documents received from outside (CDA R2 first).
 *
 * - Any DOCTYPE or ENTITY declaration is refused before parsing (XXE, "billion laughs"):
 *   `XML_DTD_FORBIDDEN`. CDA R2 never needs a DTD.
 * - fast-xml-parser runs with entity processing OFF; this module decodes only the five predefined
 *   entities and numeric character references itself. Any other named entity is undeclared (there
 *   is no DTD), which makes the document not well-formed: `XML_MALFORMED`.
 * - Well-formedness is checked with the parser's validator, which gives line and column.
 * - The result is a small namespace-resolved element tree, built in one pass, that callers walk
 *   instead of re-parsing (header extraction and rendering share it).
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { invalid } from '../../domain/errors.ts';

export interface XmlElement {
  /** Local name (no prefix). */
  readonly name: string;
  /** Namespace URI the element's prefix (or the default namespace) resolves to. */
  readonly ns: string | undefined;
  /** Attributes by qualified name as written (`code`, `xsi:type`), values entity-decoded. */
  readonly attrs: Readonly<Record<string, string>>;
  /** Child elements and text, in document order. Text is entity-decoded, whitespace kept. */
  readonly children: readonly XmlNode[];
  /**
   * Only for elements the caller asked to keep opaque (see ParseOptions.opaque): their content,
   * unparsed and not entity-decoded. `children` is then empty.
   */
  readonly raw?: string;
}
export type XmlNode = XmlElement | string;

export interface XmlDocument {
  readonly root: XmlElement;
}

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

const TEXT = '#text';
const CDATA = '#cdata';
const ATTRS = ':@';
const ATTR_PREFIX = '@_';

/** Deepest element nesting accepted (fast-xml-parser's own guard; CDA stays far below). */
export const MAX_XML_DEPTH = 200;

export interface ParseOptions {
  /**
   * Elements whose content the caller does not need as a tree, given as tail paths of qualified
   * names: `['entry']` is any `entry`, `['nonXMLBody', 'text']` a `text` child of `nonXMLBody`.
   * Their content is kept as `raw` text instead of being parsed, which is much faster for large
   * bodies. The whole document is still checked (well-formedness, entities) either way.
   * Only the exact qualified names match (a prefixed `c:entry` is parsed normally). Tails have
   * one or two names.
   */
  opaque?: ReadonlyArray<readonly string[]>;
}

const BASE_OPTIONS = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: ATTR_PREFIX,
  textNodeName: TEXT,
  cdataPropName: CDATA,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  commentPropName: false,
  allowBooleanAttributes: false,
  removeNSPrefix: false,
  maxNestedTags: MAX_XML_DEPTH,
  jPath: false,
} as const;

const parsers = new Map<string, XMLParser>();

function parserFor(opaque: ReadonlyArray<readonly string[]> | undefined): XMLParser {
  const key = opaque?.map((p) => p.join('.')).join('|') ?? '';
  let p = parsers.get(key);
  if (!p) {
    for (const tail of opaque ?? []) {
      if (tail.length < 1 || tail.length > 2 || tail.some((n) => !/^[A-Za-z_][\w.:-]*$/.test(n) || n.includes('.'))) {
        throw new Error('parseXmlSafely: opaque tails have one or two element names');
      }
    }
    const stopNodes = opaque?.map((tail) => '..' + tail.join('.')) ?? [];
    p = new XMLParser({ ...BASE_OPTIONS, stopNodes });
    parsers.set(key, p);
  }
  return p;
}

/** `<!DOCTYPE` or `<!ENTITY`, anywhere (also inside comments: refusing those too is harmless). */
const DTD_RE = /<!\s*(?:DOCTYPE|ENTITY)/i;

/**
 * Decode bytes to text. UTF-8 (with or without BOM) is what CI-SIS mandates; UTF-16 with a BOM and
 * an explicit ISO-8859-1 / windows-1252 declaration are accepted too. Invalid bytes are refused.
 */
function decode(input: Buffer | Uint8Array | string): string {
  if (typeof input === 'string') return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const b = input;
  let label = 'utf-8';
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) label = 'utf-16le';
  else if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) label = 'utf-16be';
  else {
    // Look at the encoding pseudo-attribute of the XML declaration (ASCII-compatible encodings).
    const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 200)).toString('latin1');
    const m = /^(?:\uFEFF|\u00EF\u00BB\u00BF)?<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']/.exec(head);
    if (m) {
      const enc = m[1].toLowerCase();
      if (enc === 'iso-8859-1' || enc === 'latin1' || enc === 'latin-1') label = 'latin1';
      else if (enc === 'windows-1252' || enc === 'cp1252') label = 'windows-1252';
      else if (enc === 'iso-8859-15') label = 'iso-8859-15';
      else if (enc !== 'utf-8' && enc !== 'utf8' && enc !== 'us-ascii' && enc !== 'ascii') {
        throw invalid('XML_ENCODING_UNSUPPORTED', 'The XML document declares an unsupported character encoding', {
          details: { encoding: m[1] },
        });
      }
    }
  }
  try {
    // TextDecoder strips a BOM matching the encoding by default.
    return new TextDecoder(label, { fatal: true }).decode(b);
  } catch (e) {
    throw invalid('XML_MALFORMED', 'The XML document is not valid text in its declared encoding', {
      details: { encoding: label },
      cause: e,
    });
  }
}

const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ENTITY_RE = /&(#[0-9]+|#x[0-9a-fA-F]+|[^;&\s]*);?/g;

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Decode the five predefined entities and numeric character references; refuse anything else. */
export function decodeXmlEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(ENTITY_RE, (whole: string, ref: string) => {
    if (!whole.endsWith(';')) {
      throw invalid('XML_MALFORMED', "The XML document contains a bare '&'", { details: { reference: whole.slice(0, 20) } });
    }
    if (ref.charCodeAt(0) === 35 /* # */) {
      const cp = ref.charCodeAt(1) === 120 /* x */ ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(cp) || !isXmlChar(cp)) {
        throw invalid('XML_MALFORMED', 'The XML document references a character XML does not allow', {
          details: { reference: whole.slice(0, 20) },
        });
      }
      return String.fromCodePoint(cp);
    }
    const v = PREDEFINED[ref];
    if (v === undefined) {
      // No DTD is allowed, so no other entity can be declared.
      throw invalid('XML_MALFORMED', 'The XML document uses an undeclared entity', { details: { reference: whole.slice(0, 40) } });
    }
    return v;
  });
}

/** 1-based line and column of an offset, for error details (computed only on error). */
function lineColumn(xml: string, index: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = xml.indexOf('\n'); i >= 0 && i < index; i = xml.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: index - lineStart + 1 };
}

/**
 * One pass over the whole text checking every `&` outside comments and CDATA sections: only the
 * five predefined entities and numeric references to allowed characters are accepted. (The
 * validator accepts any `&name;`, and parts the caller keeps opaque are not decoded at all, so
 * this is what makes "no other entity" hold for the whole document.)
 */
const AMP_SCAN_RE = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|&(?:#([0-9]{1,8});|#x([0-9a-fA-F]{1,8});|(lt|gt|amp|quot|apos);)?/g;

function checkEntities(xml: string): void {
  if (xml.indexOf('&') < 0) return;
  AMP_SCAN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = AMP_SCAN_RE.exec(xml))) {
    if (m[0].charCodeAt(0) !== 38 /* & */) continue; // a comment or CDATA section, skipped whole
    if (m[3] !== undefined) continue;
    const cp = m[1] !== undefined ? parseInt(m[1], 10) : m[2] !== undefined ? parseInt(m[2], 16) : -1;
    if (cp >= 0 && isXmlChar(cp)) continue;
    const reference = xml.slice(m.index, Math.min(xml.length, m.index + 12)).split(/[\s<]/)[0];
    throw invalid(
      'XML_MALFORMED',
      cp >= 0 ? 'The XML document references a character XML does not allow' : 'The XML document uses an undeclared entity or a bare \'&\'',
      { details: { ...lineColumn(xml, m.index), reason: 'InvalidEntity', reference } },
    );
  }
}

/** Characters XML 1.0 forbids even when written raw (C0 controls but tab/LF/CR, U+FFFE/U+FFFF). */
const FORBIDDEN_CHAR_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

type Ns = Readonly<Record<string, string>>;
type RawNode = Record<string, unknown>;

/** Namespace scopes are prototype-less so that a prefix like `constructor` resolves to nothing. */
const BASE_NS: Ns = Object.freeze(Object.assign(Object.create(null) as Record<string, string>, { xml: XML_NS }));
const EMPTY_ATTRS: Record<string, string> = Object.freeze(Object.create(null)) as Record<string, string>;

interface Opaque {
  /** local tails: last qname → required parent qname ('' = any parent). */
  readonly byName: ReadonlyMap<string, readonly string[]>;
}

function isOpaque(opaque: Opaque | undefined, qname: string, parentQname: string): boolean {
  const parents = opaque?.byName.get(qname);
  if (!parents) return false;
  return parents.includes('') || parents.includes(parentQname);
}

function toElement(qname: string, raw: RawNode, parentNs: Ns, parentQname: string, opaque: Opaque | undefined): XmlElement {
  const rawAttrs = raw[ATTRS] as Record<string, string> | undefined;
  let scope = parentNs;
  let attrs: Record<string, string> = EMPTY_ATTRS;
  if (rawAttrs) {
    attrs = Object.create(null) as Record<string, string>;
    let declared: Record<string, string> | undefined;
    for (const k in rawAttrs) {
      const name = k.startsWith(ATTR_PREFIX) ? k.slice(ATTR_PREFIX.length) : k;
      const value = decodeXmlEntities(String(rawAttrs[k]));
      if (name === 'xmlns') (declared ??= Object.create(null) as Record<string, string>)[''] = value;
      else if (name.startsWith('xmlns:')) (declared ??= Object.create(null) as Record<string, string>)[name.slice(6)] = value;
      attrs[name] = value;
    }
    if (declared) scope = Object.assign(Object.create(null) as Record<string, string>, parentNs, declared);
  }
  const colon = qname.indexOf(':');
  const prefix = colon >= 0 ? qname.slice(0, colon) : '';
  const name = colon >= 0 ? qname.slice(colon + 1) : qname;
  const ns = scope[prefix] || undefined;
  if (prefix && ns === undefined) {
    throw invalid('XML_MALFORMED', 'The XML document uses an undeclared namespace prefix', { details: { prefix } });
  }
  const content = raw[qname] as RawNode[] | undefined;
  if (isOpaque(opaque, qname, parentQname)) {
    let text = '';
    if (content) for (const c of content) if (c[TEXT] !== undefined) text += String(c[TEXT]);
    return { name, ns, attrs, children: [], raw: text };
  }
  const children: XmlNode[] = [];
  if (content) {
    for (const c of content) {
      for (const key in c) {
        if (key === ATTRS) continue;
        if (key === TEXT) {
          const t = c[TEXT];
          if (t !== undefined && t !== '') children.push(decodeXmlEntities(String(t)));
        } else if (key === CDATA) {
          const parts = c[CDATA] as RawNode[];
          for (const p of parts) {
            const t = p[TEXT];
            if (t !== undefined && t !== '') children.push(String(t));
          }
        } else {
          children.push(toElement(key, c, scope, qname, opaque));
        }
        break; // one node per entry in preserveOrder output
      }
    }
  }
  return { name, ns, attrs, children };
}

/**
 * Parse untrusted XML into an element tree, refusing DTDs and malformed input.
 * Throws CarnetError (kind `invalid`): XML_DTD_FORBIDDEN, XML_MALFORMED, XML_ENCODING_UNSUPPORTED.
 */
export function parseXmlSafely(input: Buffer | Uint8Array | string, options: ParseOptions = {}): XmlDocument {
  const xml = decode(input);
  if (DTD_RE.test(xml)) {
    throw invalid('XML_DTD_FORBIDDEN', 'XML documents with a DOCTYPE or ENTITY declaration are refused');
  }
  const v = XMLValidator.validate(xml, { allowBooleanAttributes: false });
  if (v !== true) {
    throw invalid('XML_MALFORMED', 'The XML document is not well-formed', {
      details: { line: v.err.line, column: v.err.col, reason: v.err.code, parser: v.err.msg },
    });
  }
  const bad = FORBIDDEN_CHAR_RE.exec(xml);
  if (bad) {
    throw invalid('XML_MALFORMED', 'The XML document contains a character XML does not allow', {
      details: { ...lineColumn(xml, bad.index), reason: 'InvalidChar' },
    });
  }
  checkEntities(xml);
  let raw: RawNode[];
  try {
    raw = parserFor(options.opaque).parse(xml) as RawNode[];
  } catch (e) {
    throw invalid('XML_MALFORMED', 'The XML document could not be parsed', {
      details: { parser: e instanceof Error ? e.message.slice(0, 200) : String(e) },
      cause: e,
    });
  }
  let opaque: Opaque | undefined;
  if (options.opaque?.length) {
    const byName = new Map<string, string[]>();
    for (const tail of options.opaque) {
      const last = tail[tail.length - 1];
      const parent = tail.length > 1 ? tail[tail.length - 2] : '';
      byName.set(last, [...(byName.get(last) ?? []), parent]);
    }
    opaque = { byName };
  }
  let root: XmlElement | undefined;
  for (const node of raw) {
    for (const key in node) {
      if (key === ATTRS || key === TEXT || key === CDATA) continue;
      if (root) throw invalid('XML_MALFORMED', 'The XML document has more than one root element');
      root = toElement(key, node, BASE_NS, '', opaque);
    }
  }
  if (!root) throw invalid('XML_MALFORMED', 'The XML document has no root element');
  return { root };
}

// ---------------------------------------------------------------------------------------------
// Small helpers to walk the tree (namespace-aware: pass the namespace the caller expects).

export function firstChild(el: XmlElement | undefined, name: string, ns?: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) {
    if (typeof c !== 'string' && c.name === name && (ns === undefined || c.ns === ns)) return c;
  }
  return undefined;
}

export function childrenNamed(el: XmlElement | undefined, name: string, ns?: string): XmlElement[] {
  const out: XmlElement[] = [];
  if (!el) return out;
  for (const c of el.children) {
    if (typeof c !== 'string' && c.name === name && (ns === undefined || c.ns === ns)) out.push(c);
  }
  return out;
}

/** Follow a path of child names, taking the first match at each step. */
export function path(el: XmlElement | undefined, names: readonly string[], ns?: string): XmlElement | undefined {
  let cur = el;
  for (const n of names) {
    cur = firstChild(cur, n, ns);
    if (!cur) return undefined;
  }
  return cur;
}

/** Concatenated descendant text (raw, whitespace kept). */
export function textContent(el: XmlElement | undefined): string {
  if (!el) return '';
  let out = '';
  for (const c of el.children) out += typeof c === 'string' ? c : textContent(c);
  return out;
}

/** Descendant text with whitespace collapsed and trimmed. */
export function normalizedText(el: XmlElement | undefined): string {
  return textContent(el).replace(/\s+/g, ' ').trim();
}
