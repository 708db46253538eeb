import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extractionFromCache, parseReply } from '../../lib/graph/extract.ts';
import {
  FILE_PATH_TRUNCATED,
  mergeEntity,
  mergeFilePaths,
  mergeFragments,
  mergeRelation,
  voteEntityType,
} from '../../lib/graph/merge-rules.ts';
import { extractionMessages } from '../../lib/graph/prompts.ts';
import {
  isUsableName,
  MAX_ENTITY_NAME_LENGTH,
  MAX_EXTRACTION_ENTITIES,
  MAX_EXTRACTION_RECORDS,
  mergeGleaning,
  normalizeEntityName,
  normalizeEntityType,
  parseJsonExtraction,
  parseRecords,
} from '../../lib/graph/records.ts';
import { decodeEntity, decodeRelation } from '../../lib/storage/graph-properties.ts';

const rec = (...f: string[]) => f.join('<|#|>');

describe('extraction records', () => {
  it('parses entity (4 fields) and relation (5 fields) lines up to the completion marker', () => {
    const reply = [
      rec('entity', 'Ada Lovelace', 'Person', 'Wrote the first algorithm.'),
      rec('entity', 'Analytical Engine', 'Artifact', 'A mechanical computer.'),
      rec(
        'relation',
        'Ada Lovelace',
        'Analytical Engine',
        'programming, design',
        'Ada programmed it.',
      ),
      '<|COMPLETE|>',
      rec('entity', 'After', 'Person', 'ignored: after the marker'),
    ].join('\n');
    assert.deepEqual(parseRecords(reply), {
      entities: [
        { name: 'Ada Lovelace', type: 'person', description: 'Wrote the first algorithm.' },
        { name: 'Analytical Engine', type: 'artifact', description: 'A mechanical computer.' },
      ],
      relations: [
        {
          source: 'Ada Lovelace',
          target: 'Analytical Engine',
          keywords: 'programming,design',
          description: 'Ada programmed it.',
          weight: 1,
        },
      ],
    });
  });

  it("applies LightRAG's drop rules", () => {
    const reply = [
      rec('entity', 'Three', 'Person'), // 3 fields
      rec('entity', 'Five', 'Person', 'desc', 'extra'), // 5 fields
      rec('relation', 'A', 'B', 'kw'), // 4 fields
      rec('thing', 'X', 'Person', 'desc'), // wrong prefix
      rec('entity', '', 'Person', 'empty name'),
      rec('entity', 'NoType', '', 'empty type'),
      rec('entity', 'NoDesc', 'Person', '  '),
      rec('entity', 'Bad', 'per(son)', 'type with a parenthesis'),
      rec('entity', 'Bad2', 'a/b', 'type with a slash'),
      rec('entity', '42', 'Data', 'two digits'),
      rec('entity', '1.2.3', 'Data', 'digits and dots under 6'),
      rec('relation', 'Same', 'Same', 'kw', 'self relation'),
      rec('relation', 'A', 'B', 'kw', ''),
      rec('entity', '2024', 'Event', 'four digits are kept'),
      rec('entity', '1.2.3.4', 'Data', 'six characters are kept'),
      rec('entity', 'Kept', 'Organization, Company', 'type is the first token'),
      '<|COMPLETE|>',
    ].join('\n');
    const parsed = parseRecords(reply);
    assert.deepEqual(
      parsed.entities.map((e) => [e.name, e.type]),
      [
        ['2024', 'event'],
        ['1.2.3.4', 'data'],
        ['Kept', 'organization'],
      ],
    );
    assert.deepEqual(parsed.relations, []);
    assert.equal(isUsableName('123'), true);
    assert.equal(normalizeEntityType('Natural Object'), 'naturalobject');
  });

  it('normalises names and keeps their case', () => {
    assert.equal(normalizeEntityName('  "iPhone 15"  '), 'iPhone 15');
    assert.equal(normalizeEntityName('<b>OpenAI</b>'), 'OpenAI');
    assert.equal(normalizeEntityName('ＡＢＣ　Corp'), 'ABC Corp');
    assert.equal(normalizeEntityName('北京 大学'), '北京大学');
    assert.equal(normalizeEntityName('“Quoted”'), 'Quoted');
    assert.equal(normalizeEntityName('a\u0000b'), 'ab');
    assert.equal(normalizeEntityName('x'.repeat(400)).length, MAX_ENTITY_NAME_LENGTH);
  });

  it('accepts the older tuple format and caps records per reply', () => {
    const old =
      '("entity"<|>"Paris"<|>"geo"<|>"Capital of France.")##("relationship"<|>"Paris"<|>"France"<|>"capital"<|>"Paris is in France.")';
    const parsed = parseRecords(old);
    assert.deepEqual(parsed.entities, [
      { name: 'Paris', type: 'geo', description: 'Capital of France.' },
    ]);
    assert.equal(parsed.relations[0]?.target, 'France');
    const many = Array.from({ length: 120 }, (_, i) =>
      rec('entity', `Entity ${i}`, 'Concept', 'd'),
    );
    many.push(
      ...Array.from({ length: 80 }, (_, i) =>
        rec('relation', `Entity ${i}`, `Entity ${i + 1}`, 'k', 'd'),
      ),
    );
    const capped = parseRecords(many.join('\n'));
    assert.equal(capped.entities.length, MAX_EXTRACTION_ENTITIES);
    assert.equal(capped.entities.length + capped.relations.length, MAX_EXTRACTION_RECORDS);
  });

  it('parses JSON mode tolerantly and falls back to records', () => {
    const reply =
      'Here you go:\n```json\n{"entities":[{"name":"Ada","type":"Person","description":"d"},{"name":"","type":"x","description":"y"}],"relationships":[{"source":"Ada","target":"Babbage","keywords":["k1","k2"],"description":"met"}]}\n```';
    assert.deepEqual(parseJsonExtraction(reply), {
      entities: [{ name: 'Ada', type: 'person', description: 'd' }],
      relations: [
        { source: 'Ada', target: 'Babbage', keywords: 'k1,k2', description: 'met', weight: 1 },
      ],
    });
    assert.equal(parseJsonExtraction('{not json'), undefined);
    assert.equal(parseReply(rec('entity', 'A1', 'Concept', 'd'), true).entities.length, 1);
  });

  it('lets a gleaned record replace the first only when its description is longer', () => {
    const first = parseRecords(
      [
        rec('entity', 'A1', 'Concept', 'long first description'),
        rec('entity', 'B1', 'Concept', 'b'),
      ].join('\n'),
    );
    const gleaned = parseRecords(
      [
        rec('entity', 'A1', 'Concept', 'short'),
        rec('entity', 'B1', 'Concept', 'better b'),
        rec('entity', 'C1', 'Concept', 'new'),
      ].join('\n'),
    );
    assert.deepEqual(
      mergeGleaning(first, gleaned).entities.map((e) => e.description),
      ['long first description', 'better b', 'new'],
    );
    const fromCache = extractionFromCache(
      [rec('entity', 'A1', 'Concept', 'x'), rec('entity', 'A1', 'Concept', 'longer x')],
      false,
    );
    assert.equal(fromCache.entities[0]?.description, 'longer x');
  });

  it('puts the chunk in a code fence and an optional breadcrumb in the user prompt', () => {
    const [system, user] = extractionMessages(
      'Body text',
      { entityTypes: ['Person'], language: 'French' },
      {
        json: false,
        breadcrumb: 'Guide > Intro',
      },
    );
    assert.match(system!.content, /<\|#\|>/);
    assert.match(system!.content, /French/);
    assert.match(user!.content, /```\nBody text\n```/);
    assert.match(user!.content, /Section: Guide > Intro/);
  });
});

describe('merge rules', () => {
  const src = <R>(record: R, chunkId: string, filePath: string | null = 'a.md') => ({
    record,
    chunkId,
    filePath,
  });
  const cfg = { maxFilePaths: 2, maxSourceIdsPerEntity: 2, maxSourceIdsPerRelation: 2 };

  it('votes the entity type by frequency, ties to the first new record', () => {
    assert.equal(voteEntityType('person', ['organization', 'organization']), 'organization');
    assert.equal(voteEntityType('person', ['organization']), 'organization');
    assert.equal(voteEntityType('person', ['person', 'organization']), 'person');
    assert.equal(voteEntityType(undefined, []), 'UNKNOWN');
  });

  it('orders fragments stored-first, dedups, caps source ids (oldest kept) and file paths', () => {
    assert.deepEqual(mergeFragments(['old'], ['b', 'longer', 'old']), ['old', 'longer', 'b']);
    const m = mergeEntity(
      'Ada',
      decodeEntity({
        entity_type: 'person',
        description: 'stored',
        source_id: 'c1',
        file_path: 'x.md',
      }),
      ['c1'],
      [
        src({ name: 'Ada', type: 'person', description: 'new one' }, 'c2', 'y.md'),
        src({ name: 'Ada', type: 'person', description: 'n2' }, 'c3', 'z.md'),
      ],
      cfg,
    );
    assert.deepEqual(m.chunkIds, ['c1', 'c2', 'c3']);
    assert.equal(m.sourceId, 'c1<SEP>c2');
    assert.deepEqual(m.fragments, ['stored', 'new one', 'n2']);
    assert.equal(m.filePath, `x.md<SEP>y.md<SEP>${FILE_PATH_TRUNCATED}`);
    assert.equal(mergeFilePaths(`a<SEP>${FILE_PATH_TRUNCATED}`, ['b'], 5), 'a<SEP>b');
  });

  it('decodes stored properties once: typed fields, other keys kept, absent stays absent', () => {
    const e = decodeEntity('{"description":"A poet.","truncate":"FIFO 3/5","created_at":"x"}');
    assert.deepEqual(e, { description: 'A poet.', truncate: 'FIFO 3/5', created_at: 0 });
    assert.deepEqual(decodeEntity({ entity_type: 7, description: null }), { entity_type: '7' });
    assert.equal(decodeRelation({ weight: '2.0' }).weight, 2);
    assert.equal(decodeRelation({ weight: 'heavy' }).weight, 0);
    assert.deepEqual(decodeRelation([1, 2]), {});
  });

  it('adds one weight per new contributing chunk and unions keywords', () => {
    const r = (kw: string) => ({
      source: 'A',
      target: 'B',
      keywords: kw,
      description: `d ${kw}`,
      weight: 1,
    });
    const m = mergeRelation(
      decodeRelation({ weight: 2, keywords: 'b,z', description: 'old', source_id: 'c1<SEP>c2' }),
      ['c1', 'c2'],
      [src(r('a,b'), 'c3'), src(r('y'), 'c2')],
      cfg,
    );
    assert.equal(m.weight, 3, 'c2 was already counted');
    assert.equal(m.keywords, 'a,b,z');
    assert.deepEqual(m.chunkIds, ['c1', 'c2', 'c3']);
  });
});
