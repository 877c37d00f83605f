// Table tests of the lockout detector (idpTrust) and of how evaluate() turns it into an integration's
// status: does SendGrid trust the certificate the IdP signs with now? Real generated certificates, a
// fixed `now`.

import { describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { idpTrust } from "../../src/core/idp-trust.js";
import { NO_OVERRIDES, type Inventory, type ScannedCertificate } from "../../src/core/inventory.js";
import type { IdpSourceType, Offer } from "../../src/core/offer.js";
import { evaluate, type IntegrationState } from "../../src/core/status.js";
import { makeCert } from "../helpers/make-cert.js";
import {
  DAY,
  FILE_SOURCE,
  METADATA_SOURCE,
  certificate,
  failedIdpOffer,
  fileOffer,
  idpOffer,
  idpSource,
  metadataOffer,
  rule,
  scannedIntegration,
  singleAccount,
} from "./plan-fixtures.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const THRESHOLDS = { warningMs: 14 * DAY, criticalMs: 3 * DAY };

const cert = (cn: string, fromDays: number, toDays: number): Promise<GeneratedCertificate> =>
  makeCert({ cn, now: NOW, fromDays, toDays });

const inventory = (certificates: readonly ScannedCertificate[]): Inventory =>
  singleAccount([scannedIntegration("1", certificates)], NOW);

function stateOf(certificates: readonly ScannedCertificate[]): IntegrationState {
  return evaluate(inventory(certificates), THRESHOLDS, NO_OVERRIDES, NOW).accounts[0]!.integrations[0]!;
}

function trustOf(offer: Offer, certificates: readonly ScannedCertificate[]) {
  if (offer.source === "file") throw new Error("the detector watches IdPs only");
  return idpTrust({ ...offer, source: offer.source }, stateOf(certificates), NOW);
}

describe.each(["okta", "entra"] as const)("the lockout detector for %s", (source) => {
  async function keys() {
    const active = await cert("active", -100, 200);
    const next = await cert("next", -1, 700);
    return {
      active,
      next,
      offer: idpOffer(
        source,
        [
          { id: "k-active", pem: active.pem },
          { id: "k-next", pem: next.pem },
        ],
        "k-active",
      ),
    };
  }

  test("the active key's certificate enabled and valid in SendGrid: trusted, even without the next key", async () => {
    const { active, offer } = await keys();
    expect(trustOf(offer, [certificate("10", "1", active.pem)])).toEqual({
      source,
      trusted: true,
      signingFingerprint: active.fingerprintSha256,
      signingNotAfter: new Date(NOW.getTime() + 200 * DAY),
      error: null,
    });
  });

  test("the active key's certificate absent from SendGrid: untrusted (a lockout now)", async () => {
    const { active, next, offer } = await keys();
    const other = await cert("other", -10, 300);
    const trust = trustOf(offer, [certificate("10", "1", other.pem), certificate("11", "1", next.pem)]);
    expect(trust).toMatchObject({
      trusted: false,
      signingFingerprint: active.fingerprintSha256,
      error: null,
    });
  });

  test("the active key's certificate present but disabled: untrusted", async () => {
    const { active, next, offer } = await keys();
    const trust = trustOf(offer, [
      certificate("10", "1", active.pem, false),
      certificate("11", "1", next.pem),
    ]);
    expect(trust.trusted).toBe(false);
  });

  test("the IdP signs with an expired certificate that SendGrid holds enabled: untrusted", async () => {
    const expired = await cert("expired", -400, -1);
    const next = await cert("next", -1, 700);
    const offer = idpOffer(
      source,
      [
        { id: "k-old", pem: expired.pem },
        { id: "k-next", pem: next.pem },
      ],
      "k-old",
    );
    const trust = trustOf(offer, [certificate("10", "1", expired.pem), certificate("11", "1", next.pem)]);
    expect(trust).toMatchObject({
      trusted: false,
      signingFingerprint: expired.fingerprintSha256,
      signingNotAfter: new Date(NOW.getTime() - DAY),
    });
  });

  test("the IdP names no active key: unknown, never trusted", async () => {
    const { active } = await keys();
    const offer = idpOffer(source, [{ id: "k-active", pem: active.pem }], null);
    expect(trustOf(offer, [certificate("10", "1", active.pem)])).toEqual({
      source,
      trusted: null,
      signingFingerprint: null,
      signingNotAfter: null,
      error: "the IdP names no active signing key",
    });
  });

  test("the active key is not among the keys the IdP lists: unknown, naming the key", async () => {
    const { active } = await keys();
    const offer = idpOffer(source, [{ id: "k-active", pem: active.pem }], "k-vanished");
    const trust = trustOf(offer, [certificate("10", "1", active.pem)]);
    expect(trust.trusted).toBeNull();
    expect(trust.error).toBe("the IdP's active signing key k-vanished is not among the keys it lists");
  });

  test("the IdP could not be read: unknown with the source's message", async () => {
    const { active } = await keys();
    const trust = trustOf(failedIdpOffer(source, "HTTP 503 from the IdP"), [
      certificate("10", "1", active.pem),
    ]);
    expect(trust).toEqual({
      source,
      trusted: null,
      signingFingerprint: null,
      signingNotAfter: null,
      error: "HTTP 503 from the IdP",
    });
  });
});

describe("the lockout detector for metadata", () => {
  test("every current published certificate trusted: trusted; two published: no single signer, earliest end", async () => {
    const a = await cert("a", -100, 200);
    const b = await cert("b", -1, 700);
    const held = [certificate("10", "1", a.pem), certificate("11", "1", b.pem)];
    expect(trustOf(metadataOffer([a.pem, b.pem]), held)).toEqual({
      source: "metadata",
      trusted: true,
      signingFingerprint: null,
      signingNotAfter: new Date(NOW.getTime() + 200 * DAY),
      error: null,
    });
    expect(trustOf(metadataOffer([b.pem]), held)).toMatchObject({
      trusted: true,
      signingFingerprint: b.fingerprintSha256,
    });
  });

  test("one current published certificate missing or disabled in SendGrid: untrusted", async () => {
    const a = await cert("a", -100, 200);
    const b = await cert("b", -1, 700);
    expect(trustOf(metadataOffer([a.pem, b.pem]), [certificate("10", "1", a.pem)]).trusted).toBe(false);
    expect(
      trustOf(metadataOffer([a.pem, b.pem]), [
        certificate("10", "1", a.pem),
        certificate("11", "1", b.pem, false),
      ]).trusted,
    ).toBe(false);
  });

  test("published certificates that are expired or not yet valid are ignored", async () => {
    const current = await cert("current", -100, 200);
    const expired = await cert("expired", -400, -1);
    const future = await cert("future", 5, 700);
    const trust = trustOf(metadataOffer([expired.pem, current.pem, future.pem]), [
      certificate("10", "1", current.pem),
    ]);
    expect(trust).toMatchObject({ trusted: true, signingFingerprint: current.fingerprintSha256 });
  });

  test("no published certificate valid now: unknown", async () => {
    const expired = await cert("expired", -400, -1);
    const held = await cert("held", -10, 300);
    const trust = trustOf(metadataOffer([expired.pem]), [certificate("10", "1", held.pem)]);
    expect(trust).toMatchObject({
      trusted: null,
      error: "the metadata publishes no signing certificate valid now",
    });
  });

  test("signed by a certificate SendGrid does not trust: unknown, with a message naming the signer", async () => {
    const a = await cert("a", -100, 200);
    const signer = await cert("signer", -10, 300);
    const trust = trustOf(metadataOffer([a.pem], { fingerprint: signer.fingerprintSha256, pinned: false }), [
      certificate("10", "1", a.pem),
    ]);
    expect(trust.trusted).toBeNull();
    expect(trust.error).toContain(`signed by certificate ${signer.fingerprintSha256}`);
    expect(trust.error).toContain("which SendGrid does not trust for this integration");
  });

  test("signed by a certificate SendGrid holds disabled: still not trusted", async () => {
    const a = await cert("a", -100, 200);
    const trust = trustOf(metadataOffer([a.pem], { fingerprint: a.fingerprintSha256, pinned: false }), [
      certificate("10", "1", a.pem, false),
    ]);
    expect(trust.trusted).toBeNull();
    expect(trust.error).toContain("does not trust");
  });

  test("signed by a certificate SendGrid trusts, or by a pinned one: the document counts", async () => {
    const a = await cert("a", -100, 200);
    const b = await cert("b", -1, 700);
    const pinned = await cert("pinned", -10, 300);
    const held = [certificate("10", "1", a.pem)];
    expect(
      trustOf(metadataOffer([a.pem, b.pem], { fingerprint: a.fingerprintSha256, pinned: false }), held),
    ).toMatchObject({ trusted: false, error: null });
    expect(
      trustOf(metadataOffer([a.pem], { fingerprint: pinned.fingerprintSha256, pinned: true }), held),
    ).toMatchObject({ trusted: true, error: null });
  });
});

describe("evaluate(): the detector's verdict in the integration's status", () => {
  const healthyFor = async (source: IdpSourceType) => {
    const held = await cert("held", -10, 300);
    const other = await cert("other", -10, 300);
    return { held, other, source };
  };

  function statusWith(
    certificates: readonly ScannedCertificate[],
    rules: Parameters<typeof evaluate>[4],
    name = "integration 1",
  ) {
    const scanned = singleAccount([scannedIntegration("1", certificates, name)], NOW);
    return evaluate(scanned, THRESHOLDS, NO_OVERRIDES, NOW, rules);
  }

  test.each(["okta", "entra"] as const)(
    "%s: a healthy certificate does not hide a lockout: untrusted -> critical",
    async (source) => {
      const { held, other } = await healthyFor(source);
      const evaluation = statusWith([certificate("10", "1", held.pem)], {
        rules: [rule({ id: "1" }, idpSource(source))],
        offers: new Map([[0, idpOffer(source, [{ id: "k", pem: other.pem }], "k")]]),
      });
      const state = evaluation.accounts[0]!.integrations[0]!;
      expect(state.best?.api.id).toBe("10");
      expect(state.idp).toMatchObject({ source, trusted: false });
      expect(state.status).toBe("critical");
      expect(evaluation.status).toBe("critical");
    },
  );

  test.each(["okta", "entra"] as const)("%s: trusted -> ok; unreadable -> unknown", async (source) => {
    const { held } = await healthyFor(source);
    const rules = [rule({ id: "1" }, idpSource(source))];
    const ok = statusWith([certificate("10", "1", held.pem)], {
      rules,
      offers: new Map([[0, idpOffer(source, [{ id: "k", pem: held.pem }], "k")]]),
    });
    expect(ok.accounts[0]!.integrations[0]).toMatchObject({ status: "ok", idp: { trusted: true } });
    const failed = statusWith([certificate("10", "1", held.pem)], {
      rules,
      offers: new Map([[0, failedIdpOffer(source, "HTTP 401 from the IdP")]]),
    });
    expect(failed.accounts[0]!.integrations[0]).toMatchObject({
      status: "unknown",
      idp: { trusted: null, error: "HTTP 401 from the IdP" },
    });
    expect(failed.status).toBe("unknown");
  });

  test("metadata with an untrusted signer -> unknown", async () => {
    const held = await cert("held", -10, 300);
    const evaluation = statusWith([certificate("10", "1", held.pem)], {
      rules: [rule({ id: "1" }, METADATA_SOURCE)],
      offers: new Map([[0, metadataOffer([held.pem], { fingerprint: "ab".repeat(32), pinned: false })]]),
    });
    expect(evaluation.accounts[0]!.integrations[0]).toMatchObject({
      status: "unknown",
      idp: { trusted: null },
    });
  });

  test("an integration without an IdP rule has idp null: a file rule, no matching rule, no offer, no sources", async () => {
    const { held, other } = await healthyFor("okta");
    const held10 = [certificate("10", "1", held.pem)];
    const untrusting = idpOffer("okta", [{ id: "k", pem: other.pem }], "k");
    const cases = [
      { rules: [rule({ id: "1" }, FILE_SOURCE)], offers: new Map([[0, fileOffer([other.pem])]]) },
      { rules: [rule({ id: "2" }, idpSource("okta"))], offers: new Map([[0, untrusting]]) },
      { rules: [rule({ name: "other" }, idpSource("okta"))], offers: new Map([[0, untrusting]]) },
      {
        rules: [rule({ id: "1" }, idpSource("okta"), { account: "elsewhere" })],
        offers: new Map([[0, untrusting]]),
      },
      { rules: [rule({ id: "1" }, idpSource("okta"))], offers: new Map<number, Offer>() },
    ];
    for (const sources of cases) {
      const state = statusWith(held10, sources).accounts[0]!.integrations[0]!;
      expect(state.idp).toBeNull();
      expect(state.status).toBe("ok");
    }
    expect(statusWith(held10, null).accounts[0]!.integrations[0]!.idp).toBeNull();
  });

  test("the first matching rule decides: a file rule before an IdP rule leaves idp null", async () => {
    const { held, other } = await healthyFor("okta");
    const evaluation = statusWith([certificate("10", "1", held.pem)], {
      rules: [rule({ id: "1" }, FILE_SOURCE), rule({ id: "1" }, idpSource("okta"))],
      offers: new Map([
        [0, fileOffer([])],
        [1, idpOffer("okta", [{ id: "k", pem: other.pem }], "k")],
      ]),
    });
    expect(evaluation.accounts[0]!.integrations[0]!.idp).toBeNull();
  });

  test("an integration SendGrid could not list is unknown and not compared with the IdP", async () => {
    const { other } = await healthyFor("okta");
    const scanned = singleAccount([scannedIntegration("1", null)], NOW);
    const evaluation = evaluate(scanned, THRESHOLDS, NO_OVERRIDES, NOW, {
      rules: [rule({ id: "1" }, idpSource("okta"))],
      offers: new Map([[0, idpOffer("okta", [{ id: "k", pem: other.pem }], "k")]]),
    });
    expect(evaluation.accounts[0]!.integrations[0]).toMatchObject({ status: "unknown", idp: null });
  });
});
