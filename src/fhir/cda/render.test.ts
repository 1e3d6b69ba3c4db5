import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CarnetError } from '../../domain/errors.ts';
import { renderCda, type Block, type RenderedCda, type Section } from './render.ts';
import { FIXTURES_ROOT } from '../../fixtures.ts';

const FIXTURES = FIXTURES_ROOT;
const CDA_DIR = join(FIXTURES, 'cda');
const files = readdirSync(CDA_DIR).filter((f) => f.endsWith('.xml')).sort();
const read = (name: string): Buffer => readFileSync(join(CDA_DIR, name));

function refused(fn: () => unknown, code: string): CarnetError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CarnetError, `expected a CarnetError, got ${String(e)}`);
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected ${code}, nothing was thrown`);
}

/** Every string the rendering holds, walking the block tree. */
function allStrings(r: RenderedCda): string[] {
  const out: string[] = [];
  const blocks = (bs: Block[]) => {
    for (const b of bs) {
      assert.ok(['paragraph', 'list', 'table', 'section'].includes(b.kind), `unknown block kind ${b.kind}`);
      if (b.kind === 'paragraph') out.push(b.text);
      else if (b.kind === 'list') b.items.forEach(blocks);
      else if (b.kind === 'table') {
        if (b.caption !== undefined) out.push(b.caption);
        for (const row of [...b.head, ...b.body, ...b.foot]) out.push(...row);
      } else section(b.section);
    }
  };
  const section = (s: Section) => {
    if (s.title !== undefined) out.push(s.title);
    if (s.code) out.push(s.code.code, s.code.display ?? '', s.code.system ?? '');
    blocks(s.blocks);
  };
  for (const v of [r.title, r.typeDisplay, r.author, r.authorOrganisation, r.date, r.patient]) if (v !== undefined) out.push(v);
  (r.sections ?? []).forEach(section);
  return out;
}

/** Tag names used in the source, so that "<name " / "<name>" / "</name" in output means leaked XML. */
function tagPattern(xml: string): RegExp {
  const names = new Set([...xml.matchAll(/<\/?([A-Za-z_][\w.:-]*)/g)].map((m) => m[1].replace(/[.]/g, '\\.')));
  return new RegExp(`</?(?:${[...names].join('|')})(?:[\\s/>]|$)`);
}

test('the leak detector used below does see markup', () => {
  const re = tagPattern('<td>a</td><content ID="x">b</content>');
  assert.match('x <td>y', re);
  assert.match('</content>', re);
  assert.doesNotMatch('< 5 mmol/l', re);
  assert.doesNotMatch('<5', re);
});

const hasRecordTarget = (xml: string): boolean => /<([\w.-]+:)?recordTarget[\s>]/.test(xml.replace(/<!--[\s\S]*?-->/g, ''));

for (const f of files) {
  test(`rendering of fixture ${f}`, () => {
    const xml = read(f).toString('utf8');
    if (!hasRecordTarget(xml)) {
      refused(() => renderCda(xml), 'CDA_NO_PATIENT');
      return;
    }
    const r = renderCda(read(f));
    assert.ok((r.sections && r.sections.length > 0) || r.embedded, 'sections or an embedded file');
    assert.ok(!(r.sections && r.embedded), 'not both');
    if (r.embedded) {
      assert.equal(r.embedded.mediaType, 'application/pdf');
      assert.ok(Buffer.from(r.embedded.base64, 'base64').subarray(0, 5).toString('latin1') === '%PDF-', 'a real PDF');
    }
    assert.ok(r.title && r.title.length > 0, 'title');
    assert.ok(r.author && r.author.length > 0, 'author display');
    assert.ok(r.date && !Number.isNaN(Date.parse(r.date)), 'date');
    const strings = allStrings(r);
    const tags = tagPattern(xml);
    for (const s of strings) {
      assert.equal(typeof s, 'string');
      assert.doesNotMatch(s, tags, `rendered text carries XML markup: ${s.slice(0, 80)}`);
    }
    if (r.sections) assert.ok(strings.some((s) => s.length > 0 && !/^[\d\s.:+-]*$/.test(s)), 'some readable text');
  });
}

test('BIO lab report: a result row of the table appears in the rendering', () => {
  const r = renderCda(read('BIO-CR-BIO_2024.01_TSH_1.xml'));
  assert.equal(r.title, "Compte rendu d'examens biologiques");
  assert.equal(r.author, 'Dr Marcel CAMPARINI');
  assert.equal(r.authorOrganisation, 'Laboratoire des charmes');
  assert.equal(r.date, '2021-04-01T17:10:00+01:00');
  const top = r.sections?.[0];
  assert.equal(top?.title, 'BIOCHIMIE');
  assert.equal(top?.code?.code, '18719-5');
  const sub = top?.blocks.find((b) => b.kind === 'section');
  assert.ok(sub && sub.kind === 'section');
  const table = sub.section.blocks.find((b) => b.kind === 'table');
  assert.ok(table && table.kind === 'table');
  assert.deepEqual(table.head, [['BILAN THYROIDIEN', 'Résultats', 'Valeurs de référence']]);
  assert.deepEqual(table.body[0], ['Thyréostimuline (TSH)\n(ECL Modular)', '1.950 mUI/l', '(0.270 - 4.200)']);
  assert.ok(table.body.some((row) => row[0].startsWith('Thyroxine libre (FT4)') && row[1] === '7.67 pg/ml'));
});

test('level-1 documents render as the embedded PDF', () => {
  for (const f of ['DOC_NON_STRUCTURE_CDA-R2-N1.xml', 'IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml']) {
    const r = renderCda(read(f));
    assert.equal(r.sections, undefined);
    assert.equal(r.embedded?.mediaType, 'application/pdf');
    assert.doesNotMatch(r.embedded!.base64, /\s/);
    const pdf = Buffer.from(r.embedded!.base64, 'base64');
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(pdf.length > 1000);
  }
});

test('auto-présentable CDA renders its ClinicalDocument, never the stylesheet', () => {
  const r = renderCda(read('CANCER-PPS_2022.01_Autopresentable.xml'));
  const plain = renderCda(read('CANCER-PPS_2022.01_feuille-de-style-externe.xml'));
  assert.deepEqual(r.sections?.map((s) => s.title), plain.sections?.map((s) => s.title));
  assert.ok(!allStrings(r).some((s) => /xsl:|apply-templates/.test(s)));
});

// ---------------------------------------------------------------------------------------------
// Narrative conversion on a small hand-written document

const HEADER = `<realmCode code="FR"/>
  <id root="1.2.3.4.5"/>
  <code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="Consult note"/>
  <title>Test</title>
  <effectiveTime value="20240102101500+0100"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25"/>
  <recordTarget><patientRole><id root="1.2.250.1.213.1.4.10" extension="279035121518989"/>
    <patient><name><given>Ann</given><family>Test</family></name></patient></patientRole></recordTarget>
  <author><time value="20240102"/><assignedAuthor><id root="1.2.250.1.71.4.2.1" extension="810000000000"/>
    <assignedPerson><name><given>Jo</given><family>Doc</family></name></assignedPerson></assignedAuthor></author>`;

const cda = (body: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">${HEADER}<component>${body}</component></ClinicalDocument>`;

