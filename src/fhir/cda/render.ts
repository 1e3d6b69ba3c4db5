/**
 * A readable rendering of a CDA R2 document for the patient portal, as plain data: strings only,
 * never XML, never HTML. The portal lays it out itself (and escapes text like any other text).
 *
 * - Level 3 (structuredBody): each section's title, code and narrative block (`section/text`),
 *   turned into paragraphs, lists and tables; nested sections follow as sub-sections. Coded entries
 *   are not rendered (the narrative is what the author signed; the CDA standard says it must be
 *   complete), so they are not even parsed into the tree.
 * - Level 1 (nonXMLBody): the embedded file (base64) and its media type, for the portal to show.
 * - The XSL of an auto-présentable CDA is never run; only the ClinicalDocument inside is used.
 *
 * Narrative elements handled: paragraph, list/item (ordered or not), table with caption, thead,
 * tbody, tfoot, tr, th, td; inline content, sub, sup, linkHtml (text only), footnote (text), br
 * (line break). Ignored: renderMultiMedia, footnoteRef, col/colgroup, styleCode, IDs.
 * `content revised="delete"` is dropped (it marks text the author deleted).
 */
import { invalid } from '../../domain/errors.ts';
import { displayName, HL7_NS, locateClinicalDocument, readCdaHeader, type CdaHeader } from './header.ts';
import { firstChild, parseXmlSafely, type XmlDocument, type XmlElement, type XmlNode } from './xml.ts';

export interface RenderedCode {
  code: string;
  system?: string;
  display?: string;
}

export type Block =
  | { kind: 'paragraph'; text: string }
  | { kind: 'list'; ordered: boolean; items: Block[][] }
  | { kind: 'table'; caption?: string; head: string[][]; body: string[][]; foot: string[][] }
  | { kind: 'section'; section: Section };

export interface Section {
  title?: string;
  code?: RenderedCode;
  blocks: Block[];
}

export interface RenderedCda {
  title?: string;
  /** Display of the document type code (e.g. "CR d'examens biologiques"). */
  typeDisplay?: string;
  /** First author: a person's display name, else the device or organisation name. */
  author?: string;
  authorOrganisation?: string;
  /** Creation date, ISO 8601. */
  date?: string;
  /** Patient's display name (names in use preferred). */
  patient?: string;
  /** Level 3: the sections, in document order. */
  sections?: Section[];
  /** Level 1: the embedded file. */
  embedded?: { mediaType: string; base64: string };
  /** Set when there is nothing to show: no body, or a level-1 body that only references an external file. */
  unavailable?: 'no_body' | 'external_reference';
}

/** Entries are machine-readable duplicates of the narrative; level-1 content is kept raw. */
const RENDER_OPAQUE: ReadonlyArray<readonly string[]> = [['entry'], ['nonXMLBody', 'text']];

const isHl7 = (n: XmlNode): n is XmlElement => typeof n !== 'string' && n.ns === HL7_NS;

// ---------------------------------------------------------------------------------------------
// Inline text

const BR = '\u0000'; // internal line-break marker, replaced by '\n' once whitespace is collapsed

function inlineText(nodes: readonly XmlNode[], out: string[]): void {
  for (const n of nodes) {
    if (typeof n === 'string') {
      out.push(n);
      continue;
    }
    if (n.ns !== HL7_NS) continue;
    switch (n.name) {
      case 'br':
        out.push(BR);
        break;
      case 'content':
        if (n.attrs.revised === 'delete') break;
        inlineText(n.children, out);
        break;
      case 'renderMultiMedia':
      case 'footnoteRef':
      case 'col':
      case 'colgroup':
        break;
      case 'paragraph':
      case 'caption':
      case 'item':
      case 'tr':
        // Block-ish content met where only text is wanted (table cells): keep it on its own line.
        out.push(BR);
        inlineText(n.children, out);
        out.push(BR);
        break;
      case 'td':
      case 'th':
        inlineText(n.children, out);
        out.push(' ');
        break;
      default:
        // sub, sup, linkHtml, footnote, list, table, thead, tbody … : their text
        inlineText(n.children, out);
        break;
    }
  }
}

