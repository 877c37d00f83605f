import { X509Certificate } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { NO_OVERRIDES } from "../../src/core/inventory.js";
import { inventoryReport } from "../../src/core/report.js";
import { evaluate } from "../../src/core/status.js";
import {
  DAY_MS,
  account,
  integration,
  inventoryOf,
  scanned,
  scannedIntegration,
} from "../helpers/inventory.js";
import { makeCert } from "../helpers/make-cert.js";
import { expectReportShape, type ReportJson } from "../helpers/report-shape.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const SCANNED_AT = new Date("2029-12-31T23:59:58.250Z");
const THRESHOLDS = { warningMs: 30 * DAY_MS, criticalMs: 7 * DAY_MS };

let healthyPem: string;
let expiredPem: string;
let report: ReportJson;

/** JSON round trip: what a script reading `check --json` sees. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

beforeAll(async () => {
  healthyPem = (await makeCert({ now: NOW, cn: "okta.example.test", fromDays: -10, toDays: 100 })).pem;
  expiredPem = (await makeCert({ now: NOW, cn: "duo.example.test", fromDays: -400, toDays: -2 })).pem;
  const inventory = inventoryOf(
    account(
      "main",
      [
        scannedIntegration(integration("okta", { name: "Okta" }), [
          scanned({ id: "101", pem: healthyPem, enabled: null }),
          scanned({ id: "102", pem: "garbage", notBefore: null, notAfter: null }),
        ]),
        scannedIntegration(integration("duo", { name: "Duo", enabled: false }), [
          scanned({ id: "201", pem: expiredPem, enabled: false }),
        ]),
        scannedIntegration(integration("entra", { name: "Entra" }), null, {
          reason: "http_404",
          message: "not found",
        }),
      ],
      { at: SCANNED_AT },
    ),
    account("eu", [], { error: { reason: "http_401", message: "authorization required" }, at: SCANNED_AT }),
  );
  report = asJson(inventoryReport(evaluate(inventory, THRESHOLDS, NO_OVERRIDES, NOW))) as ReportJson;
});

describe("inventoryReport (the check --json document)", () => {
  it("has exactly the keys of SPEC.md (and the documented additions) at every level", () => {
    expectReportShape(report);
  });

  it("states the overall status and when it was generated, as ISO-8601 UTC", () => {
    expect(report.generated_at).toBe("2030-01-01T00:00:00.000Z");
    // Entra could not be read and the eu account is down; nothing enabled is critical.
    expect(report.status).toBe("unknown");
    expect(report.accounts.map((a) => [a.name, a.scanned_at, a.error])).toEqual([
      ["main", "2029-12-31T23:59:58.250Z", null],
      ["eu", "2029-12-31T23:59:58.250Z", "http_401: authorization required"],
    ]);
  });

  it("describes a parsed certificate from its PEM: fingerprint as lowercase hex without colons", () => {
    const reference = new X509Certificate(healthyPem);
    const okta = report.accounts[0]!.integrations[0]!;
    expect(okta).toMatchObject({
      id: "okta",
      name: "Okta",
      enabled: true,
      status: "ok",
      best_not_after: new Date(NOW.getTime() + 100 * DAY_MS).toISOString(),
      valid_certificates: 1,
      error: null,
    });
    expect(okta.certificates[0]).toEqual({
      id: "101",
      fingerprint_sha256: reference.fingerprint256.replaceAll(":", "").toLowerCase(),
      subject: "CN=okta.example.test",
      issuer: "CN=okta.example.test",
      serial_number: reference.serialNumber.toLowerCase(),
      not_before: "2029-12-22T00:00:00.000Z",
      not_after: "2030-04-11T00:00:00.000Z",
      expires_in_seconds: 100 * 86_400,
      enabled: null,
      status: "valid",
      error: null,
    });
  });

  it("keeps an unparsable certificate with its reason and nulls where the PEM would have spoken", () => {
    expect(report.accounts[0]!.integrations[0]!.certificates[1]).toEqual({
      id: "102",
      fingerprint_sha256: null,
      subject: null,
      issuer: null,
      serial_number: null,
      not_before: null,
      not_after: null,
      expires_in_seconds: null,
      enabled: true,
      status: "invalid",
      error: expect.stringMatching(/^bad_pem: /) as unknown,
    });
  });

  it("shows an expired certificate with negative seconds, and a disabled integration as not enabled", () => {
    const duo = report.accounts[0]!.integrations[1]!;
    expect(duo).toMatchObject({
      enabled: false,
      status: "critical",
      best_not_after: null,
      valid_certificates: 0,
    });
    expect(duo.certificates[0]).toMatchObject({
      enabled: false,
      status: "expired",
      expires_in_seconds: -2 * 86_400,
    });
  });

  it("reports an integration that could not be read with its reason and no certificates", () => {
    expect(report.accounts[0]!.integrations[2]).toMatchObject({
      id: "entra",
      status: "unknown",
      error: "http_404: not found",
      certificates: [],
      best_not_after: null,
    });
  });

  it("rounds expires_in_seconds down", () => {
    const inventory = inventoryOf(
      account("main", [scannedIntegration(integration("okta"), [scanned({ id: "1", pem: healthyPem })])]),
    );
    const oneAndAHalfSecondsLater = new Date(NOW.getTime() + 1_500);
    const certificate = inventoryReport(
      evaluate(inventory, THRESHOLDS, NO_OVERRIDES, oneAndAHalfSecondsLater),
    ).accounts[0]!.integrations[0]!.certificates[0]!;
    expect(certificate.expires_in_seconds).toBe(100 * 86_400 - 2);
  });
});
