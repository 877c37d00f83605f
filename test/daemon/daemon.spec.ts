import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { PARSE_CACHE_FILE } from "../../src/certs/parse-cache-file.js";
import type { Emulator, EmulatorOptions } from "../../src/emulator/server.js";
import type { Seed } from "../../src/emulator/seeds.js";
import { REASON_CODES } from "../../src/core/reasons.js";
import { makeCert } from "../helpers/make-cert.js";
import type { Exposition } from "../helpers/prom-text.js";
import { expectReportShape } from "../helpers/report-shape.js";
import { runCli } from "../helpers/run-cli.js";
import { startTestDaemon, type TestDaemon } from "../helpers/start-daemon.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

const OKTA = "okta-0001";
const ENTRA = "entra-0002";
const XSS = "xss-0003";
const XSS_NAME = "<script>x</script>";
const NOT_AFTER = "sendgrid_sso_certificate_not_after_timestamp_seconds";
const CERT_FAMILIES = [
  NOT_AFTER,
  "sendgrid_sso_certificate_not_before_timestamp_seconds",
  "sendgrid_sso_certificate_expired",
  "sendgrid_sso_certificate_enabled",
  "sendgrid_sso_certificate_parse_error",
];

let oktaCurrent: GeneratedCertificate;
let oktaOld: GeneratedCertificate;
let entra: GeneratedCertificate;
let xss: GeneratedCertificate;

beforeAll(async () => {
  oktaCurrent = await makeCert({ cn: "okta.example.test", toDays: 200 });
  oktaOld = await makeCert({ cn: "okta-old.example.test", fromDays: -300, toDays: 20 });
  entra = await makeCert({ cn: "Microsoft Azure Federated SSO Certificate", toDays: 5 });
  xss = await makeCert({ cn: "xss.example.test", toDays: 365 });
});

/** Okta (two certificates), Entra ID (one, expiring in 5 days), and an integration with an HTML name. */
function standardSeed(): Seed {
  return {
    kind: "data",
    data: {
      integrations: [
        { id: OKTA, name: "Okta", certificates: [{ pem: oktaCurrent.pem }, { pem: oktaOld.pem }] },
        { id: ENTRA, name: "Entra ID", certificates: [{ pem: entra.pem }] },
        { id: XSS, name: XSS_NAME, certificates: [{ pem: xss.pem }] },
      ],
    },
  };
}

let emulator: Emulator | undefined;
let harness: TestDaemon | undefined;

afterEach(async () => {
  await harness?.close();
  await emulator?.close();
  harness = undefined;
  emulator = undefined;
});

async function start(
  options: Partial<EmulatorOptions> = {},
  daemon: { exposeRelative?: boolean } = {},
): Promise<{ emulator: Emulator; harness: TestDaemon }> {
  // These tests read `enabled` from the API; the strict default (as in the spec) leaves it out.
  emulator = await startTestEmulator({ seed: standardSeed(), quirks: { omitEnabled: false }, ...options });
  harness = await startTestDaemon({ emulator, ...daemon });
  return { emulator, harness };
}

/** Every certificate the emulator holds, as [integration id, certificate id, PEM]. */
function emulatorCertificates(source: Emulator): [string, string, string][] {
  return source.state
    .listIntegrations()
    .flatMap((i) =>
      source.state.certificatesOf(i.id).map((c): [string, string, string] => [i.id, String(c.id), c.pem]),
    );
}

const certificateIds = (exposition: Exposition, family: string) =>
  exposition
    .samples(family)
    .map((s) => s.labels.certificate_id)
    .sort();

