// The resolved configuration every other module receives: camelCase, durations in milliseconds, paths
// absolute, secrets behind a SecretSource. Types only; nothing here reads files or the environment.

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Where an API key lives. The key itself is only ever returned by read(), never by describe(). */
export interface SecretSource {
  /** For messages and logs: "env SENDGRID_API_KEY", "file /run/secrets/x", "api_key in the config file". */
  describe(): string;
  /** The current value; throws SecretUnavailableError when it is gone (unset variable, deleted file). */
  read(): string;
}

export interface AccountConfig {
  /** Unique; safe as a metric label value. */
  readonly name: string;
  /** No trailing slash, e.g. https://api.sendgrid.com */
  readonly baseUrl: string;
  /** Subuser to act for (`on-behalf-of` header), or null for the account itself. */
  readonly onBehalfOf: string | null;
  readonly apiKey: SecretSource;
}

export type RotateBefore =
  | { readonly kind: "duration"; readonly ms: number }
  /** A share of the best certificate's lifetime, 1..99. */
  | { readonly kind: "percent"; readonly percent: number };

export type IntegrationMatch = { readonly id: string } | { readonly name: string };

export interface FileSource {
  readonly type: "file";
  /** Absolute. */
  readonly path: string;
}

export interface MetadataSource {
  readonly type: "metadata";
  /** https, or http to a loopback host. */
  readonly url: string;
  /** Which entity of the document to read; null: the document must hold exactly one IdP. */
  readonly entityId: string | null;
  /** Refuse documents that carry no XML signature. */
  readonly requireSignature: boolean;
  /** Absolute path of a pinned metadata signer (PEM); null: a certificate SendGrid trusts for the integration. */
  readonly signingCertificateFile: string | null;
}

/** Keys the tool generates at the IdP (`manage_keys`), and for how long. */
export interface KeyManagement {
  readonly manageKeys: boolean;
  readonly validityYears: number;
}

export interface OktaSource extends KeyManagement {
  readonly type: "okta";
  /** e.g. https://example.okta.com, no trailing slash. */
  readonly orgUrl: string;
  readonly appId: string;
  /** Sent as `Authorization: SSWS <token>`, read afresh for every request. */
  readonly apiToken: SecretSource;
}

export interface EntraSource extends KeyManagement {
  readonly type: "entra";
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: SecretSource;
  /** The enterprise application's service principal object id. */
  readonly servicePrincipalId: string;
  /** No trailing slash; default https://login.microsoftonline.com. */
  readonly authorityUrl: string;
  /** No trailing slash; default https://graph.microsoft.com. */
  readonly graphUrl: string;
}

export type IdpSource = OktaSource | EntraSource;

export type CertificateSource = FileSource | MetadataSource | IdpSource;

export interface RotationRule {
  /** The account this rule applies to, or null for any configured account. */
  readonly account: string | null;
  readonly match: IntegrationMatch;
  readonly source: CertificateSource;
  /** The rule's own value when it sets one, else rotation.rotate_before. */
  readonly rotateBefore: RotateBefore;
  /** The rule's own value when it sets one, else rotation.overlap. */
  readonly overlapMs: number;
}

export interface RotationConfig {
  readonly enabled: boolean;
  readonly dryRun: boolean;
  readonly rotateBefore: RotateBefore;
  readonly overlapMs: number;
  /** null: never delete disabled certificates. */
  readonly deleteDisabledAfterMs: number | null;
  readonly maxRotationsPerCycle: number;
  readonly integrations: readonly RotationRule[];
}

export const TLS_MIN_VERSIONS = ["TLS12", "TLS13"] as const;
export type TlsMinVersion = (typeof TLS_MIN_VERSIONS)[number];

export interface TlsServerConfig {
  /** PEM certificate (chain) and private key, re-read when they change. */
  readonly cert: SecretSource;
  readonly key: SecretSource;
  readonly minVersion: TlsMinVersion;
}

/** Protection of the endpoints on `listen`, shaped like the Prometheus exporter-toolkit web config. */
export interface WebConfig {
  /** null: plain HTTP. */
  readonly tls: TlsServerConfig | null;
  /** User name -> bcrypt hash; empty: no basic auth. */
  readonly basicAuthUsers: ReadonlyMap<string, string>;
  /** null: no bearer token. Either configured method lets a request in. */
  readonly bearerToken: SecretSource | null;
}

export interface Config {
  readonly accounts: readonly AccountConfig[];
  /** A node-cron expression (5 or 6 fields). */
  readonly schedule: string;
  readonly listen: { readonly host: string; readonly port: number };
  readonly thresholds: { readonly warningMs: number; readonly criticalMs: number };
  readonly http: { readonly timeoutMs: number; readonly maxConcurrency: number; readonly maxRetries: number };
  /** Absolute. */
  readonly stateDir: string;
  readonly logLevel: LogLevel;
  readonly metrics: { readonly exposeRelative: boolean };
  readonly rotation: RotationConfig;
  readonly web: WebConfig;
  /** Where the configuration came from: the config file's absolute path, or "environment". */
  readonly source: string;
}
