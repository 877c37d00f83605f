import { beforeAll, describe, expect, it } from "vitest";
import type { Inventory } from "../../src/core/inventory.js";
import { NO_OVERRIDES } from "../../src/core/inventory.js";
import type { ParsedCertificate } from "../../src/core/model.js";
import { REASON_CODES } from "../../src/core/reasons.js";
import { evaluate } from "../../src/core/status.js";
import { Metrics, type AccountScanStats, type MetricsOptions } from "../../src/metrics/registry.js";
import {
  DAY_MS,
  account,
  integration,
  inventoryOf,
  parsedCert,
  scanned,
  scannedIntegration,
} from "../helpers/inventory.js";
import { parsePrometheusText, type Exposition } from "../helpers/prom-text.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const THRESHOLDS = { warningMs: 30 * DAY_MS, criticalMs: 7 * DAY_MS };
const CERT_LABELS = [
  "account",
  "certificate_id",
  "fingerprint_sha256",
  "integration_id",
  "integration_name",
  "issuer_cn",
  "serial_number",
  "subject_cn",
];
const SHORT_LABELS = ["account", "certificate_id", "integration_id"];
const INTEGRATION_LABELS = ["account", "integration_id", "integration_name"];
const seconds = (date: Date) => date.getTime() / 1000;

/** What the registry reads at scrape time; tests change it between scrapes. */
class Snapshot {
  inventory: Inventory | null = null;
  stats: AccountScanStats[] = [];
  evaluation = (now: Date) =>
    this.inventory ? evaluate(this.inventory, THRESHOLDS, NO_OVERRIDES, now) : null;
  scanStats = () => this.stats;
}

function metricsOver(snapshot: Snapshot, options: Partial<MetricsOptions> = {}): Metrics {
  return new Metrics({
    accounts: ["main"],
    source: snapshot,
    now: () => NOW,
    exposeRelative: false,
    version: "9.8.7",
    processMetrics: false,
    ...options,
  });
}

const scrape = async (metrics: Metrics): Promise<Exposition> => parsePrometheusText(await metrics.render());
const labelNames = (exposition: Exposition, name: string) =>
  exposition.family(name).samples.map((sample) => Object.keys(sample.labels).sort());

let healthy: { pem: string; parsed: ParsedCertificate };
let older: { pem: string; parsed: ParsedCertificate };
let expired: { pem: string; parsed: ParsedCertificate };

beforeAll(async () => {
  healthy = await parsedCert({ now: NOW, cn: "okta.example.test", fromDays: -10, toDays: 300 });
  older = await parsedCert({ now: NOW, cn: "okta-old.example.test", fromDays: -300, toDays: 20 });
  expired = await parsedCert({ now: NOW, cn: "duo.example.test", fromDays: -400, toDays: -3 });
});

/** main: Okta (healthy enabled, older with enabled unknown, a bad PEM), Duo (only expired, disabled). */
function standardInventory(): Inventory {
  return inventoryOf(
    account("main", [
      scannedIntegration(integration("okta-id", { name: "Okta" }), [
        scanned({ id: "11", pem: healthy.pem, enabled: true }),
        scanned({ id: "12", pem: older.pem, enabled: null }),
        scanned({ id: "13", pem: "garbage" }),
      ]),
      scannedIntegration(integration("duo-id", { name: "Duo", enabled: false, completed: null }), [
        scanned({ id: "21", pem: expired.pem, enabled: false }),
      ]),
    ]),
  );
}

const STATS: AccountScanStats = {
  account: "main",
  lastScrapeAt: new Date("2029-12-31T23:59:00Z"),
  lastSuccessAt: new Date("2029-12-31T23:54:00Z"),
  durationSeconds: 1.25,
  success: false,
};

