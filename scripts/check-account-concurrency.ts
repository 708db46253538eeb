// Before `osls deploy`: fails when the template's reserved concurrency cannot fit the account
// (lib/deploy/account-concurrency.ts). Needs AWS credentials; nothing to check (and no AWS call)
// when the template reserves nothing.
// Usage: node scripts/check-account-concurrency.ts [.serverless/cloudformation-template-update-stack.json]
import { readFileSync } from 'node:fs';
import {
  GetAccountSettingsCommand,
  GetFunctionConcurrencyCommand,
  LambdaClient,
} from '@aws-sdk/client-lambda';
import { checkAccountConcurrency, plannedReservations } from '../lib/deploy/account-concurrency.ts';

const path = process.argv[2] ?? '.serverless/cloudformation-template-update-stack.json';
const planned = plannedReservations(JSON.parse(readFileSync(path, 'utf8')));
if (Object.keys(planned).length === 0) {
  console.log('No reserved concurrency in the template: nothing to check against the account.');
  process.exit(0);
}
const lambda = new LambdaClient({ region: process.env.AWS_REGION ?? 'eu-west-1' });
const settings = await lambda.send(new GetAccountSettingsCommand({}));
const current: Record<string, number> = {};
for (const name of Object.keys(planned)) {
  try {
    const c = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
    current[name] = c.ReservedConcurrentExecutions ?? 0;
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
    current[name] = 0; // not deployed yet
  }
}
const verdict = checkAccountConcurrency({
  accountLimit: settings.AccountLimit?.ConcurrentExecutions ?? 0,
  unreserved: settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0,
  current,
  planned,
});
if (!verdict.ok) {
  console.error(verdict.message);
  process.exit(1);
}
console.log(verdict.message);
