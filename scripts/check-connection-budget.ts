// Fails packaging when the functions could open more database connections than the budget.
// Usage: node scripts/check-connection-budget.ts [.serverless/cloudformation-template-update-stack.json]
import { readFileSync } from 'node:fs';
import { checkConnectionBudget } from '../lib/deploy/connection-budget.ts';

const path = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
const result = checkConnectionBudget(JSON.parse(readFileSync(path, 'utf8')));
const lines = Object.entries(result.containers).map(
  ([name, n]) =>
    `  ${name}: ${n} containers (${result.boundBy[name]}) x ${result.connectionsPerContainer[name]} connections`,
);
console.log(
  `Connection budget ${result.budget}; worst case ${result.worstCase}\n${lines.join('\n')}`,
);
if (!result.withinBudget) {
  console.error(
    result.unbounded.length
      ? `Unbounded concurrency (give it an event-source maximumConcurrency or a planned count in ApiContainersPlanned): ${result.unbounded.join(', ')}`
      : `Over budget: lower concurrency or POSTGRES_MAX_CONNECTIONS, or raise the connectionBudget parameter.`,
  );
  process.exit(1);
}
