/**
 * Files from upload to answer through the local stack (npm start's): POST /documents/upload,
 * a PUT to the presigned URL, S3's event on the uploads queue, the real parse, ingest and query
 * handlers. Bad files end `failed` with their reason, and nothing else changes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type LocalStack, startLocalStack } from '../lib/local/stack.ts';
import { createTestDatabase, TARGET } from './support/database.ts';
import { makeDocx, makeDocxBomb, makePdf, makePptx } from './support/files.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from './support/scripted-llm.ts';

describe(`uploads through the local stack on ${TARGET}`, () => {
  let stack: LocalStack;
  let llm: ScriptedLlm;
  const savedEnv = { ...process.env };

  before(async () => {
    llm = await startScriptedLlm();
    const target = await createTestDatabase({
      LOG_LEVEL: 'silent',
      ...scriptedLlmEnv(llm),
      MAX_INFLATED_BYTES: String(1024 * 1024),
      MAX_PDF_PAGES: '40',
    });
    Object.assign(process.env, target.env);
    if (target.env.DATABASE_DRIVER === 'pglite') delete process.env.DATABASE_URL;
    stack = await startLocalStack({ dataDir: null, retryDelaySeconds: 0 });
  });
  after(async () => {
    await stack.stop();
    await llm.close();
    process.env = savedEnv;
  });

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as any };
  };

  /** Requests an upload, PUTs the bytes to the presigned URL, returns the ticket. */
  async function upload(fileName: string, bytes: Uint8Array, contentType?: string) {
    const ticket = await api('POST', '/documents/upload', {
      fileName,
      size: bytes.length,
      contentType,
    });
    assert.equal(ticket.status, 201, JSON.stringify(ticket.json));
    const { url, method, headers } = ticket.json.upload;
    assert.match(url, /X-Amz-Signature=/);
    // Bounded at the URL: its length (and type) signed, and no second object under the key.
    const signed = new URL(url).searchParams.get('X-Amz-SignedHeaders') ?? '';
    assert.deepEqual(
      signed.split(';').sort(),
      ['content-length', 'host', 'if-none-match', ...(contentType ? ['content-type'] : [])].sort(),
    );
    assert.equal(headers['if-none-match'], '*');
    const put = await fetch(url, { method, headers, body: bytes });
    assert.equal(put.status, 200, await put.text());
    return ticket.json as { docId: string; trackId: string };
  }

  async function settled(docId: string) {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const doc = await api('GET', `/documents/${docId}`);
      if (['processed', 'failed'].includes(doc.json.status)) return doc.json;
      assert.ok(Date.now() < deadline, `settled within a minute: ${JSON.stringify(doc.json)}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  it('a PDF, a DOCX and a PPTX go from upload to a query answer', async () => {
    const pdf = await upload(
      'Zephyr Report.pdf',
      makePdf([
        [
          'Zephyr Corp builds wind turbines in Oslo.',
          '[[E:Zephyr Corp|Organization|Zephyr Corp builds wind turbines.]]',
        ],
        ['[[R:Zephyr Corp|Oslo|based in|Zephyr Corp is based in Oslo.]]'],
      ]),
      'application/pdf',
    );
    const docx = await upload(
      'memo.docx',
      makeDocx([
        'Quasar Labs tests batteries.',
        '[[E:Quasar Labs|Organization|Quasar Labs tests batteries.]]',
      ]),
    );
    const pptx = await upload(
      'deck.pptx',
      makePptx([['Nimbus Project'], ['[[E:Nimbus Project|Project|Nimbus forecasts storms.]]']]),
    );
    for (const { docId } of [pdf, docx, pptx]) {
      const doc = await settled(docId);
      assert.equal(doc.status, 'processed', JSON.stringify(doc));
    }
    const pdfDoc = await api('GET', `/documents/${pdf.docId}`);
    assert.equal(pdfDoc.json.file_path, 'Zephyr Report.pdf');
    assert.equal(pdfDoc.json.metadata.file_type, 'pdf');
    assert.equal(pdfDoc.json.metadata.pages, 2);
    assert.equal(pdfDoc.json.metadata.parse_engine, 'unpdf');
    assert.ok(pdfDoc.json.metadata.parse_end_time);
    const answer = await api('POST', '/query/detailed', {
      query: 'Who builds wind turbines?',
      mode: 'mix',
      top_k: 10,
    });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.match(answer.json.answer, /^ANSWER with [1-9]\d* entities/);
    const files = new Set(
      answer.json.context.chunks.map((c: { file_path: string }) => c.file_path),
    );
    assert.deepEqual([...files].sort(), ['Zephyr Report.pdf', 'deck.pptx', 'memo.docx']);
    const names = answer.json.context.entities.map((e: { entity: string }) => e.entity);
    for (const name of ['Zephyr Corp', 'Quasar Labs', 'Nimbus Project'])
      assert.ok(names.includes(name), names.join(', '));
  });

  it('every bad file ends failed with its reason, and nothing else changes', async () => {
    const before = await api('GET', '/documents/status-counts');
    const many = makePdf(Array.from({ length: 41 }, (_, i) => [`page ${i}`]));
    const cases: Array<[string, Uint8Array, string, RegExp, string?]> = [
      [
        'secret.pdf',
        readFileSync(new URL('./fixtures/files/encrypted.pdf', import.meta.url)),
        'encrypted',
        /password-protected/,
      ],
      ['bomb.docx', makeDocxBomb(16 * 1024 * 1024), 'archive_too_large', /zip bomb/],
      ['renamed.pdf', makeDocx(['x']), 'type_mismatch', /named \.pdf but its content is a zip/],
      ['scan.pdf', makePdf([[]]), 'no_text_layer', /no text layer/],
      [
        'broken.pdf',
        Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(200, 0x41)]),
        'corrupt',
        /cannot be read/,
      ],
      ['cut.docx', makeDocx(['y'.repeat(5000)]).subarray(0, 300), 'corrupt', /truncated|damaged/],
      ['huge.pdf', many, 'too_many_pages', /41 pages, over the 40-page limit/],
    ];
    const tickets = [];
    // (An empty file gets no ticket: the URL is signed for its size, at least 1 byte.)
    for (const [name, bytes, , , type] of cases) tickets.push(await upload(name, bytes, type));
    for (const [i, [name, , reason, message]] of cases.entries()) {
      const doc = await settled(tickets[i]!.docId);
      assert.equal(doc.status, 'failed', name);
      assert.match(doc.error_msg, message, name);
      assert.equal(doc.metadata.error_type, 'file_extraction_error', name);
      assert.equal(doc.metadata.file_rejection, reason, name);
    }
    const after = await api('GET', '/documents/status-counts');
    assert.equal(after.json.status_counts.processed, before.json.status_counts.processed);
    assert.equal(after.json.status_counts.failed, before.json.status_counts.failed + cases.length);
    // A failed upload may be uploaded again, under the same document.
    const again = await upload('scan.pdf', makePdf([['Now with text about Orion Ltd.']]));
    assert.equal(again.docId, tickets[3]!.docId);
    assert.equal((await settled(again.docId)).status, 'processed');
  });

  it('the CLI uploads through the bucket and follows the file to processed', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { runCli } = await import('../lib/cli/main.ts');
    const dir = mkdtempSync(`${tmpdir()}/lrs-upload-cli-`);
    writeFileSync(`${dir}/sheet notes.docx`, makeDocx(['Vega is a bright star.']));
    const out: string[] = [];
    const code = await runCli(
      [
        'ingest',
        `${dir}/sheet notes.docx`,
        '--upload',
        '--api-url',
        stack.apiUrl,
        '--wait',
        '--timeout',
        '60',
      ],
      { env: {}, out: (l) => out.push(l), err: (l) => out.push(l) },
    );
    assert.equal(code, 0, out.join('\n'));
    assert.match(out.join('\n'), /^doc-[0-9a-f]{32} {2}processed {2}.*sheet notes\.docx$/m);
  });

  it('refuses a second file of the same name and bad upload requests', async () => {
    const dup = await api('POST', '/documents/upload', { fileName: 'memo.docx', size: 10 });
    assert.equal(dup.status, 200);
    assert.equal(dup.json.status, 'duplicated');
    assert.equal(dup.json.upload, undefined);
    for (const body of [
      {},
      { fileName: '', size: 1 },
      { fileName: 'a<SEP>b.pdf', size: 1 },
      { fileName: 'x.pdf', size: 1, extra: 1 },
      { fileName: 'x\n.pdf', size: 1 },
      { fileName: 'x.pdf', size: 1, contentType: 'nonsense' },
      { fileName: 'x.pdf' },
      { fileName: 'x.pdf', size: 0 },
      { fileName: 'x.pdf', size: '12' },
      { fileName: 'x.pdf', size: 200 * 1024 * 1024 },
      { fileName: 'lone\ud800.pdf', size: 1 },
      { fileName: '..', size: 1 },
      { fileName: 'dir/.', size: 1 },
      { fileName: `${'é'.repeat(200)}.pdf`, size: 1 },
    ]) {
      const res = await api('POST', '/documents/upload', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.error.code, 'VALIDATION_FAILED');
    }
    const foreign = await api('POST', '/documents/upload', {
      fileName: 'x.pdf',
      size: 1,
      workspace: 'other',
    });
    assert.equal(foreign.status, 403);
  });
});
