import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChunkingConfig } from '../../lib/config.ts';
import { ValidationError } from '../../lib/errors.ts';
import { chunkDocument } from '../../lib/pipeline/chunking.ts';
import { computeMdhashId } from '../../lib/text.ts';
import { getTokenizer } from '../../lib/tokenizer.ts';

const base: ChunkingConfig = {
  chunkTokenSize: 50,
  overlapTokenSize: 10,
  splitByCharacterOnly: false,
  encoding: 'o200k_base',
};
const words = (n: number, tag = 'w') => Array.from({ length: n }, (_, i) => `${tag}${i}`).join(' ');

describe('token chunking (LightRAG chunking_by_token_size)', () => {
  it('windows of CHUNK_SIZE tokens stepping by size - overlap, with LightRAG ids and fields', async () => {
    const tokenizer = await getTokenizer('o200k_base');
    const text = words(200);
    const total = tokenizer.encode(text).length;
    const chunks = await chunkDocument(text, base);
    const expectedStarts = [];
    for (let s = 0; s < total; s += 40) expectedStarts.push(s);
    assert.equal(chunks.length, expectedStarts.length);
    assert.deepEqual(
      chunks.map((c) => c.tokens),
      expectedStarts.map((s) => Math.min(50, total - s)),
    );
    assert.deepEqual(
      chunks.map((c) => c.chunk_order_index),
      chunks.map((_, i) => i),
    );
    for (const c of chunks) assert.equal(c.id, computeMdhashId(c.content, 'chunk-'));
    // Each chunk is exactly its token window, so consecutive chunks share 10 tokens.
    const tokens = tokenizer.encode(text);
    assert.deepEqual(
      chunks.map((c) => c.content),
      expectedStarts.map((s) => tokenizer.decode(tokens.slice(s, s + 50)).trim()),
    );
    assert.ok(chunks[1]!.content.startsWith(tokenizer.decode(tokens.slice(40, 50)).trim()));
  });

  it('keeps a short document whole and uses the default 1,200 / 100', async () => {
    const chunks = await chunkDocument('  A short note.  ', {
      ...base,
      chunkTokenSize: 1200,
      overlapTokenSize: 100,
    });
    assert.deepEqual(
      chunks.map((c) => c.content),
      ['A short note.'],
    );
  });

  it('splits on a character first and windows only the oversized pieces', async () => {
    const text = `${words(5, 'a')}\n\n${words(120, 'b')}\n\n\n\n${words(5, 'c')}`;
    const chunks = await chunkDocument(text, { ...base, splitByCharacter: '\n\n' });
    assert.equal(chunks[0]!.content, words(5, 'a'));
    assert.equal(chunks.at(-1)!.content, words(5, 'c'));
    assert.ok(chunks.length > 3, 'the long piece was windowed');
    assert.ok(
      chunks.every((c) => c.content.length > 0),
      'empty pieces dropped',
    );
    assert.deepEqual(
      chunks.map((c) => c.chunk_order_index),
      chunks.map((_, i) => i),
    );
  });

  it('refuses an oversized piece when splitting on the character only', async () => {
    await assert.rejects(
      chunkDocument(`${words(5)}\n${words(300)}`, {
        ...base,
        splitByCharacter: '\n',
        splitByCharacterOnly: true,
      }),
      (err: Error) => err instanceof ValidationError && /over CHUNK_SIZE=50/.test(err.message),
    );
  });

  it('handles CJK, emoji and the cl100k encoding', async () => {
    const text = '检索增强生成把文档切成块。😀 '.repeat(40);
    const chunks = await chunkDocument(text, { ...base, encoding: 'cl100k_base' });
    assert.ok(chunks.length > 1);
    assert.ok(chunks.every((c) => c.tokens <= 50));
  });

  it('chunks a document that quotes special-token text (js-tiktoken would throw)', async () => {
    const text = 'The GPT separator <|endoftext|> ends a sample; <|endofprompt|> too.';
    const chunks = await chunkDocument(text, base);
    assert.deepEqual(
      chunks.map((c) => c.content),
      [text],
    );
  });
});
