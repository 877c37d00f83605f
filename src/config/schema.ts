// The configuration file's grammar: snake_case keys, defaults as named constants, every rule a user can
// break checked here with a message that names the fix. Turns a YAML document into the resolved Config.
// Reads no file and no environment variable itself: API key sources come from the loader's context.

import { resolve as resolvePath } from "node:path";
import { validateDetailed } from "node-cron";
import { z } from "zod";
import { DurationError, formatDuration, parseDuration } from "../core/durations.js";
import { isPrivateKeyLabel, pemLabels } from "../certs/validate.js";
import { parseCertificate } from "../certs/parse.js";
import { looksLikeApiKey } from "./problems.js";
import { SecretUnavailableError } from "./secrets.js";
import { insecureUrlProblem } from "./url-policy.js";
import {
  LOG_LEVELS,
  type AccountConfig,
  type CertificateSource,
  type Config,
  type EntraSource,
  type IntegrationMatch,
  type MetadataSource,
  type OktaSource,
  type RotateBefore,
  type RotationConfig,
  type SecretSource,
  type TlsServerConfig,
  type WebConfig,
  TLS_MIN_VERSIONS,
} from "./types.js";

export const DEFAULT_ACCOUNT_NAME = "default";
export const DEFAULT_API_KEY_ENV = "SENDGRID_API_KEY";
/** Used when the configuration names no accounts, e.g. when there is no config file at all. */
export const DEFAULT_ACCOUNTS: ReadonlyArray<{ readonly name: string; readonly api_key_env: string }> = [
  { name: DEFAULT_ACCOUNT_NAME, api_key_env: DEFAULT_API_KEY_ENV },
];
export const REGION_BASE_URLS = {
  global: "https://api.sendgrid.com",
  eu: "https://api.eu.sendgrid.com",
} as const;
export const DEFAULT_REGION = "global";
export const DEFAULT_SCHEDULE = "*/5 * * * *";
export const DEFAULT_LISTEN = "0.0.0.0:9469";
export const DEFAULT_WARNING = "30d";
export const DEFAULT_CRITICAL = "7d";
export const DEFAULT_HTTP_TIMEOUT = "15s";
export const DEFAULT_MAX_CONCURRENCY = 4;
export const DEFAULT_MAX_RETRIES = 5;
export const DEFAULT_STATE_DIR = "./data";
export const DEFAULT_LOG_LEVEL = "info";
export const DEFAULT_EXPOSE_RELATIVE = false;
export const DEFAULT_ROTATION_ENABLED = false;
export const DEFAULT_DRY_RUN = false;
export const DEFAULT_ROTATE_BEFORE = "30d";
export const DEFAULT_OVERLAP = "24h";
export const DEFAULT_DELETE_DISABLED_AFTER = "never";
export const DEFAULT_MAX_ROTATIONS_PER_CYCLE = 5;
export const DEFAULT_TLS_MIN_VERSION = "TLS12";
export const DEFAULT_MANAGE_KEYS = false;
/** Okta's Apps API generates app signing keys valid for 2 to 10 years. */
export const OKTA_VALIDITY_YEARS = { default: 2, min: 2, max: 10 } as const;
/** Graph's addTokenSigningCertificate issues certificates valid for up to 3 years. */
export const ENTRA_VALIDITY_YEARS = { default: 3, min: 1, max: 3 } as const;
export const DEFAULT_ENTRA_AUTHORITY_URL = "https://login.microsoftonline.com";
export const DEFAULT_GRAPH_URL = "https://graph.microsoft.com";

/** Account names become metric label values and file names in the journal. */
export const ACCOUNT_NAME_PATTERN = /^[A-Za-z0-9_.-]+$/;
const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Ids the tool writes into a URL path: no `/`, `?`, `%` or `..` can reach the request line. */
const PATH_ID_PATTERN = /^[A-Za-z0-9_.-]+$/;

