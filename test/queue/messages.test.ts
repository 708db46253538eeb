import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidWorkspaceError, ValidationError } from '../../lib/errors.ts';
import {
  decodeExtractionMessage,
  decodeIngestMessage,
  decodeS3Event,
  encodeDocumentReference,
  encodeExtractionMessage,
  encodeIngestMessage,
  encodeMergeMessage,
  encodeS3ObjectCreated,
  MESSAGE_VERSION,
  messageSize,
  NewerMessageError,
} from '../../lib/queue/messages.ts';

const parseIngestMessage = decodeIngestMessage;

const limits = { maxDocumentBytes: 1000 };
const nested = (depth: number): unknown => (depth === 0 ? 'leaf' : { n: nested(depth - 1) });

describe('ingest message contract', () => {
  it('accepts inline documents and references', () => {
    assert.deepEqual(parseIngestMessage('{"content":"hello"}', limits), { content: 'hello' });
    const full = {
      content: 'x',
      workspace: 'tenant_1',
      filePath: 'a/b.md',
      trackId: 't',
      metadata: { k: [1, { v: null }] },
    };
    assert.deepEqual(parseIngestMessage(JSON.stringify(full), limits), full);
    assert.deepEqual(parseIngestMessage('{"docId":"doc-abc"}', limits), { docId: 'doc-abc' });
  });

  const cases: Array<[string, string, RegExp]> = [
    ['malformed JSON', '{"content": "x"', /not valid JSON/],
    ['an array', '[{"content":"x"}]', /must be a JSON object/],
    ['null', 'null', /must be a JSON object/],
    ['a string', '"hello"', /must be a JSON object/],
    ['an unknown field', '{"content":"x","contnet":"y"}', /Unknown message field\(s\) "contnet"/],
    ['neither content nor docId', '{"filePath":"a"}', /exactly one of "content"/],
    ['both content and docId', '{"content":"x","docId":"d"}', /exactly one of "content"/],
    ['numeric content', '{"content":42}', /"content" must be a string, got number/],
    ['empty content', '{"content":""}', /empty/],
    ['whitespace and NUL content', '{"content":" \\u0000\\n\\t "}', /empty/],
    [
      'oversized content',
      JSON.stringify({ content: 'é'.repeat(600) }),
      /1200 bytes, over the 1000-byte limit/,
    ],
    ['empty docId', '{"docId":""}', /"docId" must be a string/],
    ['docId with NUL', '{"docId":"a\\u0000b"}', /"docId" must be a string/],
    [
      'merge without docId',
      '{"content":"x","merge":"run_1"}',
      /"merge" message names the stored document/,
    ],
    ['merge not a string', '{"docId":"d","merge":5}', /"merge" must be a string/],
    [
      'a long file path',
      JSON.stringify({ content: 'x', filePath: 'p'.repeat(1025) }),
      /"filePath" must be a string of 1-1024/,
    ],
    [
      'a file path holding the graph separator',
      JSON.stringify({ content: 'x', filePath: 'a.md<SEP>b.md' }),
      /must not contain "<SEP>"/,
    ],
    ['numeric trackId', '{"content":"x","trackId":7}', /"trackId" must be/],
    [
      'array metadata',
      '{"content":"x","metadata":[1]}',
      /"metadata" must be a JSON object, got array/,
    ],
    [
      'deep metadata',
      JSON.stringify({ content: 'x', metadata: nested(40) }),
      /nested deeper than 32/,
    ],
    [
      'huge metadata',
      JSON.stringify({ content: 'x', metadata: { big: 'm'.repeat(70_000) } }),
      /over the 65536-byte limit/,
    ],
  ];
  for (const [name, body, message] of cases) {
    it(`refuses ${name}`, () => {
      assert.throws(
        () => parseIngestMessage(body, limits),
        (err: Error) => err instanceof ValidationError && message.test(err.message),
      );
    });
  }

  it("refuses workspaces LightRAG's rule refuses (the allow-list judges the rest)", () => {
    for (const workspace of ['../../etc', 'a\\b', '..', 'ws\u0000', '', 5]) {
      assert.throws(
        () => parseIngestMessage(JSON.stringify({ content: 'x', workspace }), limits),
        InvalidWorkspaceError,
      );
    }
  });

  it('round-trips every message this code writes, each stamped with its version', () => {
    const doc = encodeIngestMessage({ content: 'hello', filePath: 'a.md', trackId: 't' }, limits);
    assert.equal(JSON.parse(doc).v, MESSAGE_VERSION);
    assert.deepEqual(decodeIngestMessage(doc, limits), {
      content: 'hello',
      filePath: 'a.md',
      trackId: 't',
    });
    const ref = encodeDocumentReference({ docId: 'doc-1', workspace: 'w', filePath: 'a\u0000.md' });
    assert.deepEqual(decodeIngestMessage(ref, limits), {
      docId: 'doc-1',
      workspace: 'w',
      filePath: 'a.md',
    });
    const merge = encodeMergeMessage({ docId: 'doc-1', workspace: 'w', runId: 'run-1' });
    assert.deepEqual(decodeIngestMessage(merge, limits), {
      docId: 'doc-1',
      workspace: 'w',
      merge: 'run-1',
    });
    const batch = { docId: 'doc-1', workspace: 'w', runId: 'run-1', batch: 3 };
    assert.deepEqual(decodeExtractionMessage(encodeExtractionMessage(batch)), batch);
    const event = encodeS3ObjectCreated('b', 'uploads/w/doc-1/t-0123456789ab/a b+c.pdf', 5);
    assert.deepEqual(decodeS3Event(event), [
      { bucket: 'b', key: 'uploads/w/doc-1/t-0123456789ab/a b+c.pdf', size: 5 },
    ]);
    assert.deepEqual(decodeS3Event('{"Event":"s3:TestEvent"}'), []);
  });

  it('refuses to send a message the ingest function would refuse', () => {
    assert.throws(() => encodeIngestMessage({ content: '  ' }, limits), /empty/);
    assert.throws(
      () => encodeIngestMessage({ content: 'x'.repeat(1001) }, limits),
      /over the 1000-byte limit/,
    );
  });

  it('leaves a newer version for the newer deployment, and refuses a version that is not one', () => {
    for (const decode of [
      (b: string) => decodeIngestMessage(b, limits),
      (b: string) => decodeExtractionMessage(b),
    ]) {
      const newer = '{"v":2,"docId":"d","workspace":"w","runId":"r","batch":0,"content":"x"}';
      const err = (() => {
        try {
          decode(newer);
        } catch (e) {
          return e;
        }
      })() as NewerMessageError;
      assert.ok(err instanceof NewerMessageError, String(err));
      assert.equal(err.retryable, true);
      assert.match(err.message, /version 2 is newer than this function reads \(1\)/);
      assert.throws(() => decode('{"v":"1","content":"x"}'), /Field "v" must be a message version/);
    }
    assert.deepEqual(decodeIngestMessage('{"v":1,"content":"x"}', limits), { content: 'x' });
  });

  it("has one size rule: SQS's 1 MiB unless the queue says less", () => {
    assert.deepEqual(messageSize('é'), { bytes: 2, fits: true });
    assert.equal(messageSize('x'.repeat(1024 * 1024 + 1)).fits, false);
    assert.equal(messageSize('xyz', 2).fits, false);
  });
});
