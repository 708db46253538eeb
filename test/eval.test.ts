/**
 * The evaluation harness's mechanics (eval/harness.ts) with the scripted LLM: a perfect scripted
 * extractor scores 1.0; a degraded one scores lower by exactly what it drops; context recall
 * finds facts that are there and not those that are not; the judge's reply is read as asked.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  type EvalCorpus,
  factRecall,
  judgeAnswer,
  type LabelledDocument,
  runEval,
} from '../eval/harness.ts';
import { summary } from '../eval/run.ts';
import { type Config, loadConfig } from '../lib/config.ts';
import { HashEmbedder } from '../lib/embedding/hash.ts';
import { createLlm } from '../lib/llm/index.ts';
import type { Llm } from '../lib/llm/types.ts';
import {
  createTestDatabase,
  quietLogger,
  type TestDatabase,
  uniqueWorkspace,
} from './support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from './support/scripted-llm.ts';

const DIM = 32;
const corpus = JSON.parse(
  readFileSync(new URL('../eval/corpus.json', import.meta.url), 'utf8'),
) as EvalCorpus;

/** The document with scripted-extraction markers for its labels (some dropped or retyped). */
function withMarkers(
  doc: LabelledDocument,
  degrade?: { keepRelation: (i: number) => boolean; type?: string },
): string {
  const relationIndex = (r: [string, string]) =>
    corpus.documents.flatMap((d) => d.relations).indexOf(r);
  return [
    doc.text,
    ...doc.entities.map(
      (e) => `[[E:${e.name}|${degrade?.type ?? e.type}|${e.name} appears in ${doc.file}.]]`,
    ),
    ...doc.relations
      .filter((r) => !degrade || degrade.keepRelation(relationIndex(r)))
      .map(([a, b]) => `[[R:${a}|${b}|link|${a} is linked to ${b}.]]`),
  ].join('\n');
}

describe('evaluation harness (npm run eval)', () => {
  let llm: ScriptedLlm;
  let target: TestDatabase;
  let config: Config;

  before(async () => {
    llm = await startScriptedLlm();
    target = await createTestDatabase({
      EMBEDDING_DIM: String(DIM),
      ...scriptedLlmEnv(llm),
      COSINE_THRESHOLD: '-1',
    });
    config = loadConfig(target.env);
  });
  after(() => llm.close());

  const run = (textOf: (d: LabelledDocument) => string, questions = corpus.questions) =>
    runEval(
      { documents: corpus.documents, questions },
      {
        db: target.open(),
        config,
        embedder: new HashEmbedder(DIM),
        llm: createLlm(config.llm)!,
        logger: quietLogger,
        workspace: uniqueWorkspace(),
        modes: ['naive', 'mix'],
        textOf,
      },
    );

  it('scores a perfect extractor 1.0, and finds facts in the context only when they are there', async () => {
    const impossible = {
      question: 'Who built the Zanzibar quantum loom?',
      facts: ['Zanzibar quantum loom'],
    };
    const r = await run((d) => withMarkers(d), [corpus.questions[0]!, impossible]);
    assert.deepEqual(
      [
        r.extraction.entities.precision,
        r.extraction.entities.recall,
        r.extraction.entities.typeAccuracy,
      ],
      [1, 1, 1],
      `missed ${r.extraction.missedEntities}`,
    );
    assert.deepEqual([r.extraction.relations.precision, r.extraction.relations.recall], [1, 1]);
    assert.equal(r.perQuestion[1]!.contextRecall.mix, 0);
    assert.equal(r.perQuestion[0]!.contextRecall.naive, 1, 'the whole small corpus is in reach');
    assert.match(summary(r), /\| entities \| 1 \| 1 \| 1 \|/);
    assert.equal(r.models.llm, 'openai:scripted-model');
  });

  it('scores a degraded extractor lower by exactly what it drops', async () => {
    const total = corpus.documents.flatMap((d) => d.relations).length;
    const keep = (i: number) => i % 2 === 0;
    const kept = Array.from({ length: total }, (_, i) => i).filter(keep).length;
    const r = await run((d) => withMarkers(d, { keepRelation: keep, type: 'other' }), []);
    assert.equal(r.extraction.relations.precision, 1);
    assert.equal(r.extraction.relations.recall, Math.round((kept / total) * 1000) / 1000);
    assert.equal(r.extraction.entities.typeAccuracy, 0, 'every type wrong');
    assert.equal(r.extraction.entities.recall, 1);
    assert.equal(r.extraction.missedRelations.length, total - kept);
  });

  it('reads the judge: the facts it names, out-of-range numbers ignored', async () => {
    const judge = (reply: string): Llm => ({
      name: 'judge',
      identity: { binding: null, model: 'judge', host: null },
      complete: async () => reply,
      async *stream() {
        yield reply;
      },
    });
    const facts = ['a', 'b', 'c', 'd'];
    assert.equal(await judgeAnswer(judge('{"present": [1, 3, 9]}'), 'q', 'ans', facts), 0.5);
    assert.equal(await judgeAnswer(judge('not json'), 'q', 'ans', facts), 0);
    assert.equal(factRecall(['Ada', 'engine'], 'ADA wrote for the Engine'), 1);
  });
});
