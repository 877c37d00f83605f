// What every command gets: its output streams, environment and working directory (injected so tests
// run commands in-process), and the shared steps of loading config and building API clients.

import { loadConfig, type LoadResult } from "../config/load.js";
import { prepareStateDir, StateDirError } from "../config/state-dir.js";
import type { Config } from "../config/types.js";
import { createLogger, type Logger } from "../log.js";
import type { ParsedArgs } from "./args.js";
import { ConfigError } from "./config-error.js";

export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly isTty: boolean;
}

export type LogFormat = "json" | "pretty";
const LOG_FORMATS: readonly LogFormat[] = ["json", "pretty"];

/**
 * --log-format of the configs configFrom returned: the format is a flag, not a config key, and every
 * command hands its config to loggerFor. Held weakly, with the config.
 */
const logFormats = new WeakMap<Config, LogFormat>();

export interface ConfigFromOptions {
  /**
   * The command writes to state_dir: create it (0700) and check it now, so that every state_dir problem
   * is one ConfigError naming the key (exit 2) before anything starts.
   */
  readonly stateDir?: boolean;
}

/** Loads the configuration as the command line says (--config, --log-level); ConfigError when unusable. */
export function loadFromArgs(args: ParsedArgs, io: Io): LoadResult {
  const file = typeof args.values.config === "string" ? args.values.config : null;
  const result = loadConfig({ file, env: io.env, cwd: io.cwd });
  if (!result.ok) return result;
  const level = args.values["log-level"];
  if (typeof level !== "string") return result;
  if (!["trace", "debug", "info", "warn", "error", "fatal"].includes(level)) {
    return {
      ok: false,
      source: result.config.source,
      problems: [`--log-level: "${level}" is not one of trace, debug, info, warn, error, fatal`],
    };
  }
  return { ...result, config: { ...result.config, logLevel: level as Config["logLevel"] } };
}

export function configFrom(args: ParsedArgs, io: Io, options: ConfigFromOptions = {}): Config {
  const format = args.values["log-format"];
  if (format !== undefined && !LOG_FORMATS.includes(format as LogFormat)) {
    throw new ConfigError([`--log-format: "${String(format)}" is not one of json, pretty`]);
  }
  const result = loadFromArgs(args, io);
  if (!result.ok) throw new ConfigError(result.problems);
  for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
  if (options.stateDir) {
    try {
      prepareStateDir(result.config.stateDir);
    } catch (error) {
      if (error instanceof StateDirError) throw new ConfigError([error.message]);
      throw error;
    }
  }
  if (format !== undefined) logFormats.set(result.config, format as LogFormat);
  return result.config;
}

/**
 * Logs of one-shot commands go to stderr so stdout stays a clean table or JSON document; the daemon
 * logs to stdout as containers expect. JSON lines unless --log-format pretty, or no --log-format and a
 * terminal: log_level debug changes how much is logged, never the format a log collector parses.
 */
export function loggerFor(config: Config, io: Io, to: "stdout" | "stderr"): Logger {
  const format = logFormats.get(config) ?? (io.isTty ? "pretty" : "json");
  return createLogger({
    level: config.logLevel,
    pretty: format === "pretty",
    destination: to === "stdout" ? io.stdout : io.stderr,
  });
}
