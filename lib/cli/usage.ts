import { parseArgs } from 'node:util';
import { sinceDay, usageReport } from '../ops/usage-report.ts';
import { validateWorkspace } from '../workspace.ts';
import { type CliIo, openPipeline } from './context.ts';

/** `usage [--workspace W] [--since 7d|YYYY-MM-DD] [--json]`: LLM and embedding usage by day and purpose. */
export async function usageCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      workspace: { type: 'string' },
      since: { type: 'string', default: '7d' },
      json: { type: 'boolean', default: false },
    },
  });
  const run = openPipeline(io);
  try {
    const workspace = validateWorkspace(values.workspace ?? run.config.workspace);
    await run.pipeline.storages(workspace); // The schema, usage table included.
    const report = await usageReport(run.db, workspace, sinceDay(values.since));
    if (values.json) {
      io.out(JSON.stringify(report, null, 2));
      return 0;
    }
    io.out(`Usage of workspace ${workspace} since ${report.since}:`);
    io.out(
      '  day         purpose    model                          calls  cache hits  prompt tokens  completion tokens',
    );
    for (const r of report.rows) {
      io.out(
        `  ${r.day}  ${r.purpose.padEnd(9)}  ${r.model.slice(0, 30).padEnd(30)}  ${String(r.calls).padStart(5)}  ${String(r.cacheHits).padStart(10)}  ${String(r.promptTokens).padStart(13)}  ${String(r.completionTokens).padStart(17)}`,
      );
    }
    for (const [purpose, t] of Object.entries(report.totals)) {
      io.out(
        `  total ${purpose}: ${t.calls} calls, ${t.cacheHits} cache hits, ${t.promptTokens} + ${t.completionTokens} tokens`,
      );
    }
    if (report.rows.length === 0) io.out('  (nothing recorded)');
    return 0;
  } finally {
    await run.close();
  }
}
