/**
 * lib/tokenizer.ts against js-tiktoken's reference encoder (the same rank data): identical tokens
 * for every kind of text, identical decoding, and no quadratic blow-up on a piece without breaks.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tiktoken } from 'js-tiktoken/lite';
import { getTokenizer } from '../lib/tokenizer.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A seeded generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
}

function mixedText(next: () => number, length: number): string {
  const ranges: Array<[number, number]> = [
    [0x20, 0x7e], // ASCII
    [0x4e00, 0x4fff], // CJK
    [0x0400, 0x04ff], // Cyrillic
    [0x0600, 0x06ff], // Arabic
    [0x1f600, 0x1f64f], // emoji (astral)
    [0x0300, 0x036f], // combining marks
    [0xd800, 0xdfff], // lone surrogates
  ];
  let out = '';
  for (let i = 0; i < length; i++) {
    const r = next();
    if (r < 0.12) out += ' ';
    else if (r < 0.16) out += '\n';
    else if (r < 0.18) out += '\r\n';
    else if (r < 0.22) out += String(Math.floor(next() * 100000));
    else {
      const [lo, hi] = ranges[Math.floor(next() * ranges.length)]!;
      const cp = lo + Math.floor(next() * (hi - lo + 1));
      out += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    }
  }
  return out;
}

function corpus(): string[] {
  const texts = readdirSync(`${ROOT}samples`).map((f) =>
    readFileSync(`${ROOT}samples/${f}`, 'utf8'),
  );
  texts.push(readFileSync(`${ROOT}lib/tokenizer.ts`, 'utf8'));
  const next = random(42);
  for (let i = 0; i < 400; i++) texts.push(mixedText(next, Math.floor(next() * 300)));
  texts.push(
    '',
    ' ',
    '\n\n\n',
    "It's a test. They'LL say I'M right; we'd've known.",
    'Die Straße führt über Brücken — naïve café, ÆØÅ.',
    'CamelCaseIdentifiersAndHTTPServerURLs https://example.com/a?b=c&d=e#f',
    'Quoted special tokens: <|endoftext|> and <|endofprompt|> are plain text here.',
    'é'.repeat(999),
    '0123456789'.repeat(80),
    'tab\tseparated\tvalues\t\t  trailing   ',
  );
  return texts;
}

for (const encoding of ['o200k_base', 'cl100k_base'] as const) {
  describe(`tokenizer ${encoding}`, async () => {
    const reference = new Tiktoken((await import(`js-tiktoken/ranks/${encoding}`)).default);
    const tokenizer = await getTokenizer(encoding);

    it('encodes exactly as js-tiktoken does (special-token text as ordinary text)', () => {
      for (const text of corpus()) {
        assert.deepEqual(tokenizer.encode(text), reference.encode(text, [], []), text.slice(0, 60));
      }
    });

    it('decodes any token window exactly as js-tiktoken does', () => {
      const text = corpus().join('\n');
      const tokens = tokenizer.encode(text);
      assert.equal(tokenizer.decode(tokens), reference.decode(tokens));
      // Windows cut inside multi-byte characters (chunk boundaries) decode the same way too.
      for (let start = 0; start < tokens.length; start += 997) {
        const window = tokens.slice(start, start + 50);
        assert.equal(tokenizer.decode(window), reference.decode(window));
      }
      assert.equal(tokenizer.decode([]), '');
      assert.equal(tokenizer.decode([-1, 10 ** 9]), '', 'unknown ids are skipped');
    });

    it('counts as encode does, and is shared per container', async () => {
      assert.equal(tokenizer.count('Hello world'), tokenizer.encode('Hello world').length);
      assert.equal(await getTokenizer(encoding), tokenizer);
    });

    it('merges a long piece without word breaks (megabytes) as the reference would', () => {
      // One regex piece of 1 MiB: a quadratic merge would not finish.
      const long = 'ab'.repeat(2 ** 19);
      const tokens = tokenizer.encode(long);
      assert.equal(tokenizer.decode(tokens), long);
      const sample = 'ab'.repeat(3000);
      assert.deepEqual(tokenizer.encode(sample), reference.encode(sample, [], []));
    });
  });
}
