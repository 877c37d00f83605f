#!/usr/bin/env node
// Entry point of the `sendgrid-sso-certs` binary: runs main() with the real process streams.

import { main } from "./cli/main.js";

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  isTty: Boolean(process.stdout.isTTY),
});
process.exitCode = code;