test('narrative: paragraphs, inline content, line breaks, lists, tables, nested sections', () => {
  const r = renderCda(
    cda(`<structuredBody><component><section>
      <code code="X1" codeSystem="9.9" displayName="Motif"/>
      <title>Motif   de <content>consultation</content></title>
      <text>
        Free   text before
        <paragraph>Glycémie <content styleCode="Bold">&lt;5</content> mmol/l<br/>à jeun <sub>2</sub>
          <content revised="delete">deleted words</content><renderMultiMedia referencedObject="img1"/></paragraph>
        <list listType="ordered"><item>first</item><item><paragraph>second</paragraph><list><item>inner</item></list></item></list>
        <table><caption>Résultats</caption>
          <thead><tr><th>Analyse</th><th>Valeur</th></tr></thead>
          <tbody><tr><td>TSH</td><td>1.9 <content>mUI/l</content></td></tr><tr><td/><td/></tr></tbody>
          <tfoot><tr><td colspan="2">note</td></tr></tfoot>
        </table>
        tail text
      </text>
      <entry><observation classCode="OBS" moodCode="EVN"><code code="should-not-appear"/></observation></entry>
      <component><section><title>Sub</title><text><paragraph>inside</paragraph></text></section></component>
    </section></component></structuredBody>`),
  );
  assert.equal(r.title, 'Test');
  assert.equal(r.author, 'Jo Doc');
  assert.equal(r.patient, 'Ann Test');
  assert.equal(r.date, '2024-01-02T10:15:00+01:00');
  assert.equal(r.sections?.length, 1);
  const s = r.sections![0];
  assert.equal(s.title, 'Motif de consultation');
  assert.deepEqual(s.code, { code: 'X1', system: '9.9', display: 'Motif' });
  assert.deepEqual(s.blocks, [
    { kind: 'paragraph', text: 'Free text before' },
    { kind: 'paragraph', text: 'Glycémie <5 mmol/l\nà jeun 2' },
    {
      kind: 'list',
      ordered: true,
      items: [
        [{ kind: 'paragraph', text: 'first' }],
        [
          { kind: 'paragraph', text: 'second' },
          { kind: 'list', ordered: false, items: [[{ kind: 'paragraph', text: 'inner' }]] },
        ],
      ],
    },
    { kind: 'table', caption: 'Résultats', head: [['Analyse', 'Valeur']], body: [['TSH', '1.9 mUI/l']], foot: [['note']] },
    { kind: 'paragraph', text: 'tail text' },
    { kind: 'section', section: { title: 'Sub', blocks: [{ kind: 'paragraph', text: 'inside' }] } },
  ]);
  assert.ok(!allStrings(r).includes('should-not-appear'));
});

