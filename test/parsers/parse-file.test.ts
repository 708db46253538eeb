import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FileRejectedError } from '../../lib/errors.ts';
import { type ParseLimits, parseFile } from '../../lib/parsers/index.ts';
import { makeDocx, makeDocxBomb, makePdf, makePptx, makeXlsx } from '../support/files.ts';

const limits: ParseLimits = {
  maxFileBytes: 5 * 1024 * 1024,
  maxInflatedBytes: 2 * 1024 * 1024,
  maxPdfPages: 50,
  maxTextBytes: 1024 * 1024,
  maxXmlNodes: 1_000_000,
  maxPdfDecodedBytes: 64 * 1024 * 1024,
  timeoutMs: 60_000,
};

async function rejected(promise: Promise<unknown>, reason: string, pattern: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof FileRejectedError, `expected FileRejectedError, got ${err}`);
    assert.equal(err.reason, reason);
    assert.equal(err.code, 'FILE_REJECTED');
    assert.match(err.message, pattern);
    return true;
  });
}

describe('parseFile: supported types, detected from content', () => {
  it('reads the text layer of every PDF page, in order', async () => {
    const pdf = makePdf([
      ['Aurora Corp builds turbines.', 'Second line (with parens).'],
      ['Page two text.'],
    ]);
    const parsed = await parseFile(pdf, 'report.pdf', limits);
    assert.equal(parsed.kind, 'pdf');
    assert.equal(parsed.engine, 'unpdf');
    assert.equal(parsed.pages, 2);
    assert.match(
      parsed.text,
      /Aurora Corp builds turbines\.\s+Second line \(with parens\)\.\s+Page two text\./,
    );
  });

  it('reads DOCX paragraphs, PPTX slides in slide order and XLSX rows', async () => {
    const docx = await parseFile(
      makeDocx(['First & foremost.', 'Second <para>.']),
      'memo.docx',
      limits,
    );
    assert.equal(docx.kind, 'docx');
    assert.equal(docx.text, 'First & foremost.\nSecond <para>.');
    const slides = Array.from({ length: 11 }, (_, i) => [`Slide ${i + 1} title`, `Point ${i + 1}`]);
    const pptx = await parseFile(makePptx(slides), 'deck.pptx', limits);
    assert.equal(pptx.kind, 'pptx');
    assert.ok(pptx.text.startsWith('Slide 1 title\nPoint 1\n\nSlide 2 title'));
    assert.ok(pptx.text.indexOf('Slide 10 title') > pptx.text.indexOf('Slide 9 title'));
    const xlsx = await parseFile(
      makeXlsx('Revenue', [
        ['Year', 'Amount'],
        ['2024', '12'],
      ]),
      'numbers.xlsx',
      limits,
    );
    assert.equal(xlsx.kind, 'xlsx');
    assert.equal(xlsx.text, '# Revenue\nYear\tAmount\n2024\t12');
  });

  it('turns HTML into text (scripts dropped), keeps Markdown and text as written', async () => {
    const html = Buffer.from(
      '<!doctype html><html><head><script>alert(1)</script><style>p{}</style></head><body><h1>Title</h1><p>Body <a href="http://x">link</a>.</p></body></html>',
    );
    const parsed = await parseFile(html, 'page.html', limits);
    assert.equal(parsed.kind, 'html');
    assert.doesNotMatch(parsed.text, /alert|p\{\}|http:\/\/x/);
    assert.match(parsed.text, /Title\s+Body link\./);
    // Detected from content when the name says nothing.
    assert.equal((await parseFile(html, 'page', limits)).kind, 'html');
    const md = await parseFile(Buffer.from('# Notes\n\n- a\n'), 'notes.md', limits);
    assert.deepEqual([md.kind, md.text], ['markdown', '# Notes\n\n- a']);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße', 'utf16le')]);
    assert.equal((await parseFile(utf16, 'greeting.txt', limits)).text, 'Grüße');
    // A PDF named .bin is read as the PDF it is.
    assert.equal((await parseFile(makePdf([['x y']]), 'scan.bin', limits)).kind, 'pdf');
  });
});