export type SecretSpec =
  | { readonly kind: "env"; readonly name: string }
  | { readonly kind: "file"; readonly path: string }
  | { readonly kind: "value"; readonly value: string };

export interface SchemaContext {
  /** Resolves the relative paths still left in the document (defaults and environment values). */
  readonly cwd: string;
  /**
   * Builds the source of a secret (an account's key, the bearer token, the TLS files); the schema reads
   * it once to prove it is there.
   */
  readonly secret: (spec: SecretSpec) => SecretSource;
}

/** The resolved configuration minus `source`, which only the loader knows. */
export type ParsedConfig = Omit<Config, "source">;

/** A value for a message; one shaped like an API key is never repeated, whichever key it was put under. */
function quote(text: string): string {
  if (looksLikeApiKey(text)) return "the value (hidden: it looks like an API key)";
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
}

function fail(ctx: z.RefinementCtx, message: string, path: PropertyKey[] = []): never {
  ctx.addIssue({ code: "custom", message, path });
  return z.NEVER;
}

/** The secret's source, read once so a missing secret is a problem at start-up, not at its first use. */
function readableSecret(
  context: SchemaContext,
  ctx: z.RefinementCtx,
  spec: SecretSpec,
  path: PropertyKey[],
): SecretSource | null {
  const source = context.secret(spec);
  try {
    source.read();
    return source;
  } catch (error) {
    if (!(error instanceof SecretUnavailableError)) throw error;
    ctx.addIssue({ code: "custom", message: error.message, path });
    return null;
  }
}

/** One `[key, spec]` per way the user may give a secret; spec null where that key is absent. */
type SecretChoice = readonly [key: string, spec: SecretSpec | null];

/** The secret behind the one key of `choices` the user gave; an issue when they gave none or several. */
function oneSecret(
  context: SchemaContext,
  ctx: z.RefinementCtx,
  choices: readonly SecretChoice[],
): SecretSource | null {
  const given = choices.filter(([, spec]) => spec !== null);
  if (given.length !== 1) {
    ctx.addIssue({
      code: "custom",
      message: `give exactly one of ${choices.map(([key]) => key).join(", ")}`,
    });
    return null;
  }
  const [key, spec] = given[0]!;
  return readableSecret(context, ctx, spec!, [key]);
}

function envChoice(key: string, name: string | undefined): SecretChoice {
  return [key, name === undefined ? null : { kind: "env", name }];
}

function fileChoice(context: SchemaContext, key: string, path: string | undefined): SecretChoice {
  return [key, path === undefined ? null : { kind: "file", path: resolvePath(context.cwd, path) }];
}

/**
 * A mapping whose unknown keys are errors, one per key and with a suggestion, so a typo like
 * `rotation.enabeld` cannot silently fall back to a default. The check runs even when other keys are
 * invalid, because every problem is reported at once.
 */
