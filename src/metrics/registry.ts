// Owns every metric name and label of SPEC.md on a private prom-client Registry. Certificate and
// integration series are filled from the latest snapshot at each scrape, so a series of a certificate
// that vanished is gone on the next scrape; events (requests, errors, rotations) are counters. Label
// sets are formatted once per snapshot object, not per scrape, and a family whose values did not change
// keeps its text (snapshot-gauge.ts): thousands of certificates render in a fraction of prom-client's time.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { RotationRule } from "../config/types.js";
import { ACTIVE_ROLLOVER_PHASES, type Journal, type StepAction } from "../core/journal.js";
import type { ApiCertificate, Integration, ParsedCertificate } from "../core/model.js";
import { REASON_CODES, type ReasonCode } from "../core/reasons.js";
import { matchRule } from "../core/rules.js";
import type { Evaluation } from "../core/status.js";
import { SeriesLabels, SnapshotGauge } from "./snapshot-gauge.js";

export interface AccountScanStats {
  readonly account: string;
  readonly lastScrapeAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly durationSeconds: number | null;
  readonly success: boolean;
}

/** The rotation journal and the rules that say each rotation's overlap. */
export interface RotationView {
  readonly journal: Journal;
  readonly rules: readonly RotationRule[];
}

/** An account whose API asked for a wait: its calls are held until `until` (capped, see retry-policy.ts). */
export interface HeldAccount {
  readonly account: string;
  readonly until: Date;
}

/** What the registry reads at scrape time: the shell decides where it comes from. */
export interface MetricsSource {
  /** The evaluation of the latest (carried-forward) inventory at `now`; null before the first scan. */
  evaluation(now: Date): Evaluation | null;
  scanStats(): readonly AccountScanStats[];
  /** Rotations under way; absent or null: none known. */
  rotations?(): RotationView | null;
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

/** A rotation (SendGrid's steps) or a key rollover (the IdP's steps) under way, as exported. */
export interface ActiveRotation {
  readonly account: string;
  readonly integrationId: string;
  readonly rotationId: string;
  readonly phase: string;
  /** When it entered its phase. */
  readonly since: Date;
  /** When its next step was due: at once for every phase but the overlap after verification. */
  readonly due: Date;
}

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
const INFO_LABELS = [...INTEGRATION_LABELS, "enabled", "completed"] as const;
const IDP_LABELS = [...INTEGRATION_LABELS, "source"] as const;
const SHORT_CERT_LABELS = ["account", "integration_id", "certificate_id"] as const;
const PHASE_LABELS = ["account", "integration_id", "rotation_id", "phase"] as const;
const seconds = (date: Date): number => date.getTime() / 1000;

type Labels<T extends readonly string[]> = SeriesLabels<T[number]>;

interface IntegrationSeries {
  readonly account: string;
  readonly short: Labels<typeof INTEGRATION_LABELS>;
  readonly info: Labels<typeof INFO_LABELS>;
}

interface CertificateSeries {
  readonly account: string;
  readonly integration: Integration;
  readonly parsed: ParsedCertificate | null;
  readonly short: Labels<typeof SHORT_CERT_LABELS>;
  /** null: the PEM did not parse, so there are no date series. */
  readonly full: Labels<typeof CERT_LABELS> | null;
}

/**
 * The label sets of the snapshot's objects, each formatted once: snapshot objects are never mutated, so
 * while a scan's integrations and certificates stay the latest, a scrape formats no label at all. Held
 * weakly: the sets of a superseded scan go with it.
 */
class SnapshotLabels {
  private readonly accounts = new Map<string, Labels<["account"]>>();
  private readonly integrations = new WeakMap<Integration, IntegrationSeries>();
  private readonly certificates = new WeakMap<ApiCertificate, CertificateSeries>();

  account(account: string): Labels<["account"]> {
    let labels = this.accounts.get(account);
    if (!labels) {
      labels = new SeriesLabels({ account });
      this.accounts.set(account, labels);
    }
    return labels;
  }

  integration(account: string, integration: Integration): IntegrationSeries {
    const cached = this.integrations.get(integration);
    if (cached?.account === account) return cached;
    const short = { account, integration_id: integration.id, integration_name: integration.name };
    const series: IntegrationSeries = {
      account,
      short: new SeriesLabels(short),
      info: new SeriesLabels({
        ...short,
        enabled: String(integration.enabled),
        completed: integration.completed === null ? "unknown" : String(integration.completed),
      }),
    };
    this.integrations.set(integration, series);
    return series;
  }

