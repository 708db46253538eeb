/**
 * Hostile files (issue 26), generated small and parsed against limits scaled down to match:
 * each family is refused with its specific reason instead of exhausting the function, through
 * the isolated parser the parse function uses (a worker thread with a heap limit and a
 * deadline). Memory and time at attack scale are measured in the bench (`--section hostile`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FileRejectedError } from '../../lib/errors.ts';
import { type IsolatedParseLimits, parseFileIsolated } from '../../lib/parsers/isolated.ts';
import { makeDocx, makePdf } from '../support/files.ts';
import {
  docxEmptyParagraphs,
  htmlDeeplyNested,
  htmlSpanBomb,
  pdfDoubleDeflated,
  pdfSharedHeavyStream,
  xlsxSharedStringBomb,
} from '../support/hostile-files.ts';

const limits: IsolatedParseLimits = {
  maxFileBytes: 20 * 1024 * 1024,
  maxInflatedBytes: 64 * 1024 * 1024,
  maxPdfPages: 5000,
  maxTextBytes: 1024 * 1024,
  maxXmlNodes: 200_000,
  maxPdfDecodedBytes: 8 * 1024 * 1024,
  timeoutMs: 30_000,
  maxHeapMb: 256,
};

async function refused(
  bytes: Uint8Array,
  name: string,
  reason: string,
  pattern: RegExp,
  at: Partial<IsolatedParseLimits> = {},
) {
  await assert.rejects(parseFileIsolated(bytes, name, { ...limits, ...at }), (err: unknown) => {
    assert.ok(err instanceof FileRejectedError, `expected a refusal, got ${err}`);
    assert.equal(err.reason, reason, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe('hostile files are refused within their budget, in a worker', () => {
  it('parses ordinary files in the worker as in-process', async () => {
    const pdf = await parseFileIsolated(
      makePdf([['Turbines spin.'], ['Page two.']]),
      'a.pdf',
      limits,
    );
    assert.equal(pdf.text, 'Turbines spin.\n\nPage two.');
    assert.equal(pdf.pages, 2);
    const docx = await parseFileIsolated(makeDocx(['Hello', 'World']), 'a.docx', limits);
    assert.equal(docx.text, 'Hello\nWorld');
  });

  it('an XLSX of one long shared string referenced by thousands of cells: too_much_text', async () => {
    const file = xlsxSharedStringBomb(50_000, 4_000); // 200 MB of text from a small file
    assert.ok(file.length < 200_000, `${file.length} bytes`);
    await refused(file, 'bomb.xlsx', 'too_much_text', /MAX_DOCUMENT_BYTES/);
  });

  it('PDF streams deflated twice, or once to a huge size: too_complex before pdf.js reads them', async () => {
    const file = pdfDoubleDeflated(64 * 1024 * 1024);
    assert.ok(file.length < 100_000, `${file.length} bytes`);
    await refused(file, 'bomb.pdf', 'too_complex', /MAX_PDF_DECODED_BYTES/);
    const once = pdfDoubleDeflated(32 * 1024 * 1024, 1);
    await refused(once, 'big.pdf', 'too_complex', /MAX_PDF_DECODED_BYTES/);
  });

  it('an HTML table of million-column spans: spans clamped, read at once', async () => {
    const file = htmlSpanBomb(200);
    const parsed = await parseFileIsolated(file, 'table.html', limits);
    assert.match(parsed.text, /x/);
  });

  it('deeply nested HTML: too_complex, not a retryable error', async () => {
    await refused(htmlDeeplyNested(100_000), 'deep.html', 'too_complex', /nested over 512/);
  });

  it('a DOCX of millions of empty paragraphs: too_complex by its element count', async () => {
    const file = docxEmptyParagraphs(6 * 1024 * 1024); // 1M elements
    assert.ok(file.length < 100_000, `${file.length} bytes`);
    await refused(file, 'empty.docx', 'too_complex', /MAX_XML_NODES/);
  });

  it('a heap the worker cannot hold: too_complex, the caller unharmed', async () => {
    // Element limit raised: the parsed tree of 1M elements exceeds a 64 MB worker heap.
    await refused(
      docxEmptyParagraphs(6 * 1024 * 1024),
      'empty.docx',
      'too_complex',
      /PARSE_MAX_HEAP_MB/,
      {
        maxXmlNodes: 10_000_000,
        maxHeapMb: 64,
      },
    );
    const after = await parseFileIsolated(makeDocx(['still here']), 'a.docx', limits);
    assert.equal(after.text, 'still here');
  });

  it('thousands of pages sharing one heavy content stream: too_slow at the deadline', async () => {
    const file = pdfSharedHeavyStream(2_000, 20_000);
    await refused(file, 'slow.pdf', 'too_slow', /PARSE_TIMEOUT_MS/, { timeoutMs: 1_000 });
  });

  it('Markdown that mentions %PDF- is Markdown', async () => {
    const md = Buffer.from('# Notes\n\nA PDF file starts with `%PDF-1.7`, then objects.\n');
    const parsed = await parseFileIsolated(md, 'notes.md', limits);
    assert.equal(parsed.kind, 'markdown');
    const junk = Buffer.concat([Buffer.from('\n\n'), makePdf([['Leading whitespace.']])]);
    assert.equal((await parseFileIsolated(junk, 'x.pdf', limits)).kind, 'pdf');
  });
});
