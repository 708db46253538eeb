#!/usr/bin/env node
import { runCli } from '../lib/cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  write: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(line.startsWith('\r') ? line : `${line}\n`),
  isTty: process.stderr.isTTY === true,
});