  certificate(
    account: string,
    integration: Integration,
    api: ApiCertificate,
    parsed: ParsedCertificate | null,
  ): CertificateSeries {
    const cached = this.certificates.get(api);
    if (cached?.account === account && cached.integration === integration && cached.parsed === parsed) {
      return cached;
    }
    const series: CertificateSeries = {
      account,
      integration,
      parsed,
      short: new SeriesLabels({ account, integration_id: integration.id, certificate_id: api.id }),
      full: parsed
        ? new SeriesLabels({
            account,
            integration_id: integration.id,
            integration_name: integration.name,
            certificate_id: api.id,
            fingerprint_sha256: parsed.fingerprintSha256,
            subject_cn: parsed.subjectCn ?? "",
            issuer_cn: parsed.issuerCn ?? "",
            serial_number: parsed.serialNumber,
          })
        : null,
    };
    this.certificates.set(api, series);
    return series;
  }
}

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"account" | "method" | "route" | "status">;
  private readonly requestDuration: Histogram<"account" | "method" | "route">;
  private readonly rateLimitRemaining: Gauge<"account" | "route">;
  private readonly scanErrors: Counter<"account" | "reason">;
  private readonly skippedScans: Counter;
  private readonly rotations: Counter<"account" | "integration_id" | "step" | "result">;
  private readonly idpReadErrors: Counter<"source" | "reason">;
  private readonly idpRequests: Counter<"source" | "method" | "route" | "status">;
  private readonly rotationLastSuccess: Gauge<"account" | "integration_id">;
  private readonly rotationBackoff: Gauge<"account" | "integration_id">;
  private readonly scanInterval: Gauge;
  private readonly stateWriteErrors: Counter;
  private readonly stateWriteSuccess: Gauge;
  private readonly reloadSuccessful: Gauge;
  private readonly reloadSuccessAt: Gauge;
  private readonly heldUntil: Gauge<"account">;
  private readonly held = new Map<string, Date>();
  private readonly accounts: Set<string>;
  private readonly now: () => Date;
  private readonly refreshSnapshot: () => void;

