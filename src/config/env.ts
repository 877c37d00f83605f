// Environment overrides applied to the parsed YAML document before validation, so a value from the
// environment is checked exactly like one from the file. Records which variable set which key path so
// problems can name the variable. Never reads a variable that is not an override.

import { parse as parseYaml, parseDocument } from "yaml";
import { isMapping } from "./schema.js";
import { formatPath, problemLine, yamlErrorText, type KeyPath } from "./problems.js";

/** `SSO_CERTS__ROTATION__ENABLED=true` sets rotation.enabled; `__` separates levels, digits index lists. */
export const ENV_PREFIX = "SSO_CERTS__";
export const BASE_URL_ENV = "SENDGRID_API_BASE_URL";
/** Short names for the settings people change most; their values are taken as plain strings. */
export const NAMED_ENV: Readonly<Record<string, string>> = {
  SCHEDULE: "schedule",
  LISTEN: "listen",
  STATE_DIR: "state_dir",
  LOG_LEVEL: "log_level",
};

export interface EnvOverrideResult {
  /** Key path (as formatPath writes it) -> the variable that set it. */
  readonly origins: Map<string, string>;
  readonly problems: string[];
}

interface Override {
  readonly variable: string;
  readonly path: KeyPath;
  readonly value: unknown;
}

const FORBIDDEN_SEGMENTS = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Applies, in order of increasing precedence: the named variables, SENDGRID_API_BASE_URL (every account),
 * then the generic SSO_CERTS__ variables, shallow before deep so the most specific one wins.
 * An empty variable counts as unset, as `KEY=` in a compose file usually means "not set".
 */
export function applyEnvOverrides(
  document: Record<string, unknown>,
  env: Record<string, string | undefined>,
  defaultAccounts: readonly object[],
): EnvOverrideResult {
  const origins = new Map<string, string>();
  const problems: string[] = [];
  const present = (name: string) => env[name] !== undefined && env[name].trim() !== "";

  const overrides: Override[] = Object.entries(NAMED_ENV)
    .filter(([variable]) => present(variable))
    .map(([variable, key]) => ({ variable, path: [key], value: env[variable] }));

  const generic = Object.keys(env)
    .filter((variable) => variable.startsWith(ENV_PREFIX) && present(variable))
    .flatMap((variable): Override[] => {
      const segments = variable.slice(ENV_PREFIX.length).split("__");
      if (segments.some((segment) => segment === "")) {
        problems.push(`${variable}: empty level in the name (use ${ENV_PREFIX}SECTION__KEY)`);
        return [];
      }
      const path = segments.map((segment) =>
        /^\d+$/.test(segment) ? Number(segment) : segment.toLowerCase(),
      );
      const value = envValue(env[variable]!);
      if (!value.ok) {
        problems.push(envProblem(path, variable, value.message));
        return [];
      }
      return [{ variable, path, value: value.value }];
    })
    .sort((a, b) => a.path.length - b.path.length || a.variable.localeCompare(b.variable));

  // Overriding one account's setting with no accounts written down means overriding the default account.
  if (present(BASE_URL_ENV) || generic.some((override) => override.path[0] === "accounts")) {
    document.accounts ??= defaultAccounts.map((account) => ({ ...account }));
  }
  if (present(BASE_URL_ENV) && Array.isArray(document.accounts)) {
    document.accounts.forEach((account, index) => {
      if (isMapping(account)) {
        overrides.push({
          variable: BASE_URL_ENV,
          path: ["accounts", index, "base_url"],
          value: env[BASE_URL_ENV],
        });
      }
    });
  }
  overrides.push(...generic);

  for (const override of overrides) {
    const outcome = setAt(document, override.path, override.value);
    if (typeof outcome === "string") {
      problems.push(envProblem(override.path, override.variable, outcome));
      continue;
    }
    // A mapping the variable had to create is its doing too: `no (from SSO_CERTS__NO__KEY): unknown key`.
    for (const created of outcome) {
      if (!origins.has(formatPath(created))) origins.set(formatPath(created), override.variable);
    }
    origins.set(formatPath(override.path), override.variable);
  }
  return { origins, problems };
}

function envProblem(path: KeyPath, variable: string, message: string): string {
  return problemLine(path, message, new Map([[formatPath(path), variable]]));
}

/** YAML scalars so `true` and `3` get their types; flow collections (`[...]`, `{...}`) for whole lists. */
function envValue(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed.startsWith("[") || trimmed.startsWith("{")) {
    const document = parseDocument(trimmed, { logLevel: "error" });
    const error = document.errors[0];
    if (error !== undefined)
      return { ok: false, message: `is not valid YAML: ${yamlErrorText(error.message)}` };
    return { ok: true, value: document.toJS() as unknown };
  }
  try {
    const value: unknown = parseYaml(trimmed, { logLevel: "error" });
    const scalar = value === null || ["string", "number", "boolean"].includes(typeof value);
    return { ok: true, value: scalar ? value : text };
  } catch {
    // Not YAML (e.g. "*/5 * * * *", where YAML sees aliases): the text is the value.
    return { ok: true, value: text };
  }
}

/** Creates missing mappings on the way and returns their paths, or says why the path cannot be set. */
function setAt(document: Record<string, unknown>, path: KeyPath, value: unknown): KeyPath[] | string {
  const created: KeyPath[] = [];
  let container: unknown = document;
  for (let depth = 0; depth < path.length; depth++) {
    const segment = path[depth]!;
    const last = depth === path.length - 1;
    if (typeof segment === "string" && FORBIDDEN_SEGMENTS.has(segment)) return "unknown key";

    if (Array.isArray(container)) {
      if (typeof segment !== "number") return `${formatPath(path.slice(0, depth))} is a list: use an index`;
      if (segment >= container.length) {
        return `${formatPath(path.slice(0, depth))} has ${container.length} item(s), so there is no [${segment}]`;
      }
      if (last) container[segment] = value;
      else container = container[segment];
      continue;
    }
    if (!isMapping(container)) return `${formatPath(path.slice(0, depth))} is not a mapping`;
    const key = String(segment);
    if (last) {
      container[key] = value;
    } else {
      if (container[key] === undefined || container[key] === null) {
        if (typeof path[depth + 1] === "number")
          return `${formatPath(path.slice(0, depth + 1))} is not a list`;
        container[key] = {};
        created.push(path.slice(0, depth + 1));
      }
      container = container[key];
    }
  }
  return created;
}