function strict<T extends z.core.$ZodLooseShape>(shape: T) {
  const known = Object.keys(shape);
  return z.looseObject(shape).superRefine(
    (value, ctx) => {
      for (const key of Object.keys(value)) {
        if (!known.includes(key))
          ctx.addIssue({ code: "custom", message: unknownKey(key, known), path: [key] });
      }
    },
    { when: (payload) => isMapping(payload.value) },
  );
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unknownKey(key: string, known: readonly string[]): string {
  const typed = key.toLowerCase();
  const near = known
    .map((candidate) => ({ candidate, distance: editDistance(typed, candidate) }))
    .filter(
      ({ candidate, distance }) => distance <= (typed.length <= 4 ? 1 : 2) || sharesStem(typed, candidate),
    )
    .sort((a, b) => a.distance - b.distance)[0];
  return near === undefined
    ? `unknown key (expected one of: ${known.join(", ")})`
    : `unknown key (did you mean ${near.candidate}?)`;
}

/** "max_retry" for "max_retries": a singular or a cut-off word is further than two edits away. */
function sharesStem(typed: string, candidate: string): boolean {
  const stem = typed.slice(0, -1);
  return stem.length >= 4 && candidate.startsWith(stem);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** A key left empty (`rotation:` with everything below commented out) means its default, like an absent one. */
function orDefault<T extends z.ZodType>(schema: T, value: z.input<T>) {
  return z.preprocess((input) => (input === null ? undefined : input), schema.prefault(value));
}

// Piped: zod checks the length of a list given where a string belongs, which would add a second,
// misleading "must not be empty" to the "expected a string".
const nonEmpty = z.string().pipe(z.string().trim().min(1, "must not be empty"));

/** Not z.int(): its failure aborts the object, which would hide an unknown-key typo next to it. */
function wholeNumber(minimum: number, maximum = Number.MAX_SAFE_INTEGER, rangeMessage?: string) {
  return z
    .number()
    .min(minimum, rangeMessage)
    .max(maximum, rangeMessage)
    .superRefine((value, ctx) => {
      if (!Number.isSafeInteger(value)) {
        ctx.addIssue({ code: "custom", message: `expected a whole number, got ${value}` });
      }
    });
}

const durationText = z.string({ error: "expected a duration (use e.g. 90s, 15m, 24h, 30d)" });

function parseDurationOrFail(text: string, ctx: z.RefinementCtx): number {
  try {
    return parseDuration(text);
  } catch (error) {
    if (error instanceof DurationError) {
      return fail(ctx, looksLikeApiKey(text) ? `${quote(text)} is not a duration` : error.message);
    }
    throw error;
  }
}

function duration(options: { positive: boolean }) {
  return durationText.transform((text, ctx) => {
    const ms = parseDurationOrFail(text, ctx);
    return options.positive && ms === 0 ? fail(ctx, "must be longer than 0s") : ms;
  });
}

const rotateBefore = durationText.transform((text, ctx): RotateBefore => {
  const percent = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  if (percent !== null) {
    const value = Number(percent[1]);
    return value >= 1 && value <= 99
      ? { kind: "percent", percent: value }
      : fail(ctx, `${quote(text)} is out of range: a share of the lifetime must be 1% to 99%`);
  }
  if (!/^\s*\d/.test(text)) {
    return fail(ctx, `${quote(text)} is neither a duration nor a percentage (use e.g. 30d or 33%)`);
  }
  const ms = parseDurationOrFail(text, ctx);
  return ms === 0 ? fail(ctx, "must be longer than 0s") : { kind: "duration", ms };
});

const deleteAfter = durationText.transform((text, ctx) =>
  text.trim() === "never" ? null : parseDurationOrFail(text, ctx),
);

/** `base` URLs take no query and lose a trailing slash, so paths can be appended to them. */
function httpUrl(options: { base: boolean }) {
  return z.string().transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text.trim());
    } catch {
      return fail(ctx, `${quote(text)} is not a URL`);
    }
    if (url.username !== "" || url.password !== "") {
      return fail(ctx, "must not contain a user name or password (they would end up in logs)");
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      return fail(ctx, `${quote(text)} is not an http(s) URL`);
    }
    // Every configured URL receives a secret or hands back certificates, so none may travel in clear.
    const insecure = insecureUrlProblem(url);
    if (insecure !== null) return fail(ctx, `${quote(text)}: ${insecure}`);
    if (!options.base) return url.href;
    if (url.search !== "" || url.hash !== "")
      return fail(ctx, `${quote(text)} must not have a query or fragment`);
    return url.origin + url.pathname.replace(/\/+$/, "");
  });
}

const schedule = z.string().superRefine((expression, ctx) => {
  const result = validateDetailed(expression);
  if (!result.valid) {
    const why = result.errors.map((error) => error.message).join("; ");
    ctx.addIssue({ code: "custom", message: `${quote(expression)} is not a valid cron expression: ${why}` });
  }
});

