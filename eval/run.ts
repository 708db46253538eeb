/**
 * `npm run eval [-- --judge] [--modes naive,mix]`: the evaluation harness (eval/harness.ts) on the
 * configured LLM and embedding provider (the same environment variables as everything else),
 * over eval/corpus.json, in a fresh workspace. Results go to eval/results/ as JSON and Markdown,
 * with the model names and settings. Skipped, with the reason, when no LLM or no real embedding
 * provider is configured: scripted or hash runs say nothing about graph quality.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../lib/config.ts';
import { Database } from '../lib/db/database.ts';
import { createEmbedder } from '../lib/embedding/index.ts';
import { createLlm } from '../lib/llm/index.ts';
import { createLogger } from '../lib/logger.ts';
import { QUERY_MODES, type QueryMode } from '../lib/query/request.ts';
import { EVAL_MODES, type EvalCorpus, type EvalResults, runEval } from './harness.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

export function summary(r: EvalResults): string {
  const e = r.extraction;
  return [
    `# Evaluation: ${r.models.llm} / ${r.models.embedding}`,
    '',
    `Workspace \`${r.workspace}\`, ${r.durationSeconds} s. Settings: \`${JSON.stringify(r.settings)}\``,
    '',
    '| extraction | precision | recall | F1 | matched / expected / predicted |',
    '|---|---|---|---|---|',
    `| entities | ${e.entities.precision} | ${e.entities.recall} | ${e.entities.f1} | ${e.entities.matched} / ${e.entities.expected} / ${e.entities.predicted} |`,
    `| relations | ${e.relations.precision} | ${e.relations.recall} | ${e.relations.f1} | ${e.relations.matched} / ${e.relations.expected} / ${e.relations.predicted} |`,
    '',
    `Entity type accuracy (matched entities): ${e.entities.typeAccuracy}.`,
    '',
    '| mode | context recall |',
    '|---|---|',
    ...Object.entries(r.contextRecall).map(([m, v]) => `| ${m} | ${v} |`),
    '',
    ...(r.answerRecall !== undefined
      ? [`Answer fact recall (LLM judge, mix): ${r.answerRecall}.`, '']
      : []),
    `Missed entities: ${e.missedEntities.join(', ') || 'none'}.`,
    `Missed relations: ${e.missedRelations.join(', ') || 'none'}.`,
    '',
  ].join('\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { judge: { type: 'boolean', default: false }, modes: { type: 'string' } },
  });
  const config = loadConfig(process.env);
  if (config.llm.provider === 'none') {
    process.stdout.write(
      'npm run eval: skipped — no LLM is configured. Set LLM_PROVIDER (openai or bedrock), LLM_MODEL and its key, and an EMBEDDING_PROVIDER, then run it again.\n',
    );
    return 0;
  }
  if (config.embedding.provider === 'hash') {
    process.stdout.write(
      'npm run eval: skipped — EMBEDDING_PROVIDER is the built-in hash embedder, which says nothing about retrieval quality. Set EMBEDDING_PROVIDER (openai or bedrock) and EMBEDDING_MODEL.\n',
    );
    return 0;
  }
  const modes = values.modes
    ? values.modes.split(',').map((m) => m.trim() as QueryMode)
    : EVAL_MODES;
  for (const m of modes) {
    if (!(QUERY_MODES as readonly string[]).includes(m) || m === 'bypass') {
      process.stderr.write(`npm run eval: unknown mode "${m}"; use ${EVAL_MODES.join(', ')}.\n`);
      return 2;
    }
  }
  const logger = createLogger(config.logLevel);
  const db = new Database(config.database, logger);
  const llm = createLlm(config.llm, logger)!;
  const corpus = JSON.parse(readFileSync(join(here, 'corpus.json'), 'utf8')) as EvalCorpus;
  const workspace = `eval_${new Date().toISOString().replace(/\D/g, '').slice(0, 14)}`;
  try {
    const results = await runEval(corpus, {
      db,
      config,
      embedder: createEmbedder(config, logger),
      llm,
      logger,
      workspace,
      modes,
      judge: values.judge,
      progress: (line) => process.stdout.write(`${line}\n`),
    });
    const dir = join(here, 'results');
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `${workspace}-${llm.name.replace(/[^\w.-]+/g, '_')}`);
    writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(`${base}.md`, summary(results));
    process.stdout.write(`${summary(results)}\nWritten: ${base}.json, ${base}.md\n`);
    return 0;
  } finally {
    await db.end();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.exitCode = await main();
}
