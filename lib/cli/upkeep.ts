import { parseArgs } from 'node:util';
import { addUpkeepStats } from '../graph/upkeep.ts';
import { dueByWorkspace } from '../storage/graph-upkeep.ts';
import { validateWorkspace } from '../workspace.ts';
import { type CliIo, openPipeline } from './context.ts';
import { cliTarget, refuseWhileStackRuns } from './target.ts';

/** Sweeps of one workspace before giving up on elements another holder keeps. */
const MAX_SWEEPS = 20;

/**
 * `upkeep [--workspace W] [--json]`: brings every due graph element (contended summaries and
 * vectors, lib/graph/upkeep.ts) up to date now, in every workspace that has any (or in W). The
 * ingest function does this after each document; this is the way out when no document follows.
 */
export async function upkeepCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { workspace: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const target = await cliTarget(io);
  if (refuseWhileStackRuns(target, 'upkeep', io)) return 2;
  const run = openPipeline({
    ...io,
    env: (target as Extract<typeof target, { kind: 'database' }>).env,
  });
  try {
    await run.pipeline.storages(run.config.workspace); // The schema, upkeep table included.
    const workspaces = values.workspace
      ? [validateWorkspace(values.workspace)]
      : (await dueByWorkspace(run.db)).map((w) => w.workspace);
    const report = [];
    for (const workspace of workspaces) {
      const s = await run.pipeline.storages(workspace);
      const totals = { settled: 0, busy: 0, left: 0, summaries: 0, failed: 0 };
      for (let sweep = 0; sweep < MAX_SWEEPS && (await s.graphUpkeep.due(1)).length > 0; sweep++) {
        const stats = await run.pipeline.graphUpkeep.sweep(s, { limit: 100 });
        addUpkeepStats(totals, stats);
        if (stats.settled === 0 && stats.failed > 0) break;
      }
      report.push({ workspace, ...totals, stillDue: await s.graphUpkeep.countDue() });
    }
    if (values.json) io.out(JSON.stringify(report, null, 2));
    else if (report.length === 0) io.out('Nothing is due: every summary and vector is up to date.');
    for (const r of values.json ? [] : report) {
      io.out(
        `${r.workspace}: ${r.settled} brought up to date (${r.summaries} summaries), ${r.failed} failed, ${r.stillDue} still due`,
      );
    }
    return report.some((r) => r.failed > 0) ? 1 : 0;
  } finally {
    await run.close();
  }
}