const listen = z
  .string({ error: 'expected host:port in quotes, e.g. "0.0.0.0:9469"' })
  .transform((text, ctx) => {
    const match = /^(?:\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]|([A-Za-z0-9.-]*)):(\d{1,5})$/.exec(text.trim());
    if (match === null) {
      return fail(ctx, `${quote(text)} is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)`);
    }
    const port = Number(match[3]);
    if (port > 65_535) return fail(ctx, `${quote(text)}: port must be 0 to 65535`);
    // ":port" binds like the default 0.0.0.0: every IPv4 interface, and works where IPv6 is disabled.
    const host = match[1] ?? (match[2] === "" ? "0.0.0.0" : match[2]!);
    return { host, port };
  });

const logLevel = z.preprocess(
  (value) => (typeof value === "string" ? value.trim().toLowerCase() : value),
  z.enum(LOG_LEVELS),
);

const envName = z
  .string()
  .regex(ENV_NAME_PATTERN, "must be the name of an environment variable (letters, digits, _), not a key");

const secretFilePath = nonEmpty.refine(
  (path) => !looksLikeApiKey(path),
  "looks like an API key, not a file path",
);

function accountSchema(context: SchemaContext) {
  return strict({
    name: z.string().regex(ACCOUNT_NAME_PATTERN, "may only contain letters, digits, _, . and -"),
    api_key_env: envName.optional(),
    api_key_file: secretFilePath.optional(),
    api_key: nonEmpty.optional(),
    base_url: httpUrl({ base: true }).nullable().optional(),
    region: orDefault(z.enum(["global", "eu"]), DEFAULT_REGION),
    on_behalf_of: nonEmpty.nullable().prefault(null),
  }).transform((raw, ctx): AccountConfig => {
    const apiKey = oneSecret(context, ctx, [
      envChoice("api_key_env", raw.api_key_env),
      fileChoice(context, "api_key_file", raw.api_key_file),
      ["api_key", raw.api_key === undefined ? null : { kind: "value", value: raw.api_key }],
    ]);
    if (apiKey === null) return z.NEVER;
    return {
      name: raw.name,
      baseUrl: raw.base_url ?? REGION_BASE_URLS[raw.region],
      onBehalfOf: raw.on_behalf_of,
      apiKey,
    };
  });
}

function accountsSchema(context: SchemaContext) {
  return z
    .array(accountSchema(context))
    .min(1, "give at least one account")
    .superRefine((accounts, ctx) => {
      accounts.forEach((account, index) => {
        const first = accounts.findIndex((other) => other.name === account.name);
        if (first !== index) {
          ctx.addIssue({
            code: "custom",
            message: `${quote(account.name)} is already the name of accounts[${first}]; names must be unique`,
            path: [index, "name"],
          });
        }
      });
    });
}

const thresholds = strict({
  warning: orDefault(duration({ positive: true }), DEFAULT_WARNING),
  critical: orDefault(duration({ positive: false }), DEFAULT_CRITICAL),
}).transform(({ warning, critical }, ctx) =>
  warning > critical
    ? { warningMs: warning, criticalMs: critical }
    : fail(
        ctx,
        `must be longer than thresholds.critical (${formatDuration(warning)} is not longer than ${formatDuration(critical)})`,
        ["warning"],
      ),
);

const http = strict({
  timeout: orDefault(duration({ positive: true }), DEFAULT_HTTP_TIMEOUT),
  max_concurrency: orDefault(wholeNumber(1), DEFAULT_MAX_CONCURRENCY),
  max_retries: orDefault(wholeNumber(0), DEFAULT_MAX_RETRIES),
}).transform((raw) => ({
  timeoutMs: raw.timeout,
  maxConcurrency: raw.max_concurrency,
  maxRetries: raw.max_retries,
}));

const metrics = strict({
  expose_relative: orDefault(z.boolean(), DEFAULT_EXPOSE_RELATIVE),
}).transform((raw) => ({ exposeRelative: raw.expose_relative }));

