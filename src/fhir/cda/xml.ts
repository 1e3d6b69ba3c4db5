/**
 * Safe XML parsing for documents received from outside (CDA R2 first).
 *
 * - Any DOCTYPE or ENTITY declaration is refused before parsing (XXE, "billion laughs"):
 *   `XML_DTD_FORBIDDEN`. CDA R2 never needs a DTD.
 * - One pass of saxes, a SAX parser that checks XML 1.0 and Namespaces in XML well-formedness as the
 *   specifications write it (characters, names, attribute values, `]]>`, comments, one root, …). It
 *   knows only the five predefined entities and numeric references to allowed characters: with no
 *   DTD, any other entity is undeclared, which makes the document not well-formed: `XML_MALFORMED`,
 *   with line and column. The parser stops at the first error.
 * - The same pass builds a small namespace-resolved element tree that callers walk instead of
 *   re-parsing (header extraction and rendering share it). Elements the caller keeps opaque are
 *   still checked in full; only their tree is not built.
 */
import { SaxesParser } from 'saxes';
import { CarnetError, invalid } from '../../domain/errors.ts';

export interface XmlElement {
  /** Local name (no prefix). */
  readonly name: string;
  /** Namespace URI the element's prefix (or the default namespace) resolves to. */
  readonly ns: string | undefined;
  /**
   * Attributes by qualified name as written (`code`, `xsi:type`), values entity-decoded (and
   * white space normalised as XML requires: a raw tab or line break is read as a space).
   */
  readonly attrs: Readonly<Record<string, string>>;
  /**
   * Child elements and text, in document order. Text is entity-decoded (CDATA sections taken as
   * they are), whitespace kept, line ends read as `\n` as XML requires; adjacent text (around a
   * comment or a CDATA section) is one string.
   */
  readonly children: readonly XmlNode[];
  /**
   * Only for elements the caller asked to keep opaque (see ParseOptions.opaque): their content,
   * unparsed and not entity-decoded, exactly as written between the start and end tags. `children`
   * is then empty.
   */
  readonly raw?: string;
}
export type XmlNode = XmlElement | string;

export interface XmlDocument {
  readonly root: XmlElement;
}

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Deepest element nesting accepted (the root is depth 1; CDA stays far below). */
export const MAX_XML_DEPTH = 200;

export interface ParseOptions {
  /**
   * Elements whose content the caller does not need as a tree, given as tail paths of qualified
   * names: `['entry']` is any `entry`, `['nonXMLBody', 'text']` a `text` child of `nonXMLBody`.
   * Their content is kept as `raw` text instead of being built into a tree, which is faster for
   * large bodies. The whole document is still checked (well-formedness, entities) either way.
   * Only the exact qualified names match (a prefixed `c:entry` is parsed normally). Tails have
   * one or two names.
   */
  opaque?: ReadonlyArray<readonly string[]>;
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

/**
 * Decode the five predefined entities and numeric character references; refuse anything else.
 * (parseXmlSafely does not need it: saxes decodes. For callers holding raw text of their own.)
 */
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
 * Error path only. saxes reads an entity reference up to the next `;` and reports a bad one there
 * (or, for a bare `&` with no `;` after it, as an unclosed tag at the end): find the first invalid
 * reference before the failure point so that the position given is that of its `&`. Comments,
 * CDATA sections and processing instructions are skipped.
 */
const AMP_SCAN_RE =
  /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>|&(?:#([0-9]+);|#x([0-9a-fA-F]+);|(lt|gt|amp|quot|apos);)?/g;

function firstBadReference(xml: string, end: number): number {
  AMP_SCAN_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = AMP_SCAN_RE.exec(xml)) && m.index <= end) {
    if (m[0].charCodeAt(0) !== 38 /* & */ || m[3] !== undefined) continue;
    const cp = m[1] !== undefined ? parseInt(m[1], 10) : m[2] !== undefined ? parseInt(m[2], 16) : -1;
    if (!isXmlChar(cp)) return m.index;
  }
  return -1;
}

function malformed(xml: string, failedAt: number, parserMessage: string): CarnetError {
  const amp = firstBadReference(xml, failedAt);
  if (amp >= 0) {
    const reference = xml.slice(amp, Math.min(xml.length, amp + 12)).split(/[\s<]/)[0];
    return invalid('XML_MALFORMED', "The XML document uses an undeclared entity, a bare '&' or a reference to a character XML does not allow", {
      details: { ...lineColumn(xml, amp), reason: 'InvalidEntity', reference },
    });
  }
  return invalid('XML_MALFORMED', 'The XML document is not well-formed', {
    details: { ...lineColumn(xml, failedAt), reason: parserMessage.replace(/^\d+:\d+: /, '').slice(0, 200) },
  });
}

interface Opaque {
  /** last qname of a tail → required parent qnames ('' = any parent). */
  readonly byName: ReadonlyMap<string, readonly string[]>;
}

