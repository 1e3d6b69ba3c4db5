import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CarnetError } from '../../domain/errors.ts';
import { decodeXmlEntities, firstChild, MAX_XML_DEPTH, parseXmlSafely, textContent, type XmlElement } from './xml.ts';

/** Run fn, expect a CarnetError with this code (kind invalid); return it for more checks. */
function refused(fn: () => unknown, code: string): CarnetError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarnetError, `expected a CarnetError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    assert.equal(e.kind, 'invalid');
    return e;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

const el = (n: unknown): XmlElement => {
  assert.ok(n && typeof n === 'object', 'expected an element');
  return n as XmlElement;
};

test('parses elements, attributes and namespaces (default and prefixed)', () => {
  const doc = parseXmlSafely(
    '<?xml version="1.0"?><r xmlns="urn:a" xmlns:b="urn:b"><b:x k="v">t</b:x><y/></r>',
  );
  assert.equal(doc.root.name, 'r');
  assert.equal(doc.root.ns, 'urn:a');
  const x = firstChild(doc.root, 'x', 'urn:b');
  assert.ok(x);
  assert.equal(x.attrs.k, 'v');
  assert.equal(textContent(x), 't');
  assert.equal(firstChild(doc.root, 'x', 'urn:a'), undefined, 'namespace is part of the match');
  assert.equal(el(doc.root.children[1]).ns, 'urn:a');
});

test('decodes only the five predefined entities and numeric references, in text and attributes', () => {
  const doc = parseXmlSafely('<r a="&quot;&amp;&#233;&#xE9;">&lt;5 &gt; &apos;x&apos; &#8217;</r>');
  assert.equal(doc.root.attrs.a, '"&éé');
  assert.equal(textContent(doc.root), "<5 > 'x' \u2019");
});

test('CDATA content stays literal (no entity decoding)', () => {
  const doc = parseXmlSafely('<r><![CDATA[a &amp; <b>]]></r>');
  assert.equal(textContent(doc.root), 'a &amp; <b>');
});

test('keeps mixed-content white space (the renderer needs it)', () => {
  const doc = parseXmlSafely('<r>a <i>b</i> c</r>');
  assert.equal(textContent(doc.root), 'a b c');
});

test('handles a UTF-8 BOM, in bytes and in a string', () => {
  const xml = '<r>é</r>';
  const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')]);
  assert.equal(textContent(parseXmlSafely(bytes).root), 'é');
  assert.equal(textContent(parseXmlSafely('\uFEFF' + xml).root), 'é');
});

test('reads a declared ISO-8859-1 document and refuses bytes that are not UTF-8', () => {
  const latin = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><r>'), Buffer.from([0xe9]), Buffer.from('</r>')]);
  assert.equal(textContent(parseXmlSafely(latin).root), 'é');
  const bad = Buffer.concat([Buffer.from('<r>'), Buffer.from([0xe9]), Buffer.from('</r>')]);
  refused(() => parseXmlSafely(bad), 'XML_MALFORMED');
  refused(
    () => parseXmlSafely(Buffer.from('<?xml version="1.0" encoding="EBCDIC-XYZ"?><r/>')),
    'XML_ENCODING_UNSUPPORTED',
  );
});

test('XXE: a DOCTYPE with an external entity is refused before parsing', () => {
  const e = refused(
    () => parseXmlSafely('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'),
    'XML_DTD_FORBIDDEN',
  );
  assert.doesNotMatch(e.message, /passwd/);
});

test('billion laughs is refused', () => {
  const lol =
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
    Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('') +
    ']><lolz>&lol9;</lolz>';
  refused(() => parseXmlSafely(lol), 'XML_DTD_FORBIDDEN');
});

test('any DOCTYPE, even without entities, is refused', () => {
  refused(() => parseXmlSafely('<!DOCTYPE html><html/>'), 'XML_DTD_FORBIDDEN');
  refused(() => parseXmlSafely('<r/><!ENTITY x "y">'), 'XML_DTD_FORBIDDEN');
});

test('malformed XML is refused with line and column', () => {
  const e = refused(() => parseXmlSafely('<a>\n  <b>\n</a>'), 'XML_MALFORMED');
  assert.equal(typeof e.details?.line, 'number');
  assert.equal(typeof e.details?.column, 'number');
  assert.ok((e.details?.line as number) >= 2);
  refused(() => parseXmlSafely('<a><b></a></b>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<a>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('not xml at all'), 'XML_MALFORMED');
  refused(() => parseXmlSafely(''), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<a x="1" x="2"/>'), 'XML_MALFORMED');
});

test('undeclared entities, bare ampersands and forbidden characters are malformed (with position)', () => {
  const e = refused(() => parseXmlSafely('<r>\n<p>a&nbsp;b</p></r>'), 'XML_MALFORMED');
  assert.equal(e.details?.line, 2);
  assert.equal(e.details?.column, 5);
  refused(() => parseXmlSafely('<r>R & D</r>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r a="&foo;"/>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r>&#0;</r>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r>&#xD800;</r>'), 'XML_MALFORMED');
  const raw = refused(() => parseXmlSafely('<r>\n a\u0000b</r>'), 'XML_MALFORMED');
  assert.deepEqual([raw.details?.line, raw.details?.column], [2, 3]);
});

test('an ampersand inside a comment or a CDATA section is fine', () => {
  const doc = parseXmlSafely('<r><!-- R & D &nbsp; --><![CDATA[x & y]]></r>');
  assert.equal(textContent(doc.root), 'x & y');
});

test('an undeclared namespace prefix is malformed, including Object.prototype names', () => {
  refused(() => parseXmlSafely('<r><q:x/></r>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r><constructor:x/></r>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r><toString:x/></r>'), 'XML_MALFORMED');
});

test('attribute names from Object.prototype are plain data', () => {
  const doc = parseXmlSafely('<r constructor="y" toString="z"/>');
  assert.equal(doc.root.attrs.constructor, 'y');
  assert.equal(doc.root.attrs.toString, 'z');
  assert.equal(parseXmlSafely('<r/>').root.attrs.constructor, undefined);
});

test('opaque elements keep their raw content but the whole document is still checked', () => {
  const doc = parseXmlSafely('<r><body><x>a &amp; b</x></body><keep>k</keep></r>', { opaque: [['body']] });
  const body = firstChild(doc.root, 'body');
  assert.ok(body);
  assert.deepEqual(body.children, []);
  assert.equal(body.raw, '<x>a &amp; b</x>');
  assert.equal(textContent(firstChild(doc.root, 'keep')), 'k');
  // Two-name tails only match under that parent.
  const d2 = parseXmlSafely('<r><a><t>1</t></a><t>2</t></r>', { opaque: [['a', 't']] });
  assert.equal(firstChild(firstChild(d2.root, 'a'), 't')?.raw, '1');
  assert.equal(firstChild(d2.root, 't')?.raw, undefined);
  assert.equal(textContent(firstChild(d2.root, 't')), '2');
  // Entities and well-formedness are checked inside opaque parts too.
  refused(() => parseXmlSafely('<r><body>&nbsp;</body></r>', { opaque: [['body']] }), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r><body><x></body></r>', { opaque: [['body']] }), 'XML_MALFORMED');
});

test('decodeXmlEntities leaves text without entities untouched and refuses unknown ones', () => {
  assert.equal(decodeXmlEntities('plain'), 'plain');
  assert.equal(decodeXmlEntities('a&amp;b&#65;'), 'a&bA');
  refused(() => decodeXmlEntities('&eacute;'), 'XML_MALFORMED');
});

test('a literal < inside an attribute value is malformed, with its position (a > is allowed)', () => {
  const e = refused(() => parseXmlSafely('<r>\n<x a="1 < 2"/></r>'), 'XML_MALFORMED');
  assert.deepEqual([e.details?.line, e.details?.column], [2, 9]);
  refused(() => parseXmlSafely("<r a='<b/>'/>"), 'XML_MALFORMED');
  assert.equal(parseXmlSafely('<r a="2 > 1 &lt; 3"/>').root.attrs.a, '2 > 1 < 3');
});

test('the raw text of an opaque element is the source between its tags, byte for byte', () => {
  const inner =
    '\r\n  <p:x xmlns:p="urn:p" k="a &amp; b">t &lt; &#233; &#xE9;</p:x><!-- c & d -->' +
    '<![CDATA[ <not> &markup; ]]><?pi x?>\r\n\t<y/>&apos;<z>deep <w>er</w></z> ';
  const xml = `<r><body a="1">${inner}</body><body/><body></body></r>`;
  const bodies = parseXmlSafely(xml, { opaque: [['body']] }).root.children.filter((c) => typeof c !== 'string');
  assert.deepEqual(
    bodies.map((b) => b.raw),
    [inner, '', ''],
  );
  assert.deepEqual(bodies[0].children, []);
  assert.equal(bodies[0].attrs.a, '1', 'the opaque element itself is parsed');
  // The same content, not opaque, is decoded and built.
  const built = parseXmlSafely(xml).root.children[0] as XmlElement;
  assert.equal(built.raw, undefined);
  assert.equal(textContent(firstChild(built, 'x', 'urn:p')), 't < é é');
  assert.equal(firstChild(built, 'x', 'urn:p')?.attrs.k, 'a & b');
});

test('opaque parts are checked like the rest: characters, attribute values, prefixes', () => {
  const opaque = { opaque: [['body']] };
  refused(() => parseXmlSafely('<r><body>a\u0001b</body></r>', opaque), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r><body><x a="<"/></body></r>', opaque), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r><body><q:x/></body></r>', opaque), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<r><body>&#1;</body></r>', opaque), 'XML_MALFORMED');
});

test('nesting is capped at MAX_XML_DEPTH elements', () => {
  const nested = (n: number): string => '<a>'.repeat(n) + '</a>'.repeat(n);
  assert.equal(parseXmlSafely(nested(MAX_XML_DEPTH)).root.name, 'a');
  refused(() => parseXmlSafely(nested(MAX_XML_DEPTH + 1)), 'XML_MALFORMED');
  // Also inside an opaque element, whose content is not built.
  refused(() => parseXmlSafely(`<r><body>${nested(MAX_XML_DEPTH)}</body></r>`, { opaque: [['body']] }), 'XML_MALFORMED');
});

test('more than one root element, or text outside it, is malformed', () => {
  refused(() => parseXmlSafely('<a/><b/>'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<a/>x'), 'XML_MALFORMED');
  refused(() => parseXmlSafely('<!-- only a comment -->'), 'XML_MALFORMED');
  assert.equal(parseXmlSafely('<?xml version="1.0"?>\n<!-- c -->\n<a/>\n').root.name, 'a');
});

test('a bare & with no ; after it is reported at the &', () => {
  const e = refused(() => parseXmlSafely('<r>\n  <p>R & D</p>\n</r>'), 'XML_MALFORMED');
  assert.deepEqual([e.details?.line, e.details?.column], [2, 8]);
});