/** Collapse white space like a browser would, keep explicit line breaks, trim. */
function finishText(parts: string[]): string {
  return parts
    .join('')
    .replace(/[ \t\r\n\f]+/g, ' ')
    .split(BR)
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

const textOf = (nodes: readonly XmlNode[]): string => {
  const parts: string[] = [];
  inlineText(nodes, parts);
  return finishText(parts);
};

// ---------------------------------------------------------------------------------------------
// Blocks

const BLOCK_NAMES = new Set(['paragraph', 'list', 'table']);

function rowOf(tr: XmlElement): string[] {
  const row: string[] = [];
  for (const cell of tr.children) {
    if (isHl7(cell) && (cell.name === 'td' || cell.name === 'th')) row.push(textOf(cell.children));
  }
  return row;
}

function rowsOf(group: XmlElement, into: string[][]): void {
  for (const tr of group.children) if (isHl7(tr) && tr.name === 'tr') into.push(rowOf(tr));
}

function renderTable(t: XmlElement): Block {
  const head: string[][] = [];
  const body: string[][] = [];
  const foot: string[][] = [];
  let caption: string | undefined;
  for (const c of t.children) {
    if (!isHl7(c)) continue;
    if (c.name === 'caption') caption = textOf(c.children) || undefined;
    else if (c.name === 'thead') rowsOf(c, head);
    else if (c.name === 'tbody') rowsOf(c, body);
    else if (c.name === 'tfoot') rowsOf(c, foot);
    else if (c.name === 'tr') body.push(rowOf(c)); // lenient: a row directly under <table>
  }
  const keep = (rows: string[][]) => rows.filter((r) => r.some((c) => c !== ''));
  const table: Block = { kind: 'table', head: keep(head), body: keep(body), foot: keep(foot) };
  if (caption) table.caption = caption;
  return table;
}

function renderList(l: XmlElement): Block {
  const items: Block[][] = [];
  for (const c of l.children) {
    if (isHl7(c) && c.name === 'item') items.push(renderFlow(c.children));
  }
  return { kind: 'list', ordered: l.attrs.listType === 'ordered', items };
}

/**
 * Mixed content (section text, list item, paragraph with nested blocks): runs of inline content
 * become paragraphs, block elements become their blocks, in document order.
 */
function renderFlow(nodes: readonly XmlNode[]): Block[] {
  const blocks: Block[] = [];
  let pending: XmlNode[] = [];
  const flush = () => {
    if (!pending.length) return;
    const text = textOf(pending);
    if (text) blocks.push({ kind: 'paragraph', text });
    pending = [];
  };
  for (const n of nodes) {
    if (!isHl7(n) || !BLOCK_NAMES.has(n.name)) {
      pending.push(n);
      continue;
    }
    flush();
    if (n.name === 'table') {
      const t = renderTable(n);
      if (t.kind === 'table' && (t.head.length || t.body.length || t.foot.length || t.caption)) blocks.push(t);
    }
    else if (n.name === 'list') blocks.push(renderList(n));
    else blocks.push(...renderParagraph(n));
  }
  flush();
  return blocks;
}

function renderParagraph(p: XmlElement): Block[] {
  // A paragraph holds inline content only in the CDA schema; be lenient if a list/table sneaks in.
  const hasBlock = p.children.some((c) => isHl7(c) && (c.name === 'list' || c.name === 'table'));
  if (!hasBlock) {
    const text = textOf(p.children);
    return text ? [{ kind: 'paragraph', text }] : [];
  }
  return renderFlow(p.children);
}

function renderSection(s: XmlElement): Section {
  const title = textOf(firstChild(s, 'title', HL7_NS)?.children ?? []);
  const codeEl = firstChild(s, 'code', HL7_NS);
  const code = codeEl?.attrs.code;
  let rcode: RenderedCode | undefined;
  if (code) {
    rcode = { code };
    if (codeEl.attrs.codeSystem) rcode.system = codeEl.attrs.codeSystem;
    if (codeEl.attrs.displayName) rcode.display = codeEl.attrs.displayName;
  }
  const section: Section = { ...(title ? { title } : {}), ...(rcode ? { code: rcode } : {}), blocks: [] };
  const text = firstChild(s, 'text', HL7_NS);
  if (text) section.blocks.push(...renderFlow(text.children));
  for (const c of s.children) {
    if (!isHl7(c) || c.name !== 'component') continue;
    const sub = firstChild(c, 'section', HL7_NS);
    if (sub) section.blocks.push({ kind: 'section', section: renderSection(sub) });
  }
  return section;
}

// ---------------------------------------------------------------------------------------------

function authorDisplay(h: CdaHeader): { author?: string; organisation?: string } {
  const a = h.authors[0];
  if (!a) return {};
  const organisation = a.organisation?.name;
  const person = displayName(a.name);
  // CI-SIS puts the title (DR, PR) in <suffix> and the civility (M, MME) in <prefix>.
  const title = a.name?.suffix.find((s) => /^(DR|PR)\.?$/i.test(s));
  const author =
    (person ? [title ? titleCase(title) : undefined, person].filter(Boolean).join(' ') : undefined) ??
    a.device?.softwareName ??
    a.device?.manufacturerModelName ??
    organisation;
  const out: { author?: string; organisation?: string } = {};
  if (author) out.author = author;
  if (organisation) out.organisation = organisation;
  return out;
}

const titleCase = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();

function renderBody(cd: XmlElement): Pick<RenderedCda, 'sections' | 'embedded' | 'unavailable'> {
  const comp = firstChild(cd, 'component', HL7_NS);
  const sb = firstChild(comp, 'structuredBody', HL7_NS);
  if (sb) {
    const sections: Section[] = [];
    for (const c of sb.children) {
      if (!isHl7(c) || c.name !== 'component') continue;
      const s = firstChild(c, 'section', HL7_NS);
      if (s) sections.push(renderSection(s));
    }
    return { sections };
  }
  const nx = firstChild(comp, 'nonXMLBody', HL7_NS);
  const text = firstChild(nx, 'text', HL7_NS);
  if (!text) return { unavailable: 'no_body' };
  const mediaType = (text.attrs.mediaType ?? 'text/plain').trim();
  // Opaque element: raw holds the unparsed content (base64 has no markup; plain text may).
  const raw = text.raw ?? '';
  if (raw.includes('<')) {
    // <reference value="…"/> (external file) or markup where base64/plain text was expected.
    if (/<([A-Za-z_][\w.-]*:)?reference[\s/>]/.test(raw)) return { unavailable: 'external_reference' };
    throw invalid('CDA_BODY_UNREADABLE', 'The CDA level-1 body holds markup instead of embedded content');
  }
  if ((text.attrs.representation ?? 'TXT').toUpperCase() === 'B64') {
    const base64 = raw.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64.length % 4 !== 0) {
      throw invalid('CDA_BODY_UNREADABLE', 'The CDA level-1 body is not valid base64');
    }
    return { embedded: { mediaType, base64 } };
  }
  // Plain text (representation TXT): decode the few entities it may use, hand it over as base64.
  const plain = textOf(parseXmlSafely(`<t>${raw}</t>`).root.children);
  return { embedded: { mediaType, base64: Buffer.from(plain, 'utf8').toString('base64') } };
}

/**
 * Parse a CDA document once and render it. Throws the same errors as parseCdaHeader (the header is
 * read from the same tree), plus CDA_BODY_UNREADABLE for a level-1 body that is not usable.
 */
export function renderCda(bytes: Buffer | Uint8Array | string): RenderedCda {
  const doc = parseXmlSafely(bytes, { opaque: RENDER_OPAQUE });
  const header = readCdaHeader(doc);
  return renderParsed(doc, header);
}

function renderParsed(doc: XmlDocument, header: CdaHeader): RenderedCda {
  const { cd } = locateClinicalDocument(doc);
  const out: RenderedCda = {};
  if (header.title) out.title = header.title;
  if (header.type?.display) out.typeDisplay = header.type.display;
  const { author, organisation } = authorDisplay(header);
  if (author) out.author = author;
  if (organisation) out.authorOrganisation = organisation;
  if (header.effectiveTime) out.date = header.effectiveTime;
  const patient = displayName(header.patient.name);
  if (patient) out.patient = patient;
  Object.assign(out, renderBody(cd));
  return out;
}
