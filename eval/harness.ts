/**
 * The evaluation harness behind `npm run eval`: ingests a labelled corpus through the real
 * pipeline with the configured LLM and embedder, then scores
 * - extraction: entity and relation precision / recall / F1 against the labels (names compared
 *   case- and punctuation-insensitively, relations as unordered pairs) and entity type accuracy;
 * - context recall per query mode: the share of each question's facts found in the retrieved
 *   context (entities, relations and chunks);
 * - optionally answers: an LLM judge says which facts the `mix` answer states.
 * Mechanics are tested with the scripted LLM (test/eval.test.ts).
 */
import type { Config } from '../lib/config.ts';
import type { Database } from '../lib/db/database.ts';
import type { Embedder } from '../lib/embedding/types.ts';
import { parseJsonObjectLoosely } from '../lib/json-fields.ts';
import type { Llm } from '../lib/llm/types.ts';
import type { Logger } from '../lib/logger.ts';
import { IngestPipeline } from '../lib/pipeline/ingest.ts';
import { QueryEngine } from '../lib/query/engine.ts';
import { parseQueryRequest, type QueryMode, queryDefaults } from '../lib/query/request.ts';
import { openStorages } from '../lib/storage/index.ts';

export interface LabelledDocument {
  file: string;
  text: string;
  entities: Array<{ name: string; type: string }>;
  relations: Array<[string, string]>;
}

export interface EvalCorpus {
  documents: LabelledDocument[];
  questions: Array<{ question: string; facts: string[] }>;
}

export interface Score {
  expected: number;
  predicted: number;
  matched: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalResults {
  models: { llm: string; embedding: string };
  settings: Record<string, unknown>;
  workspace: string;
  extraction: {
    entities: Score & { typeAccuracy: number };
    relations: Score;
    missedEntities: string[];
    missedRelations: string[];
  };
  /** Mean share of the questions' facts in the retrieved context, per mode. */
  contextRecall: Partial<Record<QueryMode, number>>;
  perQuestion: Array<{ question: string; contextRecall: Partial<Record<QueryMode, number>> }>;
  /** Mean share of facts the judge found in the `mix` answers (with `judge`). */
  answerRecall?: number;
  durationSeconds: number;
}

export const EVAL_MODES: QueryMode[] = ['naive', 'local', 'global', 'hybrid', 'mix'];

/** Names compared as a reader would: case, punctuation and spacing aside. */
export const normalizeName = (name: string) =>
  name
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

const pairKey = (a: string, b: string) => [normalizeName(a), normalizeName(b)].sort().join(' | ');

const round = (n: number) => Math.round(n * 1000) / 1000;

export function score(expected: ReadonlySet<string>, predicted: ReadonlySet<string>): Score {
  const matched = [...expected].filter((k) => predicted.has(k)).length;
  const precision = predicted.size === 0 ? 0 : matched / predicted.size;
  const recall = expected.size === 0 ? 0 : matched / expected.size;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return {
    expected: expected.size,
    predicted: predicted.size,
    matched,
    precision: round(precision),
    recall: round(recall),
    f1: round(f1),
  };
}

/** The share of `facts` found (case-insensitively) in `text`. */
export function factRecall(facts: readonly string[], text: string): number {
  if (facts.length === 0) return 1;
  const haystack = text.toLowerCase();
  return facts.filter((f) => haystack.includes(f.toLowerCase())).length / facts.length;
}

/** Asks the judge which facts an answer states; the share it names. */
export async function judgeAnswer(
  judge: Llm,
  question: string,
  answer: string,
  facts: readonly string[],
): Promise<number> {
  const reply = await judge.complete(
    [
      {
        role: 'system',
        content:
          'You check answers. Given a question, an answer and numbered facts, reply with one JSON object {"present": [numbers of the facts the answer states or clearly implies]} and nothing else.',
      },
      {
        role: 'user',
        content: `Question: ${question}\n\nAnswer:\n${answer}\n\nFacts:\n${facts.map((f, i) => `${i + 1}. ${f}`).join('\n')}`,
      },
    ],
    { json: true },
  );
  const present = parseJsonObjectLoosely(reply)?.present;
  const named = new Set(
    (Array.isArray(present) ? present : [])
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 1 && n <= facts.length),
  );
  return facts.length === 0 ? 1 : named.size / facts.length;
}

export interface EvalOptions {
  db: Database;
  config: Config;
  embedder: Embedder;
  llm: Llm;
  logger: Logger;
  workspace: string;
  modes?: QueryMode[];
  /** Ask the LLM to judge `mix` answers (one answer and one judge call per question). */
  judge?: boolean;
  /** The text ingested for a document (tests add scripted-extraction markers). */
  textOf?: (doc: LabelledDocument) => string;
  progress?: (line: string) => void;
}

