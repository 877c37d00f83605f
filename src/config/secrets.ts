// The three places an API key can live (environment variable, file, inline value) behind SecretSource.
// Values sit in closures, never in properties, so logging or serialising a source cannot show the key;
// no message built here ever contains a value.

import { readFileSync, statSync } from "node:fs";
import { fsErrorText } from "./problems.js";
import type { SecretSource } from "./types.js";

export class SecretUnavailableError extends Error {
  override readonly name = "SecretUnavailableError";
  readonly code = "ERR_SECRET_UNAVAILABLE";

  /** `message` says what is wrong with the source, e.g. "environment variable X is not set". */
  constructor(
    readonly source: string,
    message: string,
  ) {
    super(message);
  }
}

function secretSource(description: string, read: () => string): SecretSource {
  return { describe: () => description, read, toJSON: () => description } as SecretSource;
}

/** Reads the variable at every call, so a process that edits its own environment is honoured. */
export function envSecret(name: string, env: Record<string, string | undefined>): SecretSource {
  const description = `env ${name}`;
  return secretSource(description, () => {
    const value = env[name];
    if (value === undefined) {
      throw new SecretUnavailableError(description, `environment variable ${name} is not set`);
    }
    const trimmed = value.trim();
    if (trimmed === "")
      throw new SecretUnavailableError(description, `environment variable ${name} is empty`);
    return trimmed;
  });
}

/**
 * Re-reads the file when it changes so a rotated, mounted secret is picked up without a restart. A stat
 * per read instead of a full read keeps a busy scan cheap; the identity includes inode and ctime because
 * Kubernetes swaps secrets by renaming a new file into place.
 */
export function fileSecret(path: string): SecretSource {
  const description = `file ${path}`;
  let cached: { stamp: string; value: string } | null = null;
  const unavailable = (what: string) => new SecretUnavailableError(description, `file ${path} ${what}`);

  return secretSource(description, () => {
    let stamp: string;
    try {
      const stat = statSync(path);
      if (stat.isDirectory()) throw unavailable("is a directory");
      stamp = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
    } catch (error) {
      throw error instanceof SecretUnavailableError ? error : unavailable(fsErrorText(error));
    }
    if (cached?.stamp === stamp) return cached.value;

    let value: string;
    try {
      value = readFileSync(path, "utf8").trim();
    } catch (error) {
      throw unavailable(fsErrorText(error));
    }
    if (value === "") throw unavailable("is empty");
    cached = { stamp, value };
    return value;
  });
}

/** An API key written into the config itself: allowed because some users insist, but discouraged. */
export function inlineSecret(value: string): SecretSource {
  const trimmed = value.trim();
  return secretSource("api_key in the configuration", () => trimmed);
}
