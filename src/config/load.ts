// Finds and reads the config file, applies environment overrides, validates, and returns either the
// resolved Config or every problem at once, one line each. Never throws for a user's mistake and never
// lets an API key into a problem or warning.

import { existsSync, readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseDocument } from "yaml";
import { applyEnvOverrides } from "./env.js";
import {
  configErrorMap,
  formatIssue,
  formatPath,
  fsErrorText,
  looksLikeApiKey,
  problemLine,
  withoutKeyShapes,
  yamlErrorText,
} from "./problems.js";
import { createConfigSchema, DEFAULT_ACCOUNTS, isMapping, type SecretSpec } from "./schema.js";
import { envSecret, fileSecret, inlineSecret } from "./secrets.js";
import type { Config, SecretSource } from "./types.js";

/** Looked for under the working directory when no file is given. */
export const DEFAULT_CONFIG_FILE = "config/config.yaml";
/** Config.source when there is no config file. */
export const ENVIRONMENT_SOURCE = "environment";

export interface LoadOptions {
  /** `--config FILE`, relative to cwd; null or absent: DEFAULT_CONFIG_FILE when present, else none. */
  readonly file?: string | null;
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
}

export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[]; readonly source: string };

export function loadConfig(options: LoadOptions): LoadResult {
  const cwd = resolve(options.cwd);
  const file = locateFile(options.file ?? null, cwd);
  const source = file ?? ENVIRONMENT_SOURCE;

  let document: unknown = {};
  if (file !== null) {
    const read = readDocument(file);
    if (!read.ok) return { ok: false, problems: read.problems.map(withoutKeyShapes), source };
    document = read.document ?? {};
  }

  const problems: string[] = [];
  let origins = new Map<string, string>();
  if (isMapping(document)) {
    if (file !== null) resolveFileRelativePaths(document, dirname(file));
    const overridden = applyEnvOverrides(document, options.env, DEFAULT_ACCOUNTS);
    origins = overridden.origins;
    problems.push(...overridden.problems);
  }

  const secrets = knownKeyValues(document, options.env);
  const secret = (spec: SecretSpec) => {
    const opened = openSecret(spec, options.env);
    try {
      secrets.add(opened.read());
    } catch {
      // The schema reads it again and reports why it is unavailable.
    }
    return opened;
  };
  const result = createConfigSchema({ cwd, secret }).safeParse(document, { error: configErrorMap });
  if (!result.success) {
    problems.push(...result.error.issues.flatMap((issue) => formatIssue(issue, document, origins)));
  }
  const scrub = (lines: string[]) => [...new Set(lines.map((line) => withoutSecrets(line, secrets)))];
  if (!result.success || problems.length > 0) return { ok: false, problems: scrub(problems), source };
  return {
    ok: true,
    config: { ...result.data, source },
    warnings: scrub(inlineKeyWarnings(document, origins)),
  };
}

/**
 * Key values that problem lines must not repeat, wherever the user pasted them (a key in base_url, say).
 * Values from api_key_file are added as the schema reads them.
 */
function knownKeyValues(document: unknown, env: Record<string, string | undefined>): Set<string> {
  const values = new Set<string>();
  const fromEnv = (holder: Record<string, unknown>, key: string) => {
    const variable = typeof holder[key] === "string" ? env[holder[key]] : undefined;
    if (variable !== undefined) values.add(variable.trim());
  };
  const accounts = isMapping(document) && Array.isArray(document.accounts) ? document.accounts : [];
  for (const account of accounts) {
    if (!isMapping(account)) continue;
    if (typeof account.api_key === "string") values.add(account.api_key.trim());
    fromEnv(account, "api_key_env");
  }
  for (const source of ruleSources(document)) {
    for (const key of IDP_SECRET_ENV_KEYS) fromEnv(source, key);
  }
  return values;
}

/** The IdP sources' keys that name a secret's environment variable. */
const IDP_SECRET_ENV_KEYS = ["api_token_env", "client_secret_env"] as const;
/** Keys of a rule's source that hold a file path, resolved against the config file's directory. */
const SOURCE_PATH_KEYS = [
  "path",
  "api_token_file",
  "client_secret_file",
  "signing_certificate_file",
] as const;

