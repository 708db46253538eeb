import { parseArgs } from 'node:util';
import { QueryEngine } from '../query/engine.ts';
import { parseQueryRequest, queryDefaults } from '../query/request.ts';
import { validateWorkspace } from '../workspace.ts';
import { type CliIo, openPipeline } from './context.ts';
import { apiClient, cliTarget } from './target.ts';

/**
 * `query "TEXT" [--workspace W] [--top-k N] [--chunk-top-k N] [--mode M] [--context-only] [--json]`: the same code
 * path as `POST /query`, in-process. `--stream` prints the answer as it is written (the code path
 * of `POST /query/stream`), then the references.
 */
export async function queryCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
      'top-k': { type: 'string' },
      'chunk-top-k': { type: 'string' },
      mode: { type: 'string' },
      'context-only': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      stream: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) {
    io.err('query needs exactly one argument: the question (quote it).');
    return 2;
  }
  const target = await cliTarget(io);
  if (target.kind === 'stack')
    return queryThroughApi(positionals[0]!, target.stack.apiUrl, values, io);
  const run = openPipeline({ ...io, env: target.env });
  try {
    const topK = values['top-k'] === undefined ? undefined : Number(values['top-k']);
    const chunkTopK =
      values['chunk-top-k'] === undefined ? undefined : Number(values['chunk-top-k']);
    const request = parseQueryRequest(
      {
        query: positionals[0],
        ...(values.mode ? { mode: values.mode } : {}),
        ...(topK === undefined ? {} : { top_k: topK }),
        ...(chunkTopK === undefined ? {} : { chunk_top_k: chunkTopK }),
        only_need_context: values['context-only'],
      },
      queryDefaults(run.config),
    );
    const engine = new QueryEngine(run.db, run.config, run.embedder, run.llm, run.logger);
    if (values.stream) {
      const workspace = validateWorkspace(values.workspace ?? run.config.workspace);
      const controller = new AbortController();
      const stop = () => controller.abort(new Error('interrupted'));
      process.once('SIGINT', stop);
      try {
        const streamed = await engine.stream(request, workspace, controller.signal);
        const write = io.write ?? io.out;
        for await (const piece of streamed.pieces) write(piece);
        write('\n');
        if (streamed.references.length > 0) {
          io.out('References:');
          for (const r of streamed.references) io.out(`  [${r.reference_id}] ${r.file_path}`);
        }
      } finally {
        process.off('SIGINT', stop);
      }
      return 0;
    }
    const result = await engine.query(
      request,
      validateWorkspace(values.workspace ?? run.config.workspace),
    );
    if (values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    if (result.answer !== null) io.out(`${result.answer}\n`);
    const { entities, relationships, chunks } = result.context;
    io.out(
      `Context (${entities.length} entities, ${relationships.length} relations, ${chunks.length} chunks, ${result.timings.retrievalMs} ms retrieval, ${result.timings.generationMs} ms generation${result.cached ? ', cached answer' : ''}):`,
    );
    for (const e of entities.slice(0, 10))
      io.out(`  entity   ${e.entity} (${e.type}, degree ${e.rank})`);
    for (const r of relationships.slice(0, 10))
      io.out(`  relation ${r.entity1} — ${r.entity2} (weight ${r.weight})`);
    for (const chunk of result.context.chunks) {
      const preview = chunk.content.replace(/\s+/g, ' ').slice(0, 100);
      io.out(
        `  [${chunk.reference_id}] ${chunk.score.toFixed(3)}  ${chunk.file_path ?? '-'}  ${preview}${chunk.content.length > 100 ? '…' : ''}`,
      );
    }
    if (result.answer === null && !request.only_need_context)
      io.out('(No LLM configured: set LLM_PROVIDER and LLM_MODEL for answers.)');
    return 0;
  } finally {
    await run.close();
  }
}

/** `query` while the local stack runs: its `POST /query` (or `/query/stream`), same output. */
async function queryThroughApi(
  question: string,
  apiUrl: string,
  values: {
    workspace?: string;
    mode?: string;
    'top-k'?: string;
    'chunk-top-k'?: string;
    'context-only'?: boolean;
    json?: boolean;
    stream?: boolean;
  },
  io: CliIo,
): Promise<number> {
  const body = {
    query: question,
    ...(values.mode ? { mode: values.mode } : {}),
    ...(values['top-k'] ? { top_k: Number(values['top-k']) } : {}),
    ...(values['chunk-top-k'] ? { chunk_top_k: Number(values['chunk-top-k']) } : {}),
    only_need_context: values['context-only'] === true,
  };
  if (values.stream) {
    const res = await fetch(new URL('/query/stream', apiUrl), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(values.workspace ? { 'x-workspace': values.workspace } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!res.ok || !res.body) {
      io.err(`POST /query/stream: ${res.status} ${await res.text()}`);
      return 1;
    }
    const write = io.write ?? io.out;
    let buffered = '';
    // biome-ignore lint/suspicious/noExplicitAny: LightRAG's NDJSON lines.
    let references: any[] = [];
    for await (const piece of res.body.pipeThrough(new TextDecoderStream())) {
      buffered += piece;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines.filter((l) => l.trim() !== '')) {
        const event = JSON.parse(line);
        if (event.references) references = event.references;
        if (event.response) write(event.response);
        if (event.error) io.err(`\nerror: ${event.error}`);
      }
    }
    write('\n');
    if (references.length > 0) {
      io.out('References:');
      for (const r of references) io.out(`  [${r.reference_id}] ${r.file_path}`);
    }
    return 0;
  }
  // biome-ignore lint/suspicious/noExplicitAny: the API's JSON, as docs/http-api.md documents it.
  const result = await apiClient(apiUrl, { workspace: values.workspace })<any>(
    'POST',
    '/query/detailed',
    body,
  );
  if (values.json) {
    io.out(JSON.stringify(result, null, 2));
    return 0;
  }
  if (result.answer) io.out(`${result.answer}\n`);
  const { entities = [], relationships = [], chunks = [] } = result.context ?? {};
  io.out(
    `Context (${entities.length} entities, ${relationships.length} relations, ${chunks.length} chunks; local stack):`,
  );
  for (const chunk of chunks) {
    const preview = String(chunk.content).replace(/\s+/g, ' ').slice(0, 100);
    io.out(
      `  [${chunk.reference_id}] ${Number(chunk.score).toFixed(3)}  ${chunk.file_path ?? '-'}  ${preview}`,
    );
  }
  return 0;
}
