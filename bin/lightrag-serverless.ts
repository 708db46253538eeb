#!/usr/bin/env node
import { runCli } from '../lib/cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(line.startsWith('\r') ? line : `${line}\n`),
  isTty: process.stderr.isTTY === true,
});