function ruleSources(document: unknown): Record<string, unknown>[] {
  const rotation = isMapping(document) ? document.rotation : undefined;
  const rules = isMapping(rotation) && Array.isArray(rotation.integrations) ? rotation.integrations : [];
  return rules.flatMap((rule) => (isMapping(rule) && isMapping(rule.source) ? [rule.source] : []));
}

function withoutSecrets(line: string, secrets: ReadonlySet<string>): string {
  let text = line;
  // Short values are left alone: replacing "a" everywhere would garble messages, and no API key is short.
  for (const value of secrets) if (value.length >= 8) text = text.replaceAll(value, "[redacted]");
  return withoutKeyShapes(text);
}

function locateFile(file: string | null, cwd: string): string | null {
  if (file !== null) return resolve(cwd, file);
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : null;
}

function readDocument(file: string): { ok: true; document: unknown } | { ok: false; problems: string[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return { ok: false, problems: [`config file ${file} ${fsErrorText(error)}`] };
  }

  // Warnings (an unknown !tag, say) leave a plain value that validation then judges; only errors count.
  const parsed = parseDocument(text, { uniqueKeys: true, logLevel: "error" });
  if (parsed.errors.length > 0) {
    // One line per source line: an unquoted `*/5 * * * *` alone makes four errors on one line.
    const byLine = new Map<number, string>();
    for (const error of parsed.errors) {
      const at = error.linePos?.[0] ?? { line: 0, col: 0 };
      if (!byLine.has(at.line))
        byLine.set(at.line, `${file}:${at.line}:${at.col}: ${yamlProblem(error.message)}`);
    }
    return { ok: false, problems: [...byLine.values()] };
  }
  try {
    return { ok: true, document: parsed.toJS() as unknown };
  } catch (error) {
    // Unresolved aliases and alias bombs only surface when the document is turned into values.
    return {
      ok: false,
      problems: [`${file}: ${yamlErrorText(error instanceof Error ? error.message : String(error))}`],
    };
  }
}

function yamlProblem(message: string): string {
  const text = yamlErrorText(message);
  return /alias/i.test(text) ? `${text} (quote values that start with * or &, e.g. "*/5 * * * *")` : text;
}

/**
 * Paths written in the file are relative to the file, so a config and the files it names move together.
 * Defaults and environment values stay relative to the working directory; the schema resolves those.
 */
function resolveFileRelativePaths(document: Record<string, unknown>, directory: string): void {
  const resolveKey = (holder: unknown, key: string) => {
    if (!isMapping(holder)) return;
    const value = holder[key];
    if (typeof value === "string" && value.trim() !== "" && !looksLikeApiKey(value)) {
      holder[key] = resolve(directory, value.trim());
    }
  };
  const listAt = (holder: unknown, key: string): unknown[] =>
    isMapping(holder) && Array.isArray(holder[key]) ? holder[key] : [];

  resolveKey(document, "state_dir");
  for (const account of listAt(document, "accounts")) resolveKey(account, "api_key_file");
  for (const source of ruleSources(document)) {
    for (const key of SOURCE_PATH_KEYS) resolveKey(source, key);
  }
  if (isMapping(document.web)) {
    resolveKey(document.web, "bearer_token_file");
    resolveKey(document.web.tls_server_config, "cert_file");
    resolveKey(document.web.tls_server_config, "key_file");
  }
}

function openSecret(spec: SecretSpec, env: Record<string, string | undefined>): SecretSource {
  switch (spec.kind) {
    case "env":
      return envSecret(spec.name, env);
    case "file":
      return fileSecret(spec.path);
    case "value":
      return inlineSecret(spec.value);
  }
}

function inlineKeyWarnings(document: unknown, origins: ReadonlyMap<string, string>): string[] {
  const accounts = isMapping(document) && Array.isArray(document.accounts) ? document.accounts : [];
  return accounts.flatMap((account, index) => {
    const path = ["accounts", index, "api_key"];
    if (!isMapping(account) || account.api_key === undefined || origins.has(formatPath(path))) return [];
    return [
      problemLine(
        path,
        "the API key is written in the config file; prefer api_key_env or api_key_file",
        origins,
      ),
    ];
  });
}