describe("Metrics: certificate and integration series from the snapshot", () => {
  let exposition: Exposition;

  beforeAll(async () => {
    const snapshot = new Snapshot();
    snapshot.inventory = standardInventory();
    snapshot.stats = [STATS];
    exposition = await scrape(metricsOver(snapshot));
  });

  it("exposes every metric of SPEC.md with its type", () => {
    const types = Object.fromEntries([...exposition.families.values()].map((f) => [f.name, f.type]));
    expect(types).toEqual({
      sendgrid_sso_build_info: "gauge",
      sendgrid_sso_certificate_not_after_timestamp_seconds: "gauge",
      sendgrid_sso_certificate_not_before_timestamp_seconds: "gauge",
      sendgrid_sso_certificate_expired: "gauge",
      sendgrid_sso_certificate_enabled: "gauge",
      sendgrid_sso_certificate_parse_error: "gauge",
      sendgrid_sso_integration_info: "gauge",
      sendgrid_sso_integration_best_not_after_timestamp_seconds: "gauge",
      sendgrid_sso_integration_valid_certificates: "gauge",
      sendgrid_sso_idp_signing_certificate_trusted: "gauge",
      sendgrid_sso_idp_signing_certificate_not_after_timestamp_seconds: "gauge",
      sendgrid_sso_idp_up: "gauge",
      sendgrid_sso_idp_read_errors_total: "counter",
      sendgrid_sso_idp_api_requests_total: "counter",
      sendgrid_sso_scrape_success: "gauge",
      sendgrid_sso_last_scrape_timestamp_seconds: "gauge",
      sendgrid_sso_last_success_timestamp_seconds: "gauge",
      sendgrid_sso_scrape_duration_seconds: "gauge",
      sendgrid_sso_scan_errors_total: "counter",
      sendgrid_sso_scans_skipped_total: "counter",
      sendgrid_sso_api_requests_total: "counter",
      sendgrid_sso_api_request_duration_seconds: "histogram",
      sendgrid_sso_api_rate_limit_remaining: "gauge",
      sendgrid_sso_rotations_total: "counter",
      sendgrid_sso_rotation_last_success_timestamp_seconds: "gauge",
      sendgrid_sso_rotation_backoff_until_timestamp_seconds: "gauge",
      sendgrid_sso_rotation_phase_since_timestamp_seconds: "gauge",
      sendgrid_sso_rotation_step_due_timestamp_seconds: "gauge",
      sendgrid_sso_scan_interval_seconds: "gauge",
      sendgrid_sso_api_held_until_timestamp_seconds: "gauge",
      sendgrid_sso_state_write_errors_total: "counter",
      sendgrid_sso_state_last_write_success: "gauge",
      sendgrid_sso_config_last_reload_successful: "gauge",
      sendgrid_sso_config_last_reload_success_timestamp_seconds: "gauge",
    });
    for (const family of exposition.families.values()) expect(family.help).toBeTruthy();
  });

  it("gives each parsed certificate its dates, from the PEM, with the full label set", () => {
    for (const name of [
      "sendgrid_sso_certificate_not_after_timestamp_seconds",
      "sendgrid_sso_certificate_not_before_timestamp_seconds",
      "sendgrid_sso_certificate_expired",
    ]) {
      expect(labelNames(exposition, name)).toEqual([CERT_LABELS, CERT_LABELS, CERT_LABELS]);
    }
    const notAfter = exposition.samples("sendgrid_sso_certificate_not_after_timestamp_seconds");
    expect(notAfter.find((s) => s.labels.certificate_id === "11")).toEqual({
      name: "sendgrid_sso_certificate_not_after_timestamp_seconds",
      labels: {
        account: "main",
        integration_id: "okta-id",
        integration_name: "Okta",
        certificate_id: "11",
        fingerprint_sha256: healthy.parsed.fingerprintSha256,
        subject_cn: "okta.example.test",
        issuer_cn: "okta.example.test",
        serial_number: healthy.parsed.serialNumber,
      },
      value: seconds(NOW) + 300 * 86_400,
    });
    const byId = (name: string, id: string) => exposition.value(name, { certificate_id: id });
    expect(byId("sendgrid_sso_certificate_not_after_timestamp_seconds", "12")).toBe(
      seconds(older.parsed.notAfter),
    );
    expect(byId("sendgrid_sso_certificate_not_before_timestamp_seconds", "11")).toBe(
      seconds(NOW) - 10 * 86_400,
    );
    expect(byId("sendgrid_sso_certificate_not_after_timestamp_seconds", "21")).toBe(
      seconds(NOW) - 3 * 86_400,
    );
  });

  it("marks only the expired certificate expired", () => {
    const expiredFlags = exposition
      .samples("sendgrid_sso_certificate_expired")
      .map((s) => [s.labels.certificate_id, s.value]);
    expect(expiredFlags).toEqual([
      ["11", 0],
      ["12", 0],
      ["21", 1],
    ]);
  });

  it("gives a certificate that did not parse a parse_error series and no date series", () => {
    const parseErrors = exposition.samples("sendgrid_sso_certificate_parse_error");
    expect(labelNames(exposition, "sendgrid_sso_certificate_parse_error")).toEqual(
      parseErrors.map(() => SHORT_LABELS),
    );
    expect(parseErrors.map((s) => [s.labels.certificate_id, s.value])).toEqual([
      ["11", 0],
      ["12", 0],
      ["13", 1],
      ["21", 0],
    ]);
    expect(
      exposition.samples("sendgrid_sso_certificate_not_after_timestamp_seconds", { certificate_id: "13" }),
    ).toEqual([]);
  });

  it("exposes enabled 1/0 and no series at all where the API did not say", () => {
    expect(labelNames(exposition, "sendgrid_sso_certificate_enabled")).toEqual([
      SHORT_LABELS,
      SHORT_LABELS,
      SHORT_LABELS,
    ]);
    expect(
      exposition.samples("sendgrid_sso_certificate_enabled").map((s) => [s.labels.certificate_id, s.value]),
    ).toEqual([
      ["11", 1],
      // 12: unknown, so absent; 13 (bad PEM) was enabled per the API.
      ["13", 1],
      ["21", 0],
    ]);
  });

  it("describes each integration: info, best expiry (absent when none valid), valid count", () => {
    expect(exposition.samples("sendgrid_sso_integration_info")).toEqual([
      {
        name: "sendgrid_sso_integration_info",
        labels: {
          account: "main",
          integration_id: "okta-id",
          integration_name: "Okta",
          enabled: "true",
          completed: "true",
        },
        value: 1,
      },
      {
        name: "sendgrid_sso_integration_info",
        labels: {
          account: "main",
          integration_id: "duo-id",
          integration_name: "Duo",
          enabled: "false",
          completed: "unknown",
        },
        value: 1,
      },
    ]);
    expect(exposition.samples("sendgrid_sso_integration_best_not_after_timestamp_seconds")).toEqual([
      {
        name: "sendgrid_sso_integration_best_not_after_timestamp_seconds",
        labels: { account: "main", integration_id: "okta-id", integration_name: "Okta" },
        value: seconds(NOW) + 300 * 86_400,
      },
    ]);
    expect(labelNames(exposition, "sendgrid_sso_integration_valid_certificates")).toEqual([
      INTEGRATION_LABELS,
      INTEGRATION_LABELS,
    ]);
    expect(
      exposition.value("sendgrid_sso_integration_valid_certificates", { integration_id: "okta-id" }),
    ).toBe(2);
    expect(
      exposition.value("sendgrid_sso_integration_valid_certificates", { integration_id: "duo-id" }),
    ).toBe(0);
  });

  it("exposes the scan statistics per account", () => {
    const main = { account: "main" };
    expect(exposition.samples("sendgrid_sso_scrape_success")).toEqual([
      { name: "sendgrid_sso_scrape_success", labels: main, value: 0 },
    ]);
    expect(exposition.value("sendgrid_sso_last_scrape_timestamp_seconds", main)).toBe(
      seconds(STATS.lastScrapeAt!),
    );
    expect(exposition.value("sendgrid_sso_last_success_timestamp_seconds", main)).toBe(
      seconds(STATS.lastSuccessAt!),
    );
    expect(exposition.value("sendgrid_sso_scrape_duration_seconds", main)).toBe(1.25);
  });

  it("has no expires_in_seconds unless expose_relative is on", () => {
    expect(exposition.has("sendgrid_sso_certificate_expires_in_seconds")).toBe(false);
  });
});

