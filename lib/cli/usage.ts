import { parseArgs } from 'node:util';
import { sinceDay, type UsageReport, usageReport } from '../ops/usage-report.ts';
import { validateWorkspace } from '../workspace.ts';
import { type CliIo, openPipeline } from './context.ts';
import { apiClient, cliTarget } from './target.ts';

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
  const target = await cliTarget(io);
  const run = target.kind === 'database' ? openPipeline({ ...io, env: target.env }) : undefined;
  try {
    let workspace: string;
    let report: UsageReport;
    if (run) {
      workspace = validateWorkspace(values.workspace ?? run.config.workspace);
      await run.pipeline.storages(workspace); // The schema, usage table included.
      report = await usageReport(run.db, workspace, sinceDay(values.since));
    } else {
      const stack = (target as Extract<typeof target, { kind: 'stack' }>).stack;
      const api = apiClient(stack.apiUrl, { workspace: values.workspace });
      report = await api<UsageReport>('GET', `/usage?since=${encodeURIComponent(values.since)}`);
      workspace = values.workspace ?? 'default';
    }
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
    await run?.close();
  }
}
