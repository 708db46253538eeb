import { parseArgs } from 'node:util';
import type { Finding } from '../ops/doctor.ts';
import { runDoctor } from '../ops/doctor.ts';
import type { CliIo } from './context.ts';
import { apiClient, cliTarget } from './target.ts';

const MARK = { ok: '✔', warn: '!', fail: '✖', skip: '-' } as const;

/**
 * `doctor [--json]`: configuration, database, pgvector, schema, embedding and LLM round trips,
 * queue and DLQ, each finding with its fix (lib/ops/doctor.ts). Exit 1 when anything failed.
 */
export async function doctorCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { json: { type: 'boolean', default: false } },
  });
  const target = await cliTarget(io);
  const findings =
    target.kind === 'stack'
      ? await stackFindings(target.stack.apiUrl, target.stack.database)
      : await runDoctor(target.env);
  const failed = findings.some((f) => f.verdict === 'fail');
  if (values.json) io.out(JSON.stringify({ ok: !failed, findings }, null, 2));
  else {
    for (const f of findings) {
      io.out(
        `${MARK[f.verdict]} ${f.check.padEnd(13)} ${f.detail}${f.ms !== undefined ? ` (${f.ms} ms)` : ''}`,
      );
      if (f.fix) io.out(`  ${' '.repeat(13)} fix: ${f.fix}`);
    }
    io.out(failed ? 'Problems found.' : 'No problems found.');
  }
  return failed ? 1 : 0;
}

/** While the local stack runs, it holds the database: its health check speaks for it. */
async function stackFindings(apiUrl: string, database: string): Promise<Finding[]> {
  try {
    const health = await apiClient(apiUrl)<{ status: string; database?: { ok?: boolean } }>(
      'GET',
      '/health',
    );
    return [
      {
        check: 'local stack',
        verdict: health.status === 'healthy' ? 'ok' : 'fail',
        detail: `running at ${apiUrl} on ${database}: health ${health.status}`,
        ...(health.status === 'healthy'
          ? {}
          : { fix: "see the stack's output; restart it with npm start" }),
      },
    ];
  } catch (err) {
    return [
      {
        check: 'local stack',
        verdict: 'fail',
        detail: (err as Error).message,
        fix: 'restart it with npm start',
      },
    ];
  }
}