describe('parseFile: bad files are refused with a specific reason', () => {
  it('zero bytes, too large, no text', async () => {
    await rejected(parseFile(Buffer.alloc(0), 'a.pdf', limits), 'empty', /empty \(0 bytes\)/);
    await rejected(
      parseFile(Buffer.alloc(6 * 1024 * 1024, 0x61), 'a.txt', limits),
      'too_large',
      /MAX_UPLOAD_BYTES/,
    );
    await rejected(parseFile(Buffer.from('  \n\t '), 'a.txt', limits), 'no_text', /no text/);
    await rejected(
      parseFile(Buffer.alloc(2 * 1024 * 1024, 0x61), 'a.txt', limits),
      'too_much_text',
      /MAX_DOCUMENT_BYTES/,
    );
  });

  it('corrupt and truncated PDFs and archives', async () => {
    const pdf = makePdf([['Some text here.']]);
    await rejected(
      parseFile(
        Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.alloc(300, 0x7a)]),
        'a.pdf',
        limits,
      ),
      'corrupt',
      /PDF cannot be read/,
    );
    const truncatedDocx = makeDocx(['A paragraph long enough to be compressed. '.repeat(200)]);
    await rejected(
      parseFile(truncatedDocx.subarray(0, Math.floor(truncatedDocx.length / 2)), 'a.docx', limits),
      'corrupt',
      /truncated|damaged|ends early/,
    );
    // A truncated PDF either still yields its text layer or is refused; never a crash.
    const cut = pdf.subarray(0, pdf.length - 60);
    await parseFile(cut, 'cut.pdf', limits).then(
      (p) => assert.match(p.text, /Some text here/),
      (err) => assert.ok(err instanceof FileRejectedError),
    );
  });

  it('an encrypted PDF and a password-protected Office file', async () => {
    const encrypted = readFileSync(new URL('../fixtures/files/encrypted.pdf', import.meta.url));
    await rejected(parseFile(encrypted, 'secret.pdf', limits), 'encrypted', /password-protected/);
    const ole = Buffer.concat([
      Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
      Buffer.alloc(512),
    ]);
    await rejected(parseFile(ole, 'secret.docx', limits), 'encrypted', /password-protected/);
    await rejected(parseFile(ole, 'old.doc', limits), 'unsupported_type', /\.doc files/);
  });

  it('a PDF with no text layer says so', async () => {
    await rejected(
      parseFile(makePdf([[], []]), 'scan.pdf', limits),
      'no_text_layer',
      /2 pages but no text layer.*OCR/,
    );
  });

  it('a type that does not match its extension', async () => {
    await rejected(
      parseFile(makeDocx(['x']), 'report.pdf', limits),
      'type_mismatch',
      /named \.pdf but its content is a zip/,
    );
    await rejected(
      parseFile(makePdf([['x']]), 'memo.docx', limits),
      'type_mismatch',
      /\.docx but its content is a PDF/,
    );
    await rejected(
      parseFile(makePptx([['x']]), 'memo.docx', limits),
      'type_mismatch',
      /PPTX document/,
    );
    await rejected(
      parseFile(Buffer.from('plain words'), 'report.pdf', limits),
      'type_mismatch',
      /content is text/,
    );
    await rejected(parseFile(makePdf([['x']]), 'notes.txt', limits), 'type_mismatch', /a PDF/);
    await rejected(
      parseFile(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]), 'image', limits),
      'unsupported_type',
      /neither text nor a supported/,
    );
  });

  it('archive bombs stop at MAX_INFLATED_BYTES, whatever sizes the archive declares', async () => {
    const bomb = makeDocxBomb(64 * 1024 * 1024);
    assert.ok(bomb.length < 200 * 1024, `bomb is ${bomb.length} bytes`);
    const before = process.memoryUsage().arrayBuffers;
    await rejected(parseFile(bomb, 'bomb.docx', limits), 'archive_too_large', /zip bomb/);
    assert.ok(process.memoryUsage().arrayBuffers - before < 32 * 1024 * 1024);
    // A zip that is not an Office file.
    const { zipSync } = await import('fflate');
    const plainZip = Buffer.from(zipSync({ 'a.txt': Buffer.from('x') }));
    await rejected(parseFile(plainZip, 'files.zip', limits), 'unsupported_type', /not a Word/);
  });

  it('absurd page counts', async () => {
    const many = makePdf(Array.from({ length: 51 }, (_, i) => [`p${i}`]));
    await rejected(
      parseFile(many, 'long.pdf', limits),
      'too_many_pages',
      /51 pages, over the 50-page limit/,
    );
  });
});
