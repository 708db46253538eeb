/** LightRAG 1.5's identity rules for known inputs (LIGHTRAG-1.5.md §4). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalFilePath,
  chunkIdFor,
  documentIdFor,
  duplicateId,
  storedFilePath,
} from '../lib/ids.ts';
import { md5 } from '../lib/text.ts';

describe('LightRAG 1.5 identity rules', () => {
  it('canonical file path: POSIX basename, recognised parser hint removed, unknown_source', () => {
    const cases: Array<[string | null, string]> = [
      ['report.pdf', 'report.pdf'],
      ['/data/in/2026/report.pdf', 'report.pdf'],
      ['  spaced name.md  ', 'spaced name.md'],
      ['a.[mineru-Fi].pdf', 'a.pdf'],
      ['dir/a.[docling].docx', 'a.docx'],
      ['a.[xyz].pdf', 'a.[xyz].pdf'], // unknown hint kept
      ['C:\\x\\a.pdf', 'C:\\x\\a.pdf'], // only `/` separates on LightRAG's Linux server
      ['', 'unknown_source'],
      ['no-file-path', 'unknown_source'],
      ['unknown_source', 'unknown_source'],
      [null, 'unknown_source'],
      ['dir/', 'unknown_source'],
    ];
    for (const [input, expected] of cases)
      assert.equal(canonicalFilePath(input), expected, String(input));
  });

  it('document ids: file name when known (1.5), content otherwise and under 1.4', () => {
    // The fact sheet's sample value.
    assert.equal(
      documentIdFor('any text', 'report.pdf', '1.5'),
      'doc-5c6813f49dfba292cc1008edce1c90e2',
    );
    assert.equal(
      documentIdFor('other text', 'in/report.pdf', '1.5'),
      'doc-5c6813f49dfba292cc1008edce1c90e2',
    );
    assert.equal(documentIdFor('  hello\u0000 ', null, '1.5'), `doc-${md5('hello')}`);
    assert.equal(documentIdFor('hello', 'unknown_source', '1.5'), `doc-${md5('hello')}`);
    assert.equal(documentIdFor('hello', 'report.pdf', '1.4'), `doc-${md5('hello')}`);
  });

  it('chunk ids: {doc_id}-chunk-NNN (1.5) or chunk-md5(content) (1.4)', () => {
    assert.equal(chunkIdFor('doc-1', 0, 'x', '1.5'), 'doc-1-chunk-000');
    assert.equal(chunkIdFor('doc-1', 42, 'x', '1.5'), 'doc-1-chunk-042');
    assert.equal(chunkIdFor('doc-1', 1234, 'x', '1.5'), 'doc-1-chunk-1234');
    assert.equal(chunkIdFor('doc-1', 0, 'hello', '1.4'), 'chunk-5d41402abc4b2a76b9719d911017c592');
  });

  it('stored file path and duplicate marker ids', () => {
    assert.equal(storedFilePath('in/a.md', '1.5'), 'a.md');
    assert.equal(storedFilePath(undefined, '1.5'), 'unknown_source');
    assert.equal(storedFilePath('in/a.md', '1.4'), 'in/a.md');
    assert.equal(storedFilePath(undefined, '1.4'), null);
    assert.equal(
      duplicateId('doc-1', 'insert_20260101_000000_abcdef12', 0, 'a.md'),
      `dup-${md5('doc-1-insert_20260101_000000_abcdef12-0-a.md')}`,
    );
  });
});
