import { parseArgs } from 'node:util';
import { runDoctor } from '../ops/doctor.ts';
import type { CliIo } from './context.ts';

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
  const findings = await runDoctor(io.env);
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
