// The one place loggers are made: pino JSON lines (or pino-pretty for people at a terminal), with API keys
// and Authorization headers redacted wherever a caller puts them. Never decides on its own whether output
// is pretty: the caller knows if stdout is a terminal. pino-pretty is loaded only for a pretty logger, so
// a daemon writing JSON never pays for it (nor for its dependencies) in memory or start-up time.

import { createRequire } from "node:module";
import pino from "pino";
import type PinoPretty from "pino-pretty";
import type { LogLevel } from "./config/types.js";

type PrettyFactory = typeof PinoPretty;

export type Logger = pino.Logger;

export const SERVICE_NAME = "sendgrid-sso-certs";

/** Where secrets could appear in a log object; any other secret must simply never be logged. */
export const REDACT_PATHS: readonly string[] = [
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "Authorization",
  "*.Authorization",
  "headers.Authorization",
  "*.headers.Authorization",
  "apiKey",
  "*.apiKey",
  "api_key",
  "*.api_key",
];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Human-readable lines instead of JSON. */
  readonly pretty?: boolean;
  /** Defaults to stdout, written synchronously. */
  readonly destination?: pino.DestinationStream;
}

/** pino-pretty, loaded on first use; synchronous so that createLogger stays synchronous. */
function loadPretty(): PrettyFactory {
  const loaded = createRequire(import.meta.url)("pino-pretty") as PrettyFactory | { default: PrettyFactory };
  return "default" in loaded ? loaded.default : loaded;
}

export function createLogger(options: LoggerOptions): Logger {
  // Synchronous writes: a daemon that crashes must not lose the lines that explain why.
  const destination = options.destination ?? pino.destination({ dest: 1, sync: true });
  const stream = options.pretty
    ? loadPretty()({
        sync: true,
        destination,
        // Colour only for a terminal: escape codes in a file or a test's buffer are noise.
        colorize: ((options.destination ?? process.stdout) as { isTTY?: boolean }).isTTY === true,
        ignore: "pid,hostname,service",
        translateTime: "SYS:standard",
      })
    : destination;
  return pino(
    {
      level: options.level,
      base: { service: SERVICE_NAME },
      redact: { paths: [...REDACT_PATHS], censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not numbers, so log queries read like the config's log_level.
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
}