/** Compiled opaque options, per options array (callers pass module-level constants). */
const compiledOpaque = new WeakMap<ReadonlyArray<readonly string[]>, Opaque>();

function compileOpaque(tails: ReadonlyArray<readonly string[]> | undefined): Opaque | undefined {
  if (!tails?.length) return undefined;
  let o = compiledOpaque.get(tails);
  if (!o) {
    const byName = new Map<string, string[]>();
    for (const tail of tails) {
      if (tail.length < 1 || tail.length > 2 || tail.some((n) => !/^[A-Za-z_][\w.:-]*$/.test(n))) {
        throw new Error('parseXmlSafely: opaque tails have one or two element names');
      }
      const last = tail[tail.length - 1];
      const parent = tail.length > 1 ? tail[tail.length - 2] : '';
      byName.set(last, [...(byName.get(last) ?? []), parent]);
    }
    o = { byName };
    compiledOpaque.set(tails, o);
  }
  return o;
}

function isOpaque(opaque: Opaque, qname: string, parentQname: string): boolean {
  const parents = opaque.byName.get(qname);
  if (!parents) return false;
  return parents.includes('') || parents.includes(parentQname);
}

/** XML 1.0 rules whatever the declaration says (a `version="1.1"` would allow more control characters). */
const SAXES_OPTIONS = { xmlns: true, forceXMLVersion: true, defaultXMLVersion: '1.0' } as const;

const EMPTY_ATTRS: Record<string, string> = Object.freeze(Object.create(null)) as Record<string, string>;

interface Building {
  readonly qname: string;
  readonly el: { name: string; ns: string | undefined; attrs: Record<string, string>; children: XmlNode[]; raw?: string };
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
  const opaque = compileOpaque(options.opaque);
  const parser = new SaxesParser(SAXES_OPTIONS);
  /** Elements being built, innermost last (an opaque element is the last one while inside it). */
  const stack: Building[] = [];
  let root: XmlElement | undefined;
  let depth = 0;
  /** Depth of the opaque element we are inside (0: none), and where its content starts. */
  let opaqueDepth = 0;
  let rawStart = 0;

  /** Character data, CDATA sections included; text split only by comments or CDATA is one string. */
  const onText = (text: string): void => {
    // Text outside the root is white space (saxes refuses anything else); an empty CDATA adds nothing.
    if (text === '' || stack.length === 0) return;
    const children = stack[stack.length - 1].el.children;
    const last = children.length - 1;
    if (last >= 0 && typeof children[last] === 'string') children[last] += text;
    else children.push(text);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('doctype', () => {
    // Unreachable after the DTD_RE check; kept so that no DTD is ever read whatever changes above.
    throw invalid('XML_DTD_FORBIDDEN', 'XML documents with a DOCTYPE or ENTITY declaration are refused');
  });
  parser.on('opentag', (tag) => {
    if (++depth > MAX_XML_DEPTH) {
      throw invalid('XML_MALFORMED', 'The XML document nests elements too deeply', {
        details: { ...lineColumn(xml, parser.position - 1), maxDepth: MAX_XML_DEPTH },
      });
    }
    if (opaqueDepth) return; // inside an opaque element: checked by saxes, not built
    let attrs = EMPTY_ATTRS;
    for (const k in tag.attributes) {
      if (attrs === EMPTY_ATTRS) attrs = Object.create(null) as Record<string, string>;
      attrs[k] = tag.attributes[k].value;
    }
    const parent = stack.length > 0 ? stack[stack.length - 1] : undefined;
    const el: Building['el'] = { name: tag.local, ns: tag.uri || undefined, attrs, children: [] };
    if (opaque && isOpaque(opaque, tag.name, parent?.qname ?? '')) {
      el.raw = '';
      opaqueDepth = depth;
      rawStart = parser.position; // just after the start tag's '>'
      parser.off('text');
      parser.off('cdata');
    }
    if (parent) parent.el.children.push(el);
    else root = el;
    stack.push({ qname: tag.name, el });
  });
  parser.on('closetag', (tag) => {
    if (opaqueDepth === depth) {
      // The end tag `</name S?>` holds no other '<': its start is the last '<' before the position.
      const end = tag.isSelfClosing ? rawStart : xml.lastIndexOf('<', parser.position - 1);
      stack[stack.length - 1].el.raw = xml.slice(rawStart, end);
      opaqueDepth = 0;
      parser.on('text', onText);
      parser.on('cdata', onText);
    }
    if (!opaqueDepth) stack.pop();
    depth--;
  });

  try {
    parser.write(xml).close();
  } catch (e) {
    if (e instanceof CarnetError) throw e;
    throw malformed(xml, Math.max(0, parser.position - 1), e instanceof Error ? e.message : String(e));
  }
  // saxes refuses a document without a root element (and one with two); this is a safety net.
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
