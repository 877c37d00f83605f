// The entry point's dispatch and the mapping of every failure to one clear line and an exit code:
// 2 for usage and configuration errors, 1 for a failed command, Nagios codes for `check`. Imports only
// the command table and light error classes: a command's own modules load when it runs (specs.ts).

import { InvalidSeedError } from "../emulator/seed-error.js";
import { LockHeldError } from "../rotation/errors.js";
import { TlsCredentialsError } from "../server/tls-error.js";
import { VERSION } from "../version.js";
import {
  RefusedError,
  UsageError,
  commandHelp,
  findCommand,
  groupHelp,
  groupOf,
  parseCommandArgs,
  programHelp,
} from "./args.js";
import { ConfigError } from "./config-error.js";
import type { Io } from "./context.js";
import { checkCommand, COMMANDS } from "./specs.js";

export const PROGRAM = "sendgrid-sso-certs";

/** A usage error: the message, then the usage of what was typed (the command, or else the program). */
function usageFailure(io: Io, message: string, usage: string): number {
  io.stderr.write(`${PROGRAM}: ${message}\n\n${usage}`);
  return 2;
}

function isHelp(word: string | undefined): boolean {
  return word === "--help" || word === "-h" || word === "help";
}

export async function main(argv: readonly string[], io: Io): Promise<number> {
  if (argv[0] === "--version" || argv[0] === "-v") {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help") {
    io.stdout.write(programHelp(PROGRAM, COMMANDS));
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(COMMANDS, argv);
  if (!found) {
    const group = groupOf(COMMANDS, argv[0]!);
    if (group.length === 0)
      return usageFailure(io, `unknown command '${argv[0]}'`, programHelp(PROGRAM, COMMANDS));
    const help = groupHelp(PROGRAM, argv[0]!, group);
    if (isHelp(argv[1])) {
      io.stdout.write(help);
      return 0;
    }
    return usageFailure(
      io,
      argv[1] === undefined
        ? `${argv[0]} needs a command`
        : `unknown command '${argv.slice(0, 2).join(" ")}'`,
      help,
    );
  }
  const { spec, rest } = found;
  try {
    const args = parseCommandArgs(PROGRAM, spec, rest);
    if (args.values.help) {
      io.stdout.write(commandHelp(PROGRAM, spec));
      return 0;
    }
    return await spec.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) return usageFailure(io, error.message, commandHelp(PROGRAM, spec));
    const exit = spec === checkCommand ? 3 : undefined;
    if (error instanceof ConfigError) {
      io.stderr.write(`${PROGRAM}: ${error.message}\n`);
      return exit ?? 2;
    }
    if (
      error instanceof RefusedError ||
      error instanceof LockHeldError ||
      error instanceof InvalidSeedError ||
      error instanceof TlsCredentialsError
    ) {
      io.stderr.write(`${PROGRAM}: ${error.message}\n`);
      return 2;
    }
    // A failed API call (SendGridError), a refused rollback (RollbackRefused), and anything else, a bug or
    // an environment failure included: one line, not a stack trace.
    io.stderr.write(`${PROGRAM}: ${error instanceof Error ? error.message : String(error)}\n`);
    return exit ?? 1;
  }
}
