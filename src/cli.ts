#!/usr/bin/env node
// Entry point of the `sendgrid-sso-certs` binary: runs main() with the real process streams.

import { main } from "./cli/main.js";

// A reader that went away (`check --json | head`) is no failure of ours: the rest of the output has no
// one to go to, and the command finishes with its own exit code instead of a stack trace.
const GONE = new Set(["EPIPE", "ERR_STREAM_DESTROYED"]);
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (!GONE.has(error.code ?? "")) throw error;
  });
}

const code = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  isTty: Boolean(process.stdout.isTTY),
});
process.exitCode = code;