export async function runEval(corpus: EvalCorpus, options: EvalOptions): Promise<EvalResults> {
  const started = performance.now();
  const { db, config, embedder, llm, logger, workspace } = options;
  const modes = options.modes ?? EVAL_MODES;
  const progress = options.progress ?? (() => {});
  const pipeline = new IngestPipeline(db, config, embedder, logger, llm);
  for (const doc of corpus.documents) {
    const r = await pipeline.ingest({
      content: options.textOf?.(doc) ?? doc.text,
      filePath: doc.file,
      workspace,
    });
    if (r.status !== 'processed') throw new Error(`${doc.file} was not processed: ${r.error}`);
    progress(`ingested ${doc.file}: ${r.entities} entities, ${r.relations} relations`);
  }

  // Extraction against the labels.
  const s = await openStorages(db, config, embedder, workspace);
  const labels = await s.graph.getAllLabels();
  const nodes = await s.graph.getNodesBatch(labels);
  const edges = await s.graph.getNodesEdgesBatch(labels);
  const predictedEntities = new Map(
    labels.map((l) => [normalizeName(l), String(nodes.get(l)?.entity_type ?? '')]),
  );
  const predictedPairs = new Set([...edges.values()].flat().map(([a, b]) => pairKey(a, b)));
  const expectedTypes = new Map<string, string>();
  const expectedPairs = new Map<string, string>();
  for (const doc of corpus.documents) {
    for (const e of doc.entities) expectedTypes.set(normalizeName(e.name), e.type.toLowerCase());
    for (const [a, b] of doc.relations) expectedPairs.set(pairKey(a, b), `${a} – ${b}`);
  }
  const entities = score(new Set(expectedTypes.keys()), new Set(predictedEntities.keys()));
  const matchedNames = [...expectedTypes.keys()].filter((k) => predictedEntities.has(k));
  const typesRight = matchedNames.filter(
    (k) => predictedEntities.get(k)?.toLowerCase() === expectedTypes.get(k),
  ).length;

  // Context recall per mode, and the judged answers.
  const engine = new QueryEngine(db, config, embedder, llm, logger);
  const perQuestion: EvalResults['perQuestion'] = [];
  const answerRecalls: number[] = [];
  for (const q of corpus.questions) {
    const recall: Partial<Record<QueryMode, number>> = {};
    for (const mode of modes) {
      const request = parseQueryRequest(
        { query: q.question, mode, only_need_context: true },
        queryDefaults(config),
      );
      const res = await engine.query(request, workspace);
      recall[mode] = round(factRecall(q.facts, JSON.stringify(res.context)));
    }
    perQuestion.push({ question: q.question, contextRecall: recall });
    if (options.judge) {
      const res = await engine.query(
        parseQueryRequest({ query: q.question, mode: 'mix' }, queryDefaults(config)),
        workspace,
      );
      answerRecalls.push(await judgeAnswer(llm, q.question, res.answer ?? '', q.facts));
    }
    progress(`asked: ${q.question}`);
  }
  const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : 0);
  return {
    models: { llm: llm.name, embedding: embedder.name },
    settings: {
      chunkTokenSize: config.chunking.chunkTokenSize,
      entityTypes: config.graph.entityTypes,
      useJson: config.graph.useJson,
      maxGleaning: config.graph.maxGleaning,
      topK: config.query.topK,
      chunkTopK: config.graphQuery.chunkTopK,
      relatedChunkNumber: config.graphQuery.relatedChunkNumber,
      chunkPickMethod: config.graphQuery.chunkPickMethod,
    },
    workspace,
    extraction: {
      entities: {
        ...entities,
        typeAccuracy: round(matchedNames.length ? typesRight / matchedNames.length : 0),
      },
      relations: score(new Set(expectedPairs.keys()), predictedPairs),
      missedEntities: [...expectedTypes.keys()].filter((k) => !predictedEntities.has(k)),
      missedRelations: [...expectedPairs.entries()]
        .filter(([k]) => !predictedPairs.has(k))
        .map(([, label]) => label),
    },
    contextRecall: Object.fromEntries(
      modes.map((m) => [m, mean(perQuestion.map((p) => p.contextRecall[m] ?? 0))]),
    ),
    perQuestion,
    ...(options.judge ? { answerRecall: mean(answerRecalls) } : {}),
    durationSeconds: Math.round((performance.now() - started) / 1000),
  };
}
