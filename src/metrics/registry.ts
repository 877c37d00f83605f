// Owns every metric name and label of SPEC.md on a private prom-client Registry. Certificate and
// integration series are filled in collect() from the latest snapshot at scrape time, so a series of a
// certificate that vanished is gone on the next scrape; events (requests, errors, rotations) are counters.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { REASON_CODES, type ReasonCode } from "../core/reasons.js";
import type { Evaluation } from "../core/status.js";

export interface AccountScanStats {
  readonly account: string;
  readonly lastScrapeAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly durationSeconds: number | null;
  readonly success: boolean;
}

/** What the registry reads at scrape time: the shell decides where it comes from. */
export interface MetricsSource {
  /** The evaluation of the latest (carried-forward) inventory at `now`; null before the first scan. */
  evaluation(now: Date): Evaluation | null;
  scanStats(): readonly AccountScanStats[];
}

export interface RequestSample {
  readonly account: string;
  readonly method: string;
  readonly route: string;
  readonly status: number | null;
  readonly durationSeconds: number;
  readonly rateLimitRemaining: number | null;
}

export type RotationResult = "success" | "failure" | "skipped";

export interface MetricsOptions {
  readonly accounts: readonly string[];
  readonly source: MetricsSource;
  readonly now: () => Date;
  readonly exposeRelative: boolean;
  readonly version: string;
  /** Default process metrics; off in tests that build many registries. */
  readonly processMetrics?: boolean;
}