const match = strict({
  // Ids are numbers on the wire; inside the program they are opaque strings.
  id: z.union([nonEmpty, wholeNumber(0)], { error: "expected an integration id" }).optional(),
  name: nonEmpty.optional(),
}).transform((raw, ctx): IntegrationMatch => {
  if ((raw.id === undefined) === (raw.name === undefined)) return fail(ctx, "give exactly one of id, name");
  return raw.id !== undefined ? { id: String(raw.id) } : { name: raw.name! };
});

/** An id the tool puts into a URL path (`/api/v1/apps/{id}`), so it can never add a segment or a query. */
function pathId(what: string) {
  return nonEmpty.pipe(
    z
      .string()
      .regex(PATH_ID_PATTERN, `must be ${what}: letters, digits, ., _ and - only`)
      .refine((id) => id !== "." && id !== "..", `must be ${what}`),
  );
}

function keyManagement(
  range: { readonly default: number; readonly min: number; readonly max: number },
  idp: string,
) {
  return {
    manage_keys: orDefault(z.boolean(), DEFAULT_MANAGE_KEYS),
    validity_years: orDefault(
      wholeNumber(range.min, range.max, `${idp} accepts ${range.min} to ${range.max} years`),
      range.default,
    ),
  };
}

/**
 * A pinned metadata signer: read once here so a wrong file stops start-up, and again by the metadata
 * source at each fetch so a replaced file is honoured. It must be a certificate and nothing more: a
 * private key has no business on the machine that only verifies.
 */