describe("Metrics: before any scan and at scrape time", () => {
  it("exposes no certificate series before the first scan; scrape_success is 0, last success 0 (never)", async () => {
    const snapshot = new Snapshot();
    snapshot.stats = [
      { account: "main", lastScrapeAt: null, lastSuccessAt: null, durationSeconds: null, success: false },
    ];
    const exposition = await scrape(metricsOver(snapshot));
    for (const name of [
      "sendgrid_sso_certificate_not_after_timestamp_seconds",
      "sendgrid_sso_integration_info",
      "sendgrid_sso_last_scrape_timestamp_seconds",
      "sendgrid_sso_scrape_duration_seconds",
    ]) {
      expect(exposition.family(name).samples).toEqual([]);
    }
    expect(exposition.value("sendgrid_sso_scrape_success", { account: "main" })).toBe(0);
    // 0, not absent: a daemon that never succeeds must still trip the staleness alert.
    expect(exposition.value("sendgrid_sso_last_success_timestamp_seconds", { account: "main" })).toBe(0);
  });

  it("computes at scrape time: a certificate gone from the snapshot is gone from the next scrape", async () => {
    const snapshot = new Snapshot();
    snapshot.inventory = standardInventory();
    const metrics = metricsOver(snapshot);
    const first = await scrape(metrics);
    expect(
      first.samples("sendgrid_sso_certificate_not_after_timestamp_seconds", { certificate_id: "12" }),
    ).toHaveLength(1);

    snapshot.inventory = inventoryOf(
      account("main", [
        scannedIntegration(integration("okta-id", { name: "Okta" }), [
          scanned({ id: "11", pem: healthy.pem }),
        ]),
      ]),
    );
    const second = await scrape(metrics);
    expect(
      second
        .samples("sendgrid_sso_certificate_not_after_timestamp_seconds")
        .map((s) => s.labels.certificate_id),
    ).toEqual(["11"]);
    expect(
      second.samples("sendgrid_sso_certificate_parse_error").map((s) => s.labels.certificate_id),
    ).toEqual(["11"]);
    expect(second.samples("sendgrid_sso_certificate_enabled").map((s) => s.labels.certificate_id)).toEqual([
      "11",
    ]);
    expect(second.samples("sendgrid_sso_integration_info").map((s) => s.labels.integration_id)).toEqual([
      "okta-id",
    ]);
  });

  it("uses the clock of the scrape: a certificate that expired since the scan shows as expired", async () => {
    const snapshot = new Snapshot();
    snapshot.inventory = standardInventory();
    let now = NOW;
    const metrics = metricsOver(snapshot, { now: () => now });
    expect((await scrape(metrics)).value("sendgrid_sso_certificate_expired", { certificate_id: "12" })).toBe(
      0,
    );
    now = new Date(NOW.getTime() + 21 * DAY_MS);
    const later = await scrape(metrics);
    expect(later.value("sendgrid_sso_certificate_expired", { certificate_id: "12" })).toBe(1);
    expect(later.value("sendgrid_sso_integration_valid_certificates", { integration_id: "okta-id" })).toBe(1);
  });

  it("adds expires_in_seconds (whole seconds, negative once expired) with expose_relative", async () => {
    const snapshot = new Snapshot();
    snapshot.inventory = standardInventory();
    const at = new Date(NOW.getTime() + 1_500);
    const exposition = await scrape(metricsOver(snapshot, { exposeRelative: true, now: () => at }));
    expect(exposition.family("sendgrid_sso_certificate_expires_in_seconds").type).toBe("gauge");
    expect(labelNames(exposition, "sendgrid_sso_certificate_expires_in_seconds")).toEqual([
      CERT_LABELS,
      CERT_LABELS,
      CERT_LABELS,
    ]);
    expect(exposition.value("sendgrid_sso_certificate_expires_in_seconds", { certificate_id: "11" })).toBe(
      300 * 86_400 - 2,
    );
    expect(exposition.value("sendgrid_sso_certificate_expires_in_seconds", { certificate_id: "21" })).toBe(
      -3 * 86_400 - 2,
    );
  });
});

