#!/usr/bin/env node
import { runCli } from '../lib/cli/main.ts';

// fauxqs (the local SQS and S3) loads node:sqlite, which Node flags as experimental on every
// start: not the user's concern, so that one warning is dropped and every other one kept.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string })?.type;
  if (type === 'ExperimentalWarning' && /SQLite/.test(text)) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  write: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(line.startsWith('\r') ? line : `${line}\n`),
  isTty: process.stderr.isTTY === true,
});
