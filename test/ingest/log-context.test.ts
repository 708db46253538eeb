/**
 * Structured logs carry the request id, message id, workspace and document id on every line of
 * a record's handling, so one document's life can be followed across invocations.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SQSRecord } from 'aws-lambda';
import { loadConfig } from '../../lib/config.ts';
import { sqsRecord } from '../../lib/deploy/lambda-sandbox.ts';
import { HashEmbedder } from '../../lib/embedding/hash.ts';
import { batchResponse } from '../../lib/ingest/batch-response.ts';
import { ingestRuntime, processIngestRecord } from '../../lib/ingest/runtime.ts';
import { createLlm } from '../../lib/llm/index.ts';
import { addLogContext, createLogger, withLogContext } from '../../lib/logger.ts';
import { IngestPipeline } from '../../lib/pipeline/ingest.ts';
import { createTestDatabase, TARGET, uniqueWorkspace } from '../support/database.ts';
import { type ScriptedLlm, scriptedLlmEnv, startScriptedLlm } from '../support/scripted-llm.ts';

describe('log context', () => {
  it('nests, adds fields, and stays with its own async work', async () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l));
    await Promise.all([
      withLogContext({ requestId: 'a' }, async () => {
        await new Promise((r) => setTimeout(r, 10));
        addLogContext({ docId: 'doc-a' });
        withLogContext({ batch: 1 }, () => log.info('inner'));
        log.info('outer');
      }),
      withLogContext({ requestId: 'b' }, async () => log.info('other')),
    ]);
    log.info('outside');
    const parsed = lines.map((l) => JSON.parse(l));
    const by = (m: string) => parsed.find((p) => p.message === m);
    assert.deepEqual(
      [by('inner').requestId, by('inner').docId, by('inner').batch],
      ['a', 'doc-a', 1],
    );
    assert.deepEqual([by('outer').requestId, by('outer').batch], ['a', undefined]);
    assert.equal(by('other').requestId, 'b');
    assert.equal(by('other').docId, undefined);
    assert.equal(by('outside').requestId, undefined);
  });
});

describe(`a record's log lines on ${TARGET}`, () => {
  let llm: ScriptedLlm;
  before(async () => {
    llm = await startScriptedLlm();
  });
  after(() => llm.close());

  it('carry request id, message id, workspace and document id', async () => {
    const target = await createTestDatabase({ ...scriptedLlmEnv(llm), ALLOWED_WORKSPACES: '*' });
    const config = loadConfig(target.env);
    const lines: string[] = [];
    const logger = createLogger('info', (l) => lines.push(l));
    const pipeline = new IngestPipeline(
      target.open(),
      config,
      new HashEmbedder(32),
      logger,
      createLlm(config.llm),
    );
    const rt = ingestRuntime({ config, logger, db: target.open() }, pipeline);
    const ws = uniqueWorkspace('log');
    llm.faults.push({ kind: 'extract', status: 400 }); // The document fails: the pipeline logs why.
    const record = sqsRecord(
      'm-1',
      JSON.stringify({ content: 'Text. [[E:A|Concept|a.]]', workspace: ws, filePath: 'a.md' }),
    );
    await batchResponse(
      { Records: [record as unknown as SQSRecord] },
      1,
      logger,
      (r) => processIngestRecord(rt, r),
      'req-1',
    );
    const failed = lines
      .map((l) => JSON.parse(l))
      .filter((l) => l.message === 'document failed' || l.message === 'document ingested');
    assert.ok(failed.length >= 2, lines.join('\n'));
    for (const line of failed) {
      assert.equal(line.requestId, 'req-1');
      assert.equal(line.messageId, 'm-1');
      assert.equal(line.workspace, ws);
      assert.match(line.docId, /^doc-[0-9a-f]{32}$/);
    }
  });
});