  constructor(options: MetricsOptions) {
    const { registry } = this;
    const registers = [registry];
    this.accounts = new Set(options.accounts);
    this.now = options.now;
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

    this.refreshSnapshot = this.defineSnapshotGauges(options);

    this.scanErrors = new Counter({
      name: "sendgrid_sso_scan_errors_total",
      help: "Failures met while scanning, by stable reason code.",
      labelNames: ["account", "reason"],
      registers,
    });
    // Every (account, reason) starts at zero so that increase() sees the first error.
    for (const account of options.accounts) this.zeroScanErrors(account);
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
      help: "Rotation steps taken (upload, verify, disable, enable, delete, generate, activate, confirm), by result.",
      labelNames: ["account", "integration_id", "step", "result"],
      registers,
    });
    this.rotationLastSuccess = new Gauge({
      name: "sendgrid_sso_rotation_last_success_timestamp_seconds",
      help: "Unix time of the last successful rotation step of an integration.",
      labelNames: ["account", "integration_id"],
      registers,
    });
    this.idpReadErrors = new Counter({
      name: "sendgrid_sso_idp_read_errors_total",
      help: "Failed reads of an IdP source (Okta, Entra ID, metadata), by source type and stable reason code.",
      labelNames: ["source", "reason"],
      registers,
    });
    this.idpRequests = new Counter({
      name: "sendgrid_sso_idp_api_requests_total",
      help: "Requests made to an IdP management API (Okta, Microsoft Graph and its token endpoint), by templated route and HTTP status ('error': no answer).",
      labelNames: ["source", "method", "route", "status"],
      registers,
    });
    this.rotationBackoff = new Gauge({
      name: "sendgrid_sso_rotation_backoff_until_timestamp_seconds",
      help: "Unix time before which a failed rotation of an integration is not retried (absent: no backoff).",
      labelNames: ["account", "integration_id"],
      registers,
    });
    this.scanInterval = new Gauge({
      name: "sendgrid_sso_scan_interval_seconds",
      help: "Seconds between two scheduled scans (from `schedule`): the alerts' measure of a late scan.",
      registers,
    });
    this.stateWriteErrors = new Counter({
      name: "sendgrid_sso_state_write_errors_total",
      help: "Failed writes of the state_dir (journal, lock lease): a full or failing disk.",
      registers,
    });
    this.stateWriteErrors.inc(0);
    this.stateWriteSuccess = new Gauge({
      name: "sendgrid_sso_state_last_write_success",
      help: "1 when the last write of the state_dir succeeded, 0 when it failed.",
      registers,
    });
    this.stateWriteSuccess.set(1);
    this.reloadSuccessful = new Gauge({
      name: "sendgrid_sso_config_last_reload_successful",
      help: "1 when the last load of the configuration (start-up, SIGHUP, a changed file) succeeded.",
      registers,
    });
    this.reloadSuccessAt = new Gauge({
      name: "sendgrid_sso_config_last_reload_success_timestamp_seconds",
      help: "Unix time of the last successful load of the configuration.",
      registers,
    });
    this.configReloaded(true);
    this.heldUntil = new Gauge({
      name: "sendgrid_sso_api_held_until_timestamp_seconds",
      help: "Unix time until which the API asked (429, Retry-After) that the account's calls wait, capped; absent once past.",
      labelNames: ["account"],
      registers,
      collect: () => this.dropPastHolds(),
    });
  }

  private zeroScanErrors(account: string): void {
    for (const reason of REASON_CODES) this.scanErrors.inc({ account, reason }, 0);
  }

  private defineSnapshotGauges(options: MetricsOptions): () => void {
    const { registry } = this;
    const { source, now } = options;
    const labels = new SnapshotLabels();
    const gauge = <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[],
      refresh?: () => void,
    ) => new SnapshotGauge<L>({ name, help, labelNames, registry, refresh });

    // Registered first of the snapshot gauges: a plain registry.metrics() reaches it before the others,
    // so its refresh fills them all for that scrape. render() refreshes once itself.
    const notAfter = gauge(
      "sendgrid_sso_certificate_not_after_timestamp_seconds",
      "Unix time the certificate expires (from the PEM).",
      CERT_LABELS,
      () => refresh(),
    );
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
      SHORT_CERT_LABELS,
    );
    const parseError = gauge(
      "sendgrid_sso_certificate_parse_error",
      "1 when the stored certificate could not be parsed.",
      SHORT_CERT_LABELS,
    );
    const info = gauge("sendgrid_sso_integration_info", "SSO integration; always 1.", INFO_LABELS);
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
    const idpTrusted = gauge(
      "sendgrid_sso_idp_signing_certificate_trusted",
      "1 when SendGrid holds enabled and valid the certificate the IdP signs with now (metadata: every published one); 0: logins fail. Absent when the IdP could not be read.",
      IDP_LABELS,
    );
    const idpNotAfter = gauge(
      "sendgrid_sso_idp_signing_certificate_not_after_timestamp_seconds",
      "Expiry of the certificate the IdP signs with now (metadata: the earliest published one valid now).",
      IDP_LABELS,
    );
    const idpUp = gauge(
      "sendgrid_sso_idp_up",
      "1 when the last scan read the integration's IdP source and could judge it; 0 when it could not.",
      IDP_LABELS,
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
    const phaseSince = gauge(
      "sendgrid_sso_rotation_phase_since_timestamp_seconds",
      "Unix time a rotation or IdP key rollover under way entered its phase (uploading, uploaded, verified; generating ... confirmed).",
      PHASE_LABELS,
    );
    const stepDue = gauge(
      "sendgrid_sso_rotation_step_due_timestamp_seconds",
      "Unix time the next step of a rotation or IdP key rollover under way was due (verified: once the overlap has passed).",
      PHASE_LABELS,
    );

    const all = [
      notAfter,
      notBefore,
      expired,
      enabled,
      parseError,
      ...(expiresIn ? [expiresIn] : []),
      info,
      bestNotAfter,
      validCount,
      idpTrusted,
      idpNotAfter,
      idpUp,
      scrapeSuccess,
      lastScrape,
      lastSuccess,
      duration,
      phaseSince,
      stepDue,
    ];

    const fill = (at: Date) => {
      const succeeded = new Set<string>();
      for (const stats of source.scanStats()) {
        const account = labels.account(stats.account);
        scrapeSuccess.put(account, stats.success ? 1 : 0);
        if (stats.lastScrapeAt) lastScrape.put(account, seconds(stats.lastScrapeAt));
        if (stats.lastSuccessAt) {
          lastSuccess.put(account, seconds(stats.lastSuccessAt));
          succeeded.add(stats.account);
        }
        if (stats.durationSeconds !== null) duration.put(account, stats.durationSeconds);
      }
      // 0 = never: a daemon that restarts into a revoked key or a blocked egress has no success to
      // report, and an absent series would keep every staleness alert quiet.
      for (const account of this.accounts) {
        if (!succeeded.has(account)) lastSuccess.put(labels.account(account), 0);
      }
      const evaluation = source.evaluation(at);
      for (const rotation of activeRotations(source.rotations?.() ?? null, evaluation)) {
        const series = new SeriesLabels({
          account: rotation.account,
          integration_id: rotation.integrationId,
          rotation_id: rotation.rotationId,
          phase: rotation.phase,
        });
        phaseSince.put(series, seconds(rotation.since));
        stepDue.put(series, seconds(rotation.due));
      }
      if (!evaluation) return;
      for (const account of evaluation.accounts) {
        for (const state of account.integrations) {
          const integration = labels.integration(account.account, state.integration);
          info.put(integration.info, 1);
          validCount.put(integration.short, state.validCount);
          if (state.best) bestNotAfter.put(integration.short, seconds(state.best.notAfter));
          if (state.idp) {
            const idp = new SeriesLabels({ ...integration.short.values, source: state.idp.source });
            idpUp.put(idp, state.idp.trusted === null ? 0 : 1);
            if (state.idp.trusted !== null) idpTrusted.put(idp, state.idp.trusted ? 1 : 0);
            if (state.idp.signingNotAfter) idpNotAfter.put(idp, seconds(state.idp.signingNotAfter));
          }
          for (const certificate of state.certificates) {
            const { parsed } = certificate;
            const series = labels.certificate(account.account, state.integration, certificate.api, parsed);
            parseError.put(series.short, parsed ? 0 : 1);
            if (certificate.knownEnabled !== null)
              enabled.put(series.short, certificate.knownEnabled ? 1 : 0);
            if (!parsed || !series.full) continue;
            notAfter.put(series.full, seconds(parsed.notAfter));
            notBefore.put(series.full, seconds(parsed.notBefore));
            expired.put(series.full, certificate.status === "expired" ? 1 : 0);
            expiresIn?.put(series.full, Math.floor((parsed.notAfter.getTime() - at.getTime()) / 1000));
          }
        }
      }
    };
    const refresh = () => {
      for (const metric of all) metric.begin();
      fill(now());
      for (const metric of all) metric.finish();
    };
    return refresh;
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

  /** Hook for the IdP clients: one call per attempt; `sample.account` carries the source type. */
  observeIdpRequest(sample: RequestSample): void {
    this.idpRequests.inc({
      source: sample.account,
      method: sample.method,
      route: sample.route,
      status: sample.status === null ? "error" : String(sample.status),
    });
  }

  idpReadError(source: string, reason: string): void {
    this.idpReadErrors.inc({ source, reason });
  }

  scanError(account: string, reason: ReasonCode): void {
    this.scanErrors.inc({ account, reason });
  }

  scanSkipped(): void {
    this.skippedScans.inc();
  }

  rotation(account: string, integrationId: string, step: StepAction, result: RotationResult, at: Date): void {
    this.rotations.inc({ account, integration_id: integrationId, step, result });
    if (result === "success")
      this.rotationLastSuccess.set({ account, integration_id: integrationId }, seconds(at));
  }

  rotationBackoffUntil(account: string, integrationId: string, until: Date | null): void {
    const labels = { account, integration_id: integrationId };
    if (until) this.rotationBackoff.set(labels, seconds(until));
    else this.rotationBackoff.remove(labels);
  }

  /** The backoffs a journal holds, e.g. the one read at start-up: a restart must not hide a failing rotation. */
  rotationBackoffFrom(journal: Journal): void {
    for (const record of journal.backoff) {
      this.rotationBackoffUntil(record.account, record.integrationId, record.nextAttemptAt);
    }
  }

  /** The accounts of the (re)loaded configuration: each gets its zeroed counters and a last success. */
  setAccounts(accounts: readonly string[]): void {
    this.accounts.clear();
    for (const account of accounts) {
      this.accounts.add(account);
      this.zeroScanErrors(account);
    }
  }

  scanIntervalSeconds(value: number): void {
    this.scanInterval.set(value);
  }

  /** The outcome of one write of the state_dir. */
  stateWrite(ok: boolean): void {
    if (!ok) this.stateWriteErrors.inc();
    this.stateWriteSuccess.set(ok ? 1 : 0);
  }

  /** The outcome of one load of the configuration (start-up counts as a successful one). */
  configReloaded(ok: boolean): void {
    this.reloadSuccessful.set(ok ? 1 : 0);
    if (ok) this.reloadSuccessAt.set(seconds(this.now()));
  }

  /** Hook for the transports: the API asked that every call of `account` wait until `until`. */
  accountHeld(account: string, until: Date): void {
    const previous = this.held.get(account);
    if (previous && previous >= until) return;
    this.held.set(account, until);
    this.heldUntil.set({ account }, seconds(until));
  }

  /** Accounts whose calls are held now, for the status page. */
  heldAccounts(): readonly HeldAccount[] {
    this.dropPastHolds();
    return [...this.held].map(([account, until]) => ({ account, until }));
  }

  private dropPastHolds(): void {
    const now = this.now();
    for (const [account, until] of this.held) {
      if (until > now) continue;
      this.held.delete(account);
      this.heldUntil.remove({ account });
    }
  }

  /**
   * The exposition in chunks, each a family's text or the blank line between two: concatenated, exactly
   * what registry.metrics() renders, with the snapshot families' text reused. Chunks, so that a server
   * can write thousands of series family by family instead of first copying them all into one string.
   */
  async renderChunks(): Promise<string[]> {
    this.refreshSnapshot();
    const chunks: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      if (chunks.length > 0) chunks.push("\n\n");
      chunks.push(
        metric instanceof SnapshotGauge
          ? metric.exposition()
          : await this.registry.getSingleMetricAsString(metric.name),
      );
    }
    chunks.push("\n");
    return chunks;
  }

  /** The whole exposition as one string. */
  async render(): Promise<string> {
    return (await this.renderChunks()).join("");
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The rotations and key rollovers under way, each with when it entered its phase and when its next step
 * was due. The overlap of a verified rotation is its rule's: the rule is found as the planner finds it,
 * which needs the integration's name, so a rotation of an integration not in the evaluation (no scan yet)
 * counts its overlap from the global default of no rule, i.e. it is due at verification.
 */
export function activeRotations(view: RotationView | null, evaluation: Evaluation | null): ActiveRotation[] {
  if (!view) return [];
  const overlapMs = (account: string, integrationId: string): number => {
    const state = evaluation?.accounts
      .find((a) => a.account === account)
      ?.integrations.find((i) => i.integration.id === integrationId);
    const index = state ? matchRule(view.rules, account, state.integration) : null;
    return index === null ? 0 : view.rules[index]!.overlapMs;
  };
  const active: ActiveRotation[] = [];
  for (const record of view.journal.rotations) {
    const since =
      record.phase === "uploading"
        ? record.startedAt
        : record.phase === "uploaded"
          ? (record.uploadedAt ?? record.startedAt)
          : record.phase === "verified"
            ? (record.verifiedAt ?? record.uploadedAt ?? record.startedAt)
            : null;
    if (since === null) continue;
    const due =
      record.phase === "verified" && record.replaces.length > 0
        ? new Date(since.getTime() + overlapMs(record.account, record.integrationId))
        : since;
    active.push({
      account: record.account,
      integrationId: record.integrationId,
      rotationId: record.id,
      phase: record.phase,
      since,
      due,
    });
  }
  for (const record of view.journal.rollovers) {
    if (!ACTIVE_ROLLOVER_PHASES.has(record.phase)) continue;
    // The journal stamps only some phases; the others count from the latest stamp before them.
    const since =
      record.phase === "confirmed"
        ? (record.confirmedAt ?? record.activatedAt ?? record.startedAt)
        : record.phase === "activated"
          ? (record.activatedAt ?? record.startedAt)
          : record.startedAt;
    const due =
      record.phase === "confirmed"
        ? new Date(since.getTime() + overlapMs(record.account, record.integrationId))
        : since;
    active.push({
      account: record.account,
      integrationId: record.integrationId,
      rotationId: record.id,
      phase: record.phase,
      since,
      due,
    });
  }
  return active;
}
