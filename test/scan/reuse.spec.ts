import { beforeAll, describe, expect, it } from "vitest";
import { parseStats } from "../../src/certs/parse.js";
import type { ApiCertificate } from "../../src/core/model.js";
import { sameRecord, scannedIntegration } from "../../src/scan/reuse.js";
import { integration } from "../helpers/inventory.js";
import { makeCert } from "../helpers/make-cert.js";

const AT = new Date("2030-01-01T00:00:00Z");
let pems: string[];

beforeAll(async () => {
  pems = await Promise.all([0, 1, 2].map((i) => makeCert({ cn: `reuse-${i}.example.test`, now: AT }))).then(
    (certs) => certs.map((c) => c.pem),
  );
});

/** A certificate record as a new API answer brings it: new objects, new strings, new Dates. */
function record(id: string, pem: string, overrides: Partial<ApiCertificate> = {}): ApiCertificate {
  return {
    id,
    integrationId: "okta-id",
    pem: Buffer.from(pem).toString("utf8"),
    enabled: true,
    notBefore: new Date(AT.getTime()),
    notAfter: new Date(AT.getTime() + 86_400_000),
    ...overrides,
  };
}

const calls = () => {
  const stats = parseStats();
  return stats.parses + stats.cacheHits;
};

describe("sameRecord", () => {
  it("compares plain data by value: strings, booleans, null and Dates by instant", () => {
    const a = { id: "1", on: true, gone: null, at: new Date(5) };
    expect(sameRecord(a, { id: "1", on: true, gone: null, at: new Date(5) })).toBe(true);
    expect(sameRecord(a, { ...a, at: new Date(6) })).toBe(false);
    expect(sameRecord(a, { ...a, on: false })).toBe(false);
    expect(sameRecord(a, { ...a, gone: new Date(5) })).toBe(false);
    expect(sameRecord(a, { ...a, extra: "x" })).toBe(false);
  });

  it("counts any other kind of value as changed, even when equal", () => {
    expect(sameRecord({ list: ["a"] }, { list: ["a"] })).toBe(false);
    const shared = ["a"];
    expect(sameRecord({ list: shared }, { list: shared })).toBe(true);
  });
});

describe("scannedIntegration", () => {
  it("parses every certificate of a first listing", () => {
    const before = calls();
    const result = scannedIntegration(undefined, integration("okta-id"), [record("1", pems[0]!)]);
    expect(calls() - before).toBe(1);
    expect(result.error).toBeNull();
    expect(result.certificates?.[0]?.parsed.ok).toBe(true);
  });

  it("returns the previous result itself when nothing changed, without calling the parser", () => {
    const previous = scannedIntegration(undefined, integration("okta-id"), [
      record("1", pems[0]!),
      record("2", pems[1]!),
    ]);
    const before = calls();
    const again = scannedIntegration(previous, integration("okta-id"), [
      record("1", pems[0]!),
      record("2", pems[1]!),
    ]);
    expect(calls()).toBe(before);
    expect(again).toBe(previous);
  });

  it("keeps unchanged certificates and reads changed and new ones; the integration's changes show", () => {
    const previous = scannedIntegration(undefined, integration("okta-id", { name: "Okta" }), [
      record("1", pems[0]!),
      record("2", pems[1]!),
    ]);
    const before = calls();
    const next = scannedIntegration(previous, integration("okta-id", { name: "Okta EU" }), [
      record("1", pems[0]!),
      record("2", pems[1]!, { enabled: false }),
      record("3", pems[2]!),
    ]);
    expect(calls() - before).toBe(2);
    expect(next).not.toBe(previous);
    expect(next.integration.name).toBe("Okta EU");
    expect(next.certificates?.[0]).toBe(previous.certificates?.[0]);
    expect(next.certificates?.[1]?.api.enabled).toBe(false);
    expect(next.certificates?.map((c) => c.api.id)).toEqual(["1", "2", "3"]);
  });

  it("drops a certificate the listing no longer has and keeps the listing's order", () => {
    const previous = scannedIntegration(undefined, integration("okta-id"), [
      record("1", pems[0]!),
      record("2", pems[1]!),
    ]);
    const next = scannedIntegration(previous, integration("okta-id"), [record("2", pems[1]!)]);
    expect(next.certificates?.map((c) => c.api.id)).toEqual(["2"]);
    expect(next.certificates?.[0]).toBe(previous.certificates?.[1]);
    expect(next.integration).toBe(previous.integration);
  });

  it("never trusts an id alone: a new PEM under the same id is parsed", () => {
    const previous = scannedIntegration(undefined, integration("okta-id"), [record("1", pems[0]!)]);
    const next = scannedIntegration(previous, integration("okta-id"), [record("1", pems[1]!)]);
    const fingerprints = [previous, next].map((s) => {
      const parsed = s.certificates?.[0]?.parsed;
      return parsed?.ok ? parsed.certificate.fingerprintSha256 : null;
    });
    expect(fingerprints[0]).not.toBeNull();
    expect(fingerprints[1]).not.toBe(fingerprints[0]);
  });
});