test('level 1: plain text body, external reference, bad base64', () => {
  const txt = renderCda(cda('<nonXMLBody><text mediaType="text/plain">Bonjour &amp; merci</text></nonXMLBody>'));
  assert.equal(txt.embedded?.mediaType, 'text/plain');
  assert.equal(Buffer.from(txt.embedded!.base64, 'base64').toString('utf8'), 'Bonjour & merci');
  const ext = renderCda(cda('<nonXMLBody><text mediaType="application/pdf"><reference value="http://example.org/x.pdf"/></text></nonXMLBody>'));
  assert.equal(ext.unavailable, 'external_reference');
  assert.equal(ext.embedded, undefined);
  refused(
    () => renderCda(cda('<nonXMLBody><text mediaType="application/pdf" representation="B64">not*base64!</text></nonXMLBody>')),
    'CDA_BODY_UNREADABLE',
  );
  const none = renderCda(`<ClinicalDocument xmlns="urn:hl7-org:v3">${HEADER}</ClinicalDocument>`);
  assert.equal(none.unavailable, 'no_body');
});

test('renderCda refuses what the parser refuses', () => {
  refused(() => renderCda('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'), 'XML_DTD_FORBIDDEN');
  refused(() => renderCda('<ClinicalDocument xmlns="urn:hl7-org:v3"><title>x</title>'), 'XML_MALFORMED');
  refused(() => renderCda('<html><body>hello</body></html>'), 'CDA_NOT_CLINICAL_DOCUMENT');
  // An undeclared entity inside an entry (kept unparsed by the renderer) is still refused.
  refused(
    () => renderCda(cda('<structuredBody><component><section><text>x</text><entry>&nbsp;</entry></section></component></structuredBody>')),
    'XML_MALFORMED',
  );
});
