// `npm run package` and `npm run deploy`: checks the --param flags (lib/deploy/params.ts), builds
// the layers, packages offline with every flag, checks the connection budget, and for deploy also
// the account's concurrency (when reserving) before `osls deploy`. npm passes extra arguments to
// the last command of a script only; here every step gets them.
// Usage: node scripts/deploy.ts package|deploy [--param="k=v" …] [--stage s] [--region r]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkDeployParams, checkStage, splitParams } from '../lib/deploy/params.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const [mode, ...argv] = process.argv.slice(2);
if (mode !== 'package' && mode !== 'deploy') {
  console.error('Usage: node scripts/deploy.ts package|deploy [--param="name=value" …]');
  process.exit(2);
}
const region = process.env.AWS_REGION ?? 'eu-west-1';
const stage = process.env.STAGE ?? 'dev';
const problems = [...checkStage(stage), ...checkDeployParams(argv).problems];
if (problems.length) {
  console.error(
    `Invalid deploy parameters (${problems.length}):\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
      'docs/deployment.md lists every parameter with its default.',
  );
  process.exit(1);
}
const given = splitParams(argv);
const flags = [
  '--region',
  region,
  '--stage',
  stage,
  ...given.params.map((p) => `--param=${p}`),
  ...given.rest,
];
const step = (command: string, args: string[]) => {
  const { status } = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
};
const osls = `${ROOT}node_modules/.bin/osls`;
const template = '.serverless/cloudformation-template-update-stack.json';
step('bash', ['scripts/build-layers.sh']);
step(osls, ['package', ...flags]);
step(process.execPath, ['scripts/check-connection-budget.ts', template]);
if (mode === 'deploy') {
  step(process.execPath, ['scripts/check-account-concurrency.ts', template]);
  step(osls, ['deploy', '--package', '.serverless', ...flags]);
}
