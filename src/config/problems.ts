// Turns validation issues into the one-line problems a person reads at start-up:
// `thresholds.warning (from SSO_CERTS__THRESHOLDS__WARNING): "30x" is not a duration (...)`.
// Must never echo a value that could be an API key, whatever key it was written under.

import type { z } from "zod";

export type KeyPath = ReadonlyArray<string | number>;

/** `accounts[0].api_key_env`; the document itself is "(top level)". */
export function formatPath(path: readonly PropertyKey[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${segment}]`;
    else if (typeof segment === "string" && /^[A-Za-z0-9_-]+$/.test(segment)) {
      text += text === "" ? segment : `.${segment}`;
    } else text += `[${JSON.stringify(String(segment))}]`;
  }
  return text === "" ? "(top level)" : text;
}

/** Every SendGrid API key starts like this, so a value shaped like one is never echoed in a message. */
export function looksLikeApiKey(text: string): boolean {
  return /^\s*SG\./.test(text);
}

/**
 * The last line of defence for text quoted from elsewhere (a YAML parser's message names an unresolved
 * alias, which a user may have typed a key into): anything shaped like a key inside it is cut out.
 */
export function withoutKeyShapes(text: string): string {
  return text.replace(/SG\.[\w.-]+/g, "[redacted]");
}

const SENSITIVE_KEY = /key|secret|token|password|auth/i;

/** What the user wrote, for messages: quoted scalars, or only the kind of value where it may be secret. */
export function describeValue(value: unknown, path: readonly PropertyKey[]): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  const sensitive = path.some((segment) => typeof segment === "string" && SENSITIVE_KEY.test(segment));
  switch (typeof value) {
    case "object":
      return "a mapping";
    case "string":
      if (sensitive || looksLikeApiKey(value)) return "a string";
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    case "number":
    case "boolean":
      return sensitive ? `a ${typeof value}` : String(value);
    default:
      return typeof value;
  }
}

const TYPE_NAMES: Record<string, string> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a mapping",
  array: "a list",
};

/** Generic wording for the issues no schema gave its own message; values are added by formatIssue. */
export const configErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case "invalid_type":
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case "invalid_value":
      return `expected ${issue.values.length === 1 ? "" : "one of "}${issue.values.map(String).join(", ")}`;
    case "invalid_union":
      return "options" in issue && Array.isArray(issue.options)
        ? `expected one of ${issue.options.map(String).join(", ")}`
        : undefined;
    case "too_small":
      return issue.origin === "number" ? `must be at least ${String(issue.minimum)}` : undefined;
    case "too_big":
      return issue.origin === "number" ? `must be at most ${String(issue.maximum)}` : undefined;
    default:
      return undefined;
  }
};

function valueAt(document: unknown, path: readonly PropertyKey[]): unknown {
  let current = document;
  for (const segment of path) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/**
 * One problem line. `origins` maps a key path to the environment variable that set it, so a problem in
 * a value that came from the environment names the variable to fix.
 */
export function formatIssue(
  issue: z.core.$ZodIssue,
  document: unknown,
  origins: ReadonlyMap<string, string>,
): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => problemLine([...issue.path, key], "unknown key", origins));
  }
  let message = issue.message;
  if (issue.code === "invalid_type" || issue.code === "invalid_value" || issue.code === "invalid_union") {
    const value = valueAt(document, issue.path);
    message = value === undefined ? "is required" : `${message}, got ${describeValue(value, issue.path)}`;
  }
  return [problemLine(issue.path, message, origins)];
}

export function problemLine(
  path: readonly PropertyKey[],
  message: string,
  origins: ReadonlyMap<string, string>,
) {
  const text = formatPath(path);
  const origin = originOf(text, origins);
  return `${text}${origin === undefined ? "" : ` (from ${origin})`}: ${message}`;
}

function originOf(path: string, origins: ReadonlyMap<string, string>): string | undefined {
  let best: { key: string; variable: string } | undefined;
  for (const [key, variable] of origins) {
    const covers = path === key || path.startsWith(`${key}.`) || path.startsWith(`${key}[`);
    if (covers && (best === undefined || key.length >= best.key.length)) best = { key, variable };
  }
  return best?.variable;
}

/** The yaml library's message without its position and source excerpt: the excerpt may hold a secret. */
export function yamlErrorText(message: string): string {
  return message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
}

/** "does not exist", "is a directory"...: completes "file X ..." without ever quoting the file's content. */
export function fsErrorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case "ENOENT":
      return "does not exist";
    case "EACCES":
    case "EPERM":
      return "is not readable (permission denied)";
    case "EISDIR":
      return "is a directory";
    default:
      return `cannot be read (${code ?? String(error)})`;
  }
}