function signerCertificateFile(context: SchemaContext) {
  return nonEmpty.transform((written, ctx) => {
    const path = resolvePath(context.cwd, written);
    const text = readableSecret(context, ctx, { kind: "file", path }, [])?.read();
    if (text === undefined) return z.NEVER;
    if (pemLabels(text).some(isPrivateKeyLabel)) {
      return fail(ctx, `file ${path} holds a private key; give only the signer's certificate`);
    }
    if (!pemLabels(text).includes("CERTIFICATE")) {
      return fail(ctx, `file ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    }
    const parsed = parseCertificate(text);
    return parsed.ok ? path : fail(ctx, `file ${path}: ${parsed.failure.message}`);
  });
}

function sourceSchema(context: SchemaContext) {
  const file = strict({ type: z.literal("file"), path: nonEmpty }).transform((raw): CertificateSource => ({
    type: "file",
    path: resolvePath(context.cwd, raw.path),
  }));

  const metadata = strict({
    type: z.literal("metadata"),
    url: httpUrl({ base: false }),
    entity_id: nonEmpty.nullable().prefault(null),
    require_signature: orDefault(z.boolean(), false),
    signing_certificate_file: signerCertificateFile(context).nullable().prefault(null),
  }).transform((raw): MetadataSource => ({
    type: "metadata",
    url: raw.url,
    entityId: raw.entity_id,
    requireSignature: raw.require_signature,
    signingCertificateFile: raw.signing_certificate_file,
  }));

  const okta = strict({
    type: z.literal("okta"),
    org_url: httpUrl({ base: true }),
    app_id: pathId("an Okta app id, e.g. 0oa1b2c3d4e5f6g7h8i9"),
    api_token_env: envName.optional(),
    api_token_file: secretFilePath.optional(),
    ...keyManagement(OKTA_VALIDITY_YEARS, "Okta"),
  }).transform((raw, ctx): OktaSource => {
    const apiToken = oneSecret(context, ctx, [
      envChoice("api_token_env", raw.api_token_env),
      fileChoice(context, "api_token_file", raw.api_token_file),
    ]);
    if (apiToken === null) return z.NEVER;
    return {
      type: "okta",
      orgUrl: raw.org_url,
      appId: raw.app_id,
      apiToken,
      manageKeys: raw.manage_keys,
      validityYears: raw.validity_years,
    };
  });

  const entra = strict({
    type: z.literal("entra"),
    tenant_id: pathId("a tenant id (a GUID, or a domain such as contoso.onmicrosoft.com)"),
    client_id: nonEmpty,
    client_secret_env: envName.optional(),
    client_secret_file: secretFilePath.optional(),
    service_principal_id: pathId("the service principal's object id (a GUID)"),
    authority_url: orDefault(httpUrl({ base: true }), DEFAULT_ENTRA_AUTHORITY_URL),
    graph_url: orDefault(httpUrl({ base: true }), DEFAULT_GRAPH_URL),
    ...keyManagement(ENTRA_VALIDITY_YEARS, "Microsoft Graph"),
  }).transform((raw, ctx): EntraSource => {
    const clientSecret = oneSecret(context, ctx, [
      envChoice("client_secret_env", raw.client_secret_env),
      fileChoice(context, "client_secret_file", raw.client_secret_file),
    ]);
    if (clientSecret === null) return z.NEVER;
    return {
      type: "entra",
      tenantId: raw.tenant_id,
      clientId: raw.client_id,
      clientSecret,
      servicePrincipalId: raw.service_principal_id,
      authorityUrl: raw.authority_url,
      graphUrl: raw.graph_url,
      manageKeys: raw.manage_keys,
      validityYears: raw.validity_years,
    };
  });

  return z.discriminatedUnion("type", [file, metadata, okta, entra]);
}

function rotationSchema(context: SchemaContext) {
  const rule = strict({
    account: z.string().regex(ACCOUNT_NAME_PATTERN, "is not an account name").nullable().prefault(null),
    match,
    source: sourceSchema(context),
    rotate_before: rotateBefore.optional(),
    overlap: duration({ positive: false }).optional(),
  });

  return strict({
    enabled: orDefault(z.boolean(), DEFAULT_ROTATION_ENABLED),
    dry_run: orDefault(z.boolean(), DEFAULT_DRY_RUN),
    rotate_before: orDefault(rotateBefore, DEFAULT_ROTATE_BEFORE),
    overlap: orDefault(duration({ positive: false }), DEFAULT_OVERLAP),
    delete_disabled_after: orDefault(deleteAfter, DEFAULT_DELETE_DISABLED_AFTER),
    max_rotations_per_cycle: orDefault(wholeNumber(1), DEFAULT_MAX_ROTATIONS_PER_CYCLE),
    integrations: orDefault(z.array(rule), []),
  }).transform((raw, ctx): RotationConfig => {
    const seen = new Map<string, number>();
    raw.integrations.forEach((entry, index) => {
      const identity = JSON.stringify([entry.account, entry.match]);
      const first = seen.get(identity);
      if (first === undefined) seen.set(identity, index);
      else {
        ctx.addIssue({
          code: "custom",
          message: `matches the same integrations as rotation.integrations[${first}]; a rule must be unambiguous`,
          path: ["integrations", index, "match"],
        });
      }
    });
    return {
      enabled: raw.enabled,
      dryRun: raw.dry_run,
      rotateBefore: raw.rotate_before,
      overlapMs: raw.overlap,
      deleteDisabledAfterMs: raw.delete_disabled_after,
      maxRotationsPerCycle: raw.max_rotations_per_cycle,
      integrations: raw.integrations.map((entry) => ({
        account: entry.account,
        match: entry.match,
        source: entry.source,
        rotateBefore: entry.rotate_before ?? raw.rotate_before,
        overlapMs: entry.overlap ?? raw.overlap,
      })),
    };
  });
}

/** As htpasswd -B and bcryptjs write it: variant, two-digit cost, 22 characters of salt, 31 of hash. */
const BCRYPT_HASH = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const BCRYPT_MIN_COST = 4;
const BCRYPT_MAX_COST = 31;
const BCRYPT_HINT = `make one with: htpasswd -nBC 10 "" | tr -d ':\\n'`;

/** Never quotes a value: the likeliest mistake is a password written where its hash belongs. */
const basicAuthUsers = z.record(z.string(), z.unknown()).transform((users, ctx) => {
  const hashes = new Map<string, string>();
  for (const [user, hash] of Object.entries(users)) {
    if (user === "" || user.includes(":")) {
      ctx.addIssue({
        code: "custom",
        message: "a user name must not be empty or contain ':' (basic auth cannot carry it)",
        path: [user],
      });
      continue;
    }
    const cost = typeof hash === "string" ? BCRYPT_HASH.exec(hash.trim())?.[1] : undefined;
    if (cost === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `is not a bcrypt hash; write the hash, never the password (${BCRYPT_HINT})`,
        path: [user],
      });
    } else if (Number(cost) < BCRYPT_MIN_COST || Number(cost) > BCRYPT_MAX_COST) {
      ctx.addIssue({
        code: "custom",
        message: `bcrypt cost ${cost} is out of range (${BCRYPT_MIN_COST} to ${BCRYPT_MAX_COST}; 10 is usual)`,
        path: [user],
      });
    } else hashes.set(user, (hash as string).trim());
  }
  return hashes;
});

function webSchema(context: SchemaContext) {
  // Read where it is written, so a missing file is reported even when a sibling key is wrong too.
  const secretFile = nonEmpty.transform(
    (path, ctx) =>
      readableSecret(context, ctx, { kind: "file", path: resolvePath(context.cwd, path) }, []) ?? z.NEVER,
  );
  const tls = strict({
    cert_file: secretFile,
    key_file: secretFile,
    min_version: orDefault(z.enum(TLS_MIN_VERSIONS), DEFAULT_TLS_MIN_VERSION),
  }).transform((raw): TlsServerConfig => ({
    cert: raw.cert_file,
    key: raw.key_file,
    minVersion: raw.min_version,
  }));

  return strict({
    tls_server_config: tls.nullable().prefault(null),
    basic_auth_users: orDefault(basicAuthUsers, {}),
    bearer_token_file: secretFile.nullable().prefault(null),
  }).transform((raw): WebConfig => ({
    tls: raw.tls_server_config,
    basicAuthUsers: raw.basic_auth_users,
    bearerToken: raw.bearer_token_file,
  }));
}

/** The whole document. Built per load because account keys and relative paths depend on the context. */
export function createConfigSchema(context: SchemaContext) {
  return strict({
    accounts: orDefault(
      accountsSchema(context),
      DEFAULT_ACCOUNTS.map((account) => ({ ...account })),
    ),
    schedule: orDefault(schedule, DEFAULT_SCHEDULE),
    listen: orDefault(listen, DEFAULT_LISTEN),
    thresholds: orDefault(thresholds, {}),
    http: orDefault(http, {}),
    state_dir: orDefault(nonEmpty, DEFAULT_STATE_DIR).transform((path) => resolvePath(context.cwd, path)),
    log_level: orDefault(logLevel, DEFAULT_LOG_LEVEL),
    metrics: orDefault(metrics, {}),
    rotation: orDefault(rotationSchema(context), {}),
    web: orDefault(webSchema(context), {}),
  }).transform((raw, ctx): ParsedConfig => {
    const names = raw.accounts.map((account) => account.name);
    raw.rotation.integrations.forEach((rule, index) => {
      if (rule.account !== null && !names.includes(rule.account)) {
        ctx.addIssue({
          code: "custom",
          message: `no account is named ${quote(rule.account)} (accounts: ${names.join(", ")})`,
          path: ["rotation", "integrations", index, "account"],
        });
      }
    });
    return {
      accounts: raw.accounts,
      schedule: raw.schedule,
      listen: raw.listen,
      thresholds: raw.thresholds,
      http: raw.http,
      stateDir: raw.state_dir,
      logLevel: raw.log_level,
      metrics: raw.metrics,
      rotation: raw.rotation,
      web: raw.web,
    };
  });
}