const CERT_LABELS = [
  "account",
  "integration_id",
  "integration_name",
  "certificate_id",
  "fingerprint_sha256",
  "subject_cn",
  "issuer_cn",
  "serial_number",
] as const;
const PROMTOOL_REJECTED_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
];
const INTEGRATION_LABELS = ["account", "integration_id", "integration_name"] as const;
const seconds = (date: Date): number => date.getTime() / 1000;

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"account" | "method" | "route" | "status">;
  private readonly requestDuration: Histogram<"account" | "method" | "route">;
  private readonly rateLimitRemaining: Gauge<"account" | "route">;
  private readonly scanErrors: Counter<"account" | "reason">;
  private readonly skippedScans: Counter;
  private readonly rotations: Counter<"account" | "integration_id" | "result">;
  private readonly rotationLastSuccess: Gauge<"account" | "integration_id">;
  private readonly rotationBackoff: Gauge<"account" | "integration_id">;

  constructor(options: MetricsOptions) {
    const { registry } = this;
    const registers = [registry];
    if (options.processMetrics ?? true) {
      collectDefaultMetrics({ register: registry });
      // prom-client exposes these counts as gauges named *_total, which `promtool check metrics` rejects;
      // the per-type series (nodejs_active_handles{type}) carry the same numbers under valid names.
      for (const name of PROMTOOL_REJECTED_DEFAULTS) registry.removeSingleMetric(name);
    }

    new Gauge({
      name: "sendgrid_sso_build_info",
      help: "Build information of sendgrid-sso-certs; always 1.",
      labelNames: ["version", "node_version"],
      registers,
    }).set({ version: options.version, node_version: process.version }, 1);

    this.defineSnapshotGauges(options);

    this.scanErrors = new Counter({
      name: "sendgrid_sso_scan_errors_total",
      help: "Failures met while scanning, by stable reason code.",
      labelNames: ["account", "reason"],
      registers,
    });
    // Every (account, reason) starts at zero so that increase() sees the first error.
    for (const account of options.accounts) {
      for (const reason of REASON_CODES) this.scanErrors.inc({ account, reason }, 0);
    }
    this.skippedScans = new Counter({
      name: "sendgrid_sso_scans_skipped_total",
      help: "Scheduled scans skipped because the previous scan was still running.",
      registers,
    });
    this.requests = new Counter({
      name: "sendgrid_sso_api_requests_total",
      help: "Requests made to the SendGrid API, by templated route and HTTP status ('error': no answer).",
      labelNames: ["account", "method", "route", "status"],
      registers,
    });
    this.requestDuration = new Histogram({
      name: "sendgrid_sso_api_request_duration_seconds",
      help: "Duration of requests to the SendGrid API.",
      labelNames: ["account", "method", "route"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.rateLimitRemaining = new Gauge({
      name: "sendgrid_sso_api_rate_limit_remaining",
      help: "Latest X-RateLimit-Remaining the API sent, by route.",
      labelNames: ["account", "route"],
      registers,
    });
    this.rotations = new Counter({
      name: "sendgrid_sso_rotations_total",
      help: "Certificate rotations attempted, by result.",
      labelNames: ["account", "integration_id", "result"],
      registers,
    });
    this.rotationLastSuccess = new Gauge({
      name: "sendgrid_sso_rotation_last_success_timestamp_seconds",
      help: "Unix time of the last successful rotation step of an integration.",
      labelNames: ["account", "integration_id"],
      registers,
    });
    this.rotationBackoff = new Gauge({
      name: "sendgrid_sso_rotation_backoff_until_timestamp_seconds",
      help: "Unix time before which a failed rotation of an integration is not retried (absent: no backoff).",
      labelNames: ["account", "integration_id"],
      registers,
    });
  }

  private defineSnapshotGauges(options: MetricsOptions): void {
    const registers = [this.registry];
    const { source, now } = options;
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
      new Gauge<L>({ name, help, labelNames, registers });

    // One collect() fills every snapshot gauge. prom-client calls a metric's collect when the registry
    // renders it, in registration order; this gauge is registered first of them, so the gauges after it
    // read what it set during the same scrape.
    const notAfter = new Gauge({
      name: "sendgrid_sso_certificate_not_after_timestamp_seconds",
      help: "Unix time the certificate expires (from the PEM).",
      labelNames: CERT_LABELS,
      registers,
      collect: () => rebuild(),
    });
    const notBefore = gauge(
      "sendgrid_sso_certificate_not_before_timestamp_seconds",
      "Unix time the certificate becomes valid (from the PEM).",
      CERT_LABELS,
    );
    const expired = gauge(
      "sendgrid_sso_certificate_expired",
      "1 when the certificate has expired.",
      CERT_LABELS,
    );
    const expiresIn = options.exposeRelative
      ? gauge(
          "sendgrid_sso_certificate_expires_in_seconds",
          "Seconds until the certificate expires (negative: expired), at scrape time.",
          CERT_LABELS,
        )
      : null;
    const enabled = gauge(
      "sendgrid_sso_certificate_enabled",
      "1 when the certificate is enabled, 0 when disabled; absent when the API does not say.",
      ["account", "integration_id", "certificate_id"],
    );
    const parseError = gauge(
      "sendgrid_sso_certificate_parse_error",
      "1 when the stored certificate could not be parsed.",
      ["account", "integration_id", "certificate_id"],
    );
    const info = gauge("sendgrid_sso_integration_info", "SSO integration; always 1.", [
      ...INTEGRATION_LABELS,
      "enabled",
      "completed",
    ]);
    const bestNotAfter = gauge(
      "sendgrid_sso_integration_best_not_after_timestamp_seconds",
      "Expiry of the integration's best valid enabled certificate; absent when it has none.",
      INTEGRATION_LABELS,
    );
    const validCount = gauge(
      "sendgrid_sso_integration_valid_certificates",
      "Number of enabled, currently valid certificates of the integration.",
      INTEGRATION_LABELS,
    );
    const scrapeSuccess = gauge(
      "sendgrid_sso_scrape_success",
      "1 when the last scan of the account read everything.",
      ["account"],
    );
    const lastScrape = gauge(
      "sendgrid_sso_last_scrape_timestamp_seconds",
      "Unix time the last scan of the account ended.",
      ["account"],
    );
    const lastSuccess = gauge(
      "sendgrid_sso_last_success_timestamp_seconds",
      "Unix time the last fully successful scan of the account ended.",
      ["account"],
    );
    const duration = gauge(
      "sendgrid_sso_scrape_duration_seconds",
      "Duration of the last scan of the account.",
      ["account"],
    );

    const perCertificate = [
      notAfter,
      notBefore,
      expired,
      enabled,
      parseError,
      ...(expiresIn ? [expiresIn] : []),
    ];
    const perIntegration = [info, bestNotAfter, validCount];
    const perAccount = [scrapeSuccess, lastScrape, lastSuccess, duration];

    const rebuild = () => {
      const at = now();
      for (const metric of [...perCertificate, ...perIntegration, ...perAccount]) metric.reset();
      for (const stats of source.scanStats()) {
        const labels = { account: stats.account };
        scrapeSuccess.set(labels, stats.success ? 1 : 0);
        if (stats.lastScrapeAt) lastScrape.set(labels, seconds(stats.lastScrapeAt));
        if (stats.lastSuccessAt) lastSuccess.set(labels, seconds(stats.lastSuccessAt));
        if (stats.durationSeconds !== null) duration.set(labels, stats.durationSeconds);
      }
      const evaluation = source.evaluation(at);
      if (!evaluation) return;
      for (const account of evaluation.accounts) {
        for (const state of account.integrations) {
          const integration = {
            account: account.account,
            integration_id: state.integration.id,
            integration_name: state.integration.name,
          };
          info.set(
            {
              ...integration,
              enabled: String(state.integration.enabled),
              completed:
                state.integration.completed === null ? "unknown" : String(state.integration.completed),
            },
            1,
          );
          validCount.set(integration, state.validCount);
          if (state.best) bestNotAfter.set(integration, seconds(state.best.notAfter));
          for (const certificate of state.certificates) {
            const short = {
              account: account.account,
              integration_id: state.integration.id,
              certificate_id: certificate.api.id,
            };
            parseError.set(short, certificate.parsed ? 0 : 1);
            if (certificate.knownEnabled !== null) enabled.set(short, certificate.knownEnabled ? 1 : 0);
            const parsed = certificate.parsed;
            if (!parsed) continue;
            const labels = {
              ...integration,
              certificate_id: certificate.api.id,
              fingerprint_sha256: parsed.fingerprintSha256,
              subject_cn: parsed.subjectCn ?? "",
              issuer_cn: parsed.issuerCn ?? "",
              serial_number: parsed.serialNumber,
            };
            notAfter.set(labels, seconds(parsed.notAfter));
            notBefore.set(labels, seconds(parsed.notBefore));
            expired.set(labels, certificate.status === "expired" ? 1 : 0);
            expiresIn?.set(labels, Math.floor((parsed.notAfter.getTime() - at.getTime()) / 1000));
          }
        }
      }
    };
  }

  /** Hook for the SendGrid client: one call per attempt. */
  observeRequest(sample: RequestSample): void {
    const { account, method, route } = sample;
    this.requests.inc({
      account,
      method,
      route,
      status: sample.status === null ? "error" : String(sample.status),
    });
    this.requestDuration.observe({ account, method, route }, sample.durationSeconds);
    if (sample.rateLimitRemaining !== null)
      this.rateLimitRemaining.set({ account, route }, sample.rateLimitRemaining);
  }

  scanError(account: string, reason: ReasonCode): void {
    this.scanErrors.inc({ account, reason });
  }

  scanSkipped(): void {
    this.skippedScans.inc();
  }

  rotation(account: string, integrationId: string, result: RotationResult, at: Date): void {
    this.rotations.inc({ account, integration_id: integrationId, result });
    if (result === "success")
      this.rotationLastSuccess.set({ account, integration_id: integrationId }, seconds(at));
  }

  rotationBackoffUntil(account: string, integrationId: string, until: Date | null): void {
    const labels = { account, integration_id: integrationId };
    if (until) this.rotationBackoff.set(labels, seconds(until));
    else this.rotationBackoff.remove(labels);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