describe("Metrics: counters and build info", () => {
  it("starts scan_errors_total at 0 for every account and reason, and counts by reason", async () => {
    const metrics = metricsOver(new Snapshot(), { accounts: ["main", "eu"] });
    const fresh = await scrape(metrics);
    const zeroes = fresh.samples("sendgrid_sso_scan_errors_total");
    expect(zeroes.map((s) => `${s.labels.account}/${s.labels.reason}=${s.value}`).sort()).toEqual(
      ["main", "eu"].flatMap((a) => REASON_CODES.map((r) => `${a}/${r}=0`)).sort(),
    );
    for (const sample of zeroes) expect(Object.keys(sample.labels).sort()).toEqual(["account", "reason"]);

    metrics.scanError("eu", "http_5xx");
    metrics.scanError("eu", "http_5xx");
    metrics.scanError("main", "bad_pem");
    const after = await scrape(metrics);
    expect(after.value("sendgrid_sso_scan_errors_total", { account: "eu", reason: "http_5xx" })).toBe(2);
    expect(after.value("sendgrid_sso_scan_errors_total", { account: "main", reason: "bad_pem" })).toBe(1);
    expect(after.value("sendgrid_sso_scan_errors_total", { account: "main", reason: "http_5xx" })).toBe(0);
  });

  it("counts API requests by templated route and status, with durations and the rate limit left", async () => {
    const metrics = metricsOver(new Snapshot());
    const route = "/v3/sso/integrations/:id/certificates";
    const sample = { account: "main", method: "GET", route, durationSeconds: 0.2, rateLimitRemaining: 42 };
    metrics.observeRequest({ ...sample, status: 200 });
    metrics.observeRequest({ ...sample, status: 200, rateLimitRemaining: 41 });
    metrics.observeRequest({ ...sample, status: null, rateLimitRemaining: null, durationSeconds: 3 });
    const exposition = await scrape(metrics);
    expect(exposition.samples("sendgrid_sso_api_requests_total")).toEqual([
      {
        name: "sendgrid_sso_api_requests_total",
        labels: { account: "main", method: "GET", route, status: "200" },
        value: 2,
      },
      {
        name: "sendgrid_sso_api_requests_total",
        labels: { account: "main", method: "GET", route, status: "error" },
        value: 1,
      },
    ]);
    const histogram = { account: "main", method: "GET", route };
    expect(exposition.value("sendgrid_sso_api_request_duration_seconds_count", histogram)).toBe(3);
    expect(exposition.value("sendgrid_sso_api_request_duration_seconds_sum", histogram)).toBeCloseTo(3.4);
    expect(
      exposition.value("sendgrid_sso_api_request_duration_seconds_bucket", { ...histogram, le: "0.25" }),
    ).toBe(2);
    expect(
      exposition.value("sendgrid_sso_api_request_duration_seconds_bucket", { ...histogram, le: "+Inf" }),
    ).toBe(3);
    expect(exposition.samples("sendgrid_sso_api_rate_limit_remaining")).toEqual([
      { name: "sendgrid_sso_api_rate_limit_remaining", labels: { account: "main", route }, value: 41 },
    ]);
  });

  it("counts rotations by result and keeps the last success time; backoff comes and goes", async () => {
    const metrics = metricsOver(new Snapshot());
    const at = new Date("2030-01-01T01:00:00Z");
    metrics.rotation("main", "okta-id", "verify", "success", at);
    metrics.rotation("main", "okta-id", "activate", "failure", new Date("2030-01-01T02:00:00Z"));
    metrics.rotation("main", "okta-id", "upload", "skipped", new Date("2030-01-01T03:00:00Z"));
    metrics.rotationBackoffUntil("main", "duo-id", new Date("2030-01-02T00:00:00Z"));
    const exposition = await scrape(metrics);
    expect(
      exposition
        .samples("sendgrid_sso_rotations_total")
        .map((s) => [s.labels.integration_id, s.labels.step, s.labels.result, s.value]),
    ).toEqual([
      ["okta-id", "verify", "success", 1],
      ["okta-id", "activate", "failure", 1],
      ["okta-id", "upload", "skipped", 1],
    ]);
    expect(exposition.samples("sendgrid_sso_rotation_last_success_timestamp_seconds")).toEqual([
      {
        name: "sendgrid_sso_rotation_last_success_timestamp_seconds",
        labels: { account: "main", integration_id: "okta-id" },
        value: seconds(at),
      },
    ]);
    expect(
      exposition.value("sendgrid_sso_rotation_backoff_until_timestamp_seconds", { integration_id: "duo-id" }),
    ).toBe(seconds(new Date("2030-01-02T00:00:00Z")));
    metrics.rotationBackoffUntil("main", "duo-id", null);
    expect((await scrape(metrics)).samples("sendgrid_sso_rotation_backoff_until_timestamp_seconds")).toEqual(
      [],
    );
  });

  it("counts skipped scans", async () => {
    const metrics = metricsOver(new Snapshot());
    expect((await scrape(metrics)).value("sendgrid_sso_scans_skipped_total")).toBe(0);
    metrics.scanSkipped();
    expect((await scrape(metrics)).value("sendgrid_sso_scans_skipped_total")).toBe(1);
  });

  it("exposes build_info 1 with the version and Node.js version", async () => {
    const exposition = await scrape(metricsOver(new Snapshot()));
    expect(exposition.samples("sendgrid_sso_build_info")).toEqual([
      {
        name: "sendgrid_sso_build_info",
        labels: { version: "9.8.7", node_version: process.version },
        value: 1,
      },
    ]);
  });

  it("adds the default process metrics, without the ones promtool rejects", async () => {
    const metrics = metricsOver(new Snapshot(), { processMetrics: true });
    const exposition = await scrape(metrics);
    expect(exposition.family("process_cpu_user_seconds_total").type).toBe("counter");
    expect(exposition.family("nodejs_eventloop_lag_seconds").type).toBe("gauge");
    for (const family of exposition.families.values()) {
      if (family.type !== "counter") expect(family.name).not.toMatch(/_total$/);
    }
    expect(metrics.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });
});
