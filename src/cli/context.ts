// What every command gets: its output streams, environment and working directory (injected so tests
// run commands in-process), and the shared steps of loading config and building API clients.

import { loadConfig } from "../config/load.js";
import type { Config } from "../config/types.js";
import { createLogger, type Logger } from "../log.js";
import type { ParsedArgs } from "./args.js";

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly isTty: boolean;
}

/** A configuration that cannot be used: each line names the key path. Exit 2, or 3 for `check`. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

export function configFrom(args: ParsedArgs, io: Io): Config {
  const file = typeof args.values.config === "string" ? args.values.config : null;
  const result = loadConfig({ file, env: io.env, cwd: io.cwd });
  if (!result.ok) throw new ConfigError(result.problems);
  for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
  const level = args.values["log-level"];
  if (typeof level === "string") {
    if (!["trace", "debug", "info", "warn", "error", "fatal"].includes(level)) {
      throw new ConfigError([`--log-level: "${level}" is not one of trace, debug, info, warn, error, fatal`]);
    }
    return { ...result.config, logLevel: level as Config["logLevel"] };
  }
  return result.config;
}

/**
 * Logs of one-shot commands go to stderr so stdout stays a clean table or JSON document; the daemon
 * logs to stdout as containers expect.
 */
export function loggerFor(config: Config, io: Io, to: "stdout" | "stderr"): Logger {
  return createLogger({
    level: config.logLevel,
    pretty: io.isTty || config.logLevel === "debug" || config.logLevel === "trace",
    destination: to === "stdout" ? io.stdout : io.stderr,
  });
}