describe("the daemon's HTTP endpoints", () => {
  it("answers /readyz 503 before the first scan and 200 after it; /healthz 200 throughout", async () => {
    const { harness } = await start();
    const before = await harness.request("/readyz");
    expect(before.status).toBe(503);
    expect(await before.text()).toBe("waiting for the first scan\n");
    expect((await harness.request("/healthz")).status).toBe(200);
    const inventory = await harness.request("/api/v1/inventory");
    expect(inventory.status).toBe(503);
    expect(await inventory.json()).toEqual({ error: "no scan has completed yet" });
    expect(await (await harness.request("/")).text()).toContain("Waiting for the first scan");

    await harness.daemon.tick();
    const after = await harness.request("/readyz");
    expect(after.status).toBe(200);
    expect(await after.text()).toBe("ready\n");
    expect((await harness.request("/healthz")).status).toBe(200);
  });

  it("answers 404 for unknown paths, 405 with Allow for other methods, and HEAD without a body", async () => {
    const { harness } = await start();
    await harness.daemon.tick();
    for (const path of ["/nope", "/metrics/", "/api/v1", "/favicon.ico"]) {
      const response = await harness.request(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      await response.arrayBuffer();
    }
    for (const method of ["POST", "PUT", "DELETE"]) {
      const response = await harness.request("/metrics", { method, body: method === "DELETE" ? null : "x" });
      expect(response.status).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, HEAD");
      await response.arrayBuffer();
    }
    const get = await harness.request("/metrics");
    const getBody = await get.text();
    // fetch asks for gzip, whose length is not known ahead; identity comes with it.
    const identity = { "accept-encoding": "identity" };
    const head = await harness.request("/metrics", { method: "HEAD", headers: identity });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toBe(get.headers.get("content-type"));
    expect(Number(head.headers.get("content-length"))).toBeGreaterThan(0);
    expect(await head.text()).toBe("");
    const headGzip = await harness.request("/metrics", { method: "HEAD" });
    expect(headGzip.headers.get("content-encoding")).toBe("gzip");
    expect(await headGzip.text()).toBe("");
    expect(getBody).toContain(NOT_AFTER);
    const headReady = await harness.request("/readyz", { method: "HEAD" });
    expect(headReady.status).toBe(200);
  });

  it("keeps the API key out of logs, metrics, the status page and the inventory", async () => {
    const { harness } = await start();
    await harness.daemon.tick();
    const texts = await Promise.all(
      ["/metrics", "/", "/api/v1/inventory"].map(async (path) => (await harness.request(path)).text()),
    );
    for (const text of [...texts, JSON.stringify(harness.logs)]) expect(text).not.toContain(TEST_API_KEY);
  });
});

describe("/metrics after a scan", () => {
  it("holds every emulator certificate with labels and values taken from its PEM", async () => {
    const { emulator, harness } = await start();
    await harness.daemon.tick();
    const exposition = await harness.scrape();

    const expected = emulatorCertificates(emulator);
    expect(expected).toHaveLength(4);
    expect(certificateIds(exposition, NOT_AFTER)).toEqual(expected.map(([, id]) => id).sort());
    for (const [integrationId, certificateId, pem] of expected) {
      const x = new X509Certificate(pem);
      const cn = (dn: string) => /^CN=(.*)$/m.exec(dn)?.[1];
      const labels = {
        account: "main",
        integration_id: integrationId,
        integration_name: emulator.state.getIntegration(integrationId)!.name,
        certificate_id: certificateId,
        fingerprint_sha256: x.fingerprint256.replaceAll(":", "").toLowerCase(),
        subject_cn: cn(x.subject),
        issuer_cn: cn(x.issuer),
        serial_number: x.serialNumber.toLowerCase(),
      };
      expect(exposition.samples(NOT_AFTER, { certificate_id: certificateId })).toEqual([
        { name: NOT_AFTER, labels, value: Date.parse(x.validTo) / 1000 },
      ]);
      expect(
        exposition.value("sendgrid_sso_certificate_not_before_timestamp_seconds", {
          certificate_id: certificateId,
        }),
      ).toBe(Date.parse(x.validFrom) / 1000);
      expect(exposition.value("sendgrid_sso_certificate_expired", { certificate_id: certificateId })).toBe(0);
      expect(exposition.value("sendgrid_sso_certificate_enabled", { certificate_id: certificateId })).toBe(1);
      expect(
        exposition.value("sendgrid_sso_certificate_parse_error", { certificate_id: certificateId }),
      ).toBe(0);
    }
  });

  it("keeps what its scans parsed in state_dir's parse cache, for the next process", async () => {
    const { emulator, harness } = await start();
    // `run` prepares state_dir before it starts the daemon (src/cli/commands/run.ts); the harness does not.
    const stateDir = join(dirname(harness.configFile), "state");
    mkdirSync(stateDir, { recursive: true });
    await harness.daemon.tick();
    const file = join(stateDir, PARSE_CACHE_FILE);
    const entries = readFileSync(file, "utf8")
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((line) => JSON.parse(line) as { fingerprintSha256: string });
    const fingerprints = emulatorCertificates(emulator).map(([, , pem]) =>
      new X509Certificate(pem).fingerprint256.replaceAll(":", "").toLowerCase(),
    );
    expect(entries.map((entry) => entry.fingerprintSha256)).toEqual(expect.arrayContaining(fingerprints));
  });

  it("describes each integration and the scan", async () => {
    const { harness } = await start();
    await harness.daemon.tick();
    const exposition = await harness.scrape();

    expect(
      exposition
        .samples("sendgrid_sso_integration_info")
        .map((s) => [s.labels.integration_id, s.labels.integration_name]),
    ).toEqual([
      [OKTA, "Okta"],
      [ENTRA, "Entra ID"],
      [XSS, XSS_NAME],
    ]);
    expect(
      exposition.value("sendgrid_sso_integration_best_not_after_timestamp_seconds", { integration_id: OKTA }),
    ).toBe(Date.parse(new X509Certificate(oktaCurrent.pem).validTo) / 1000);
    expect(exposition.value("sendgrid_sso_integration_valid_certificates", { integration_id: OKTA })).toBe(2);
    expect(exposition.value("sendgrid_sso_scrape_success", { account: "main" })).toBe(1);
    const lastScrape = exposition.value("sendgrid_sso_last_scrape_timestamp_seconds", { account: "main" });
    expect(exposition.value("sendgrid_sso_last_success_timestamp_seconds", { account: "main" })).toBe(
      lastScrape,
    );
    expect(
      exposition.value("sendgrid_sso_scrape_duration_seconds", { account: "main" }),
    ).toBeGreaterThanOrEqual(0);
    for (const reason of REASON_CODES) {
      expect(exposition.value("sendgrid_sso_scan_errors_total", { account: "main", reason })).toBe(0);
    }
    expect(
      exposition.value("sendgrid_sso_api_requests_total", {
        method: "GET",
        route: "/v3/sso/integrations",
        status: "200",
      }),
    ).toBe(1);
    expect(
      exposition.value("sendgrid_sso_api_requests_total", {
        method: "GET",
        route: "/v3/sso/integrations/:id/certificates",
        status: "200",
      }),
    ).toBe(3);
    expect(exposition.has("sendgrid_sso_certificate_expires_in_seconds")).toBe(false);
  });

  it("adds expires_in_seconds for every certificate with metrics.expose_relative", async () => {
    const { harness } = await start({}, { exposeRelative: true });
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    const relative = exposition.samples("sendgrid_sso_certificate_expires_in_seconds");
    expect(relative).toHaveLength(4);
    for (const sample of relative) {
      const notAfter = exposition.value(NOT_AFTER, { certificate_id: sample.labels.certificate_id! });
      // Computed at scrape time, after the scan: never more than the time to notAfter as of now.
      expect(sample.value).toBeLessThanOrEqual(notAfter - Date.now() / 1000 + 1);
      expect(sample.value).toBeGreaterThan(0);
    }
  });

  it("drops a certificate deleted in the emulator on the next scan, and a deleted integration", async () => {
    const { emulator, harness } = await start();
    await harness.daemon.tick();
    const [oldRecord] = emulator.state.certificatesOf(OKTA).filter((c) => c.pem === oktaOld.pem);
    const oldId = String(oldRecord!.id);
    expect(certificateIds(await harness.scrape(), NOT_AFTER)).toContain(oldId);

    emulator.state.removeCertificate(oldRecord!.id);
    emulator.state.removeIntegration(ENTRA);
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    const remaining = emulatorCertificates(emulator)
      .map(([, id]) => id)
      .sort();
    expect(remaining).toHaveLength(2);
    for (const family of CERT_FAMILIES) {
      expect({ family, ids: certificateIds(exposition, family) }).toEqual({ family, ids: remaining });
    }
    expect(exposition.samples("sendgrid_sso_integration_info").map((s) => s.labels.integration_id)).toEqual([
      OKTA,
      XSS,
    ]);
    expect(
      exposition.samples("sendgrid_sso_integration_valid_certificates", { integration_id: ENTRA }),
    ).toEqual([]);
    expect(exposition.value("sendgrid_sso_integration_valid_certificates", { integration_id: OKTA })).toBe(1);
  });

  it("shows a certificate disabled in the emulator as enabled 0", async () => {
    const { emulator, harness } = await start();
    await harness.daemon.tick();
    const record = emulator.state.certificatesOf(OKTA).find((c) => c.pem === oktaCurrent.pem)!;
    emulator.state.setCertificateEnabled(record.id, false);
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    expect(exposition.value("sendgrid_sso_certificate_enabled", { certificate_id: String(record.id) })).toBe(
      0,
    );
    expect(exposition.value("sendgrid_sso_integration_valid_certificates", { integration_id: OKTA })).toBe(1);
    expect(
      exposition.value("sendgrid_sso_integration_best_not_after_timestamp_seconds", { integration_id: OKTA }),
    ).toBe(Date.parse(new X509Certificate(oktaOld.pem).validTo) / 1000);
  });

  it("has no enabled series when the API leaves enabled out", async () => {
    const { harness } = await start({ quirks: { omitEnabled: true } });
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    expect(exposition.family("sendgrid_sso_certificate_enabled").samples).toEqual([]);
    expect(exposition.samples(NOT_AFTER)).toHaveLength(4);
    // Unknown counts as enabled: Okta still has two usable certificates.
    expect(exposition.value("sendgrid_sso_integration_valid_certificates", { integration_id: OKTA })).toBe(2);
  });

  it("reads certificates whatever form and timestamp style the API uses", async () => {
    const { harness } = await start({ quirks: { pem: "bare", timestamps: "iso", errorShape: "object" } });
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    expect(exposition.samples("sendgrid_sso_certificate_parse_error").map((s) => s.value)).toEqual([
      0, 0, 0, 0,
    ]);
    expect(exposition.samples(NOT_AFTER)).toHaveLength(4);
  });

  it("keeps a certificate that does not parse: parse_error 1, counted as bad_pem, the scan still a success", async () => {
    const { emulator, harness } = await start();
    const broken = emulator.state.addCertificate({
      integrationId: ENTRA,
      pem: "not a certificate",
      enabled: true,
    });
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    const id = String(broken.id);
    expect(exposition.value("sendgrid_sso_certificate_parse_error", { certificate_id: id })).toBe(1);
    expect(exposition.samples(NOT_AFTER, { certificate_id: id })).toEqual([]);
    expect(exposition.value("sendgrid_sso_scan_errors_total", { account: "main", reason: "bad_pem" })).toBe(
      1,
    );
    expect(exposition.value("sendgrid_sso_scrape_success", { account: "main" })).toBe(1);
    expect(exposition.samples(NOT_AFTER)).toHaveLength(4);
    const page = await (await harness.request("/")).text();
    expect(page).toContain("bad_pem");
  });
});

describe("scans that fail", () => {
  it("keeps the last values, sets scrape_success 0 and counts http_5xx while the API answers 500", async () => {
    const { emulator, harness } = await start();
    await harness.daemon.tick();
    const good = await harness.scrape();
    const goodSuccessAt = good.value("sendgrid_sso_last_success_timestamp_seconds", { account: "main" });

    emulator.faults.next({
      match: { path: "/v3/sso/integrations" },
      action: { kind: "status", status: 500 },
    });
    await harness.daemon.tick();
    expect(emulator.faults.pending).toBe(0);
    const failed = await harness.scrape();
    expect(failed.value("sendgrid_sso_scrape_success", { account: "main" })).toBe(0);
    expect(failed.value("sendgrid_sso_scan_errors_total", { account: "main", reason: "http_5xx" })).toBe(1);
    expect(failed.value("sendgrid_sso_last_success_timestamp_seconds", { account: "main" })).toBe(
      goodSuccessAt,
    );
    expect(
      failed.value("sendgrid_sso_last_scrape_timestamp_seconds", { account: "main" }),
    ).toBeGreaterThanOrEqual(goodSuccessAt);
    for (const family of [
      ...CERT_FAMILIES,
      "sendgrid_sso_integration_info",
      "sendgrid_sso_integration_valid_certificates",
    ]) {
      expect({ family, samples: failed.samples(family) }).toEqual({ family, samples: good.samples(family) });
    }
    expect((await harness.request("/readyz")).status).toBe(200);
    const inventory = expectReportShape(await (await harness.request("/api/v1/inventory")).json());
    // Entra's kept certificate expires in 5 days: critical outranks the unknown of the failed scan.
    expect(inventory.status).toBe("critical");
    expect(inventory.accounts[0]!.error).toMatch(/^http_5xx: /);
    expect(inventory.accounts[0]!.integrations).toHaveLength(3);
    expect(await (await harness.request("/")).text()).toContain("http_5xx");
    expect(harness.logs.some((l) => l.level === "warn" && l.reason === "http_5xx")).toBe(true);

    await harness.daemon.tick();
    const recovered = await harness.scrape();
    expect(recovered.value("sendgrid_sso_scrape_success", { account: "main" })).toBe(1);
    expect(recovered.value("sendgrid_sso_scan_errors_total", { account: "main", reason: "http_5xx" })).toBe(
      1,
    );
    expect(
      recovered.value("sendgrid_sso_last_success_timestamp_seconds", { account: "main" }),
    ).toBeGreaterThanOrEqual(goodSuccessAt);
  });

  it("keeps the last certificates of the one integration that failed and updates the others", async () => {
    const { emulator, harness } = await start();
    await harness.daemon.tick();
    const oldRecord = emulator.state.certificatesOf(OKTA).find((c) => c.pem === oktaOld.pem)!;
    const entraRecord = emulator.state.certificatesOf(ENTRA)[0]!;
    emulator.state.removeCertificate(oldRecord.id);
    emulator.state.removeCertificate(entraRecord.id);

    emulator.faults.next({
      match: { path: `/v3/sso/integrations/${ENTRA}/certificates` },
      action: { kind: "status", status: 503 },
    });
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    const ids = certificateIds(exposition, NOT_AFTER);
    expect(ids).toContain(String(entraRecord.id));
    expect(ids).not.toContain(String(oldRecord.id));
    expect(exposition.value("sendgrid_sso_scrape_success", { account: "main" })).toBe(0);
    expect(exposition.value("sendgrid_sso_scan_errors_total", { account: "main", reason: "http_5xx" })).toBe(
      1,
    );
    const inventory = expectReportShape(await (await harness.request("/api/v1/inventory")).json());
    const entraJson = inventory.accounts[0]!.integrations.find((i) => i.id === ENTRA)!;
    expect(entraJson.status).toBe("unknown");
    expect(entraJson.error).toMatch(/^http_5xx: /);
  });

  it("counts a wrong API key as http_401 and is still ready, with status unknown", async () => {
    emulator = await startTestEmulator({ seed: standardSeed(), apiKey: "SG.a-different-key" });
    harness = await startTestDaemon({ emulator });
    await harness.daemon.tick();
    const exposition = await harness.scrape();
    expect(exposition.value("sendgrid_sso_scan_errors_total", { account: "main", reason: "http_401" })).toBe(
      1,
    );
    expect(exposition.value("sendgrid_sso_scrape_success", { account: "main" })).toBe(0);
    expect(exposition.family(NOT_AFTER).samples).toEqual([]);
    expect((await harness.request("/readyz")).status).toBe(200);
    const inventory = expectReportShape(await (await harness.request("/api/v1/inventory")).json());
    expect(inventory.status).toBe("unknown");
    expect(inventory.accounts[0]!.error).toMatch(/^http_401: /);
  });

  it("logs a date the API gives that disagrees with the PEM, once", async () => {
    const { emulator, harness } = await start();
    const notAfter = new Date(Date.parse(new X509Certificate(xss.pem).validTo) + 3_600_000);
    const record = emulator.state.addCertificate({
      integrationId: XSS,
      pem: xss.pem,
      enabled: false,
      notAfter,
    });
    await harness.daemon.tick();
    await harness.daemon.tick();
    const mismatches = harness.logs.filter((l) => l.field === "not_after");
    expect(mismatches).toEqual([
      expect.objectContaining({
        level: "warn",
        certificate_id: String(record.id),
        integration_id: XSS,
        api: notAfter.toISOString(),
        msg: "the API's date disagrees with the PEM by more than a minute; using the PEM",
      }),
    ]);
    // The PEM wins on /metrics.
    expect((await harness.scrape()).value(NOT_AFTER, { certificate_id: String(record.id) })).toBe(
      Date.parse(new X509Certificate(xss.pem).validTo) / 1000,
    );
  });
});

describe("how a scan talks to the API", () => {
  it("makes exactly 1 + N requests per scan: the list with si=true, then each integration's certificates", async () => {
    const { emulator, harness } = await start();
    const integrations = emulator.state.listIntegrations().map((i) => i.id);
    expect(integrations).toHaveLength(3);
    for (let scan = 0; scan < 2; scan++) {
      emulator.clearLog();
      await harness.daemon.tick();
      const log = emulator.log.map((entry) => ({
        method: entry.method,
        path: entry.path,
        query: entry.query,
      }));
      expect(log).toHaveLength(1 + integrations.length);
      expect(log[0]).toEqual({ method: "GET", path: "/v3/sso/integrations", query: { si: "true" } });
      expect(
        log
          .slice(1)
          .map((entry) => `${entry.method} ${entry.path}`)
          .sort(),
      ).toEqual(integrations.map((id) => `GET /v3/sso/integrations/${id}/certificates`).sort());
    }
  });

  it("skips a scan asked for while one runs, counts it and says so in the log", async () => {
    const { emulator, harness } = await start();
    emulator.faults.set({ latencyMs: 50 });
    emulator.clearLog();
    await Promise.all([harness.daemon.tick(), harness.daemon.tick()]);
    const exposition = await harness.scrape();
    expect(exposition.value("sendgrid_sso_scans_skipped_total")).toBe(1);
    expect(emulator.log).toHaveLength(1 + 3);
    expect(harness.logs.filter((l) => l.msg === "previous scan still running; skipping this one")).toEqual([
      expect.objectContaining({ level: "warn" }),
    ]);
    expect(harness.logs.filter((l) => l.msg === "scan complete")).toHaveLength(1);
  });
});

describe("the status page and the inventory document", () => {
  it("lists every integration and certificate, HTML-escaped, with no external assets", async () => {
    const { emulator, harness } = await start();
    await harness.daemon.tick();
    const response = await harness.request("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    const page = await response.text();
    for (const integration of emulator.state.listIntegrations()) {
      expect(page).toContain(integration.id);
    }
    expect(page).toContain("Okta");
    expect(page).toContain("Entra ID");
    expect(page).toContain("&lt;script&gt;x&lt;/script&gt;");
    expect(page).not.toContain(XSS_NAME);
    expect(page).not.toMatch(/<script|<link|<img|src=|url\(/i);
    for (const [, id] of emulatorCertificates(emulator)) expect(page).toContain(id);
    // Entra's certificate expires in 5 days: critical, and the page says so.
    expect(page).toMatch(/class="badge critical"/);
    expect(page).toContain("okta.example.test");
  });

  it("serves /api/v1/inventory in the shape of check --json, with the same content", async () => {
    const { harness } = await start();
    await harness.daemon.tick();
    const served = expectReportShape(await (await harness.request("/api/v1/inventory")).json());
    const check = await runCli(["check", "--json", "--config", harness.configFile], {
      env: { SENDGRID_API_KEY: TEST_API_KEY },
      cwd: dirname(harness.configFile),
    });
    expect(check.code).toBe(2);
    const checked = expectReportShape(JSON.parse(check.stdout));
    // Times differ between the two scans; everything else must be identical.
    const timeless = (report: typeof served) => ({
      ...report,
      generated_at: null,
      accounts: report.accounts.map((a) => ({
        ...a,
        scanned_at: null,
        integrations: a.integrations.map((i) => ({
          ...i,
          certificates: i.certificates.map((c) => ({ ...c, expires_in_seconds: null })),
        })),
      })),
    });
    expect(timeless(served)).toEqual(timeless(checked));
    expect(served.status).toBe("critical");
    expect(served.accounts[0]!.integrations.map((i) => [i.name, i.status])).toEqual([
      ["Okta", "ok"],
      ["Entra ID", "critical"],
      [XSS_NAME, "ok"],
    ]);
  });
});
