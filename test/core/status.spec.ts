import { beforeAll, describe, expect, it } from "vitest";
import { NO_OVERRIDES, type EnabledOverrides } from "../../src/core/inventory.js";
import type { ParsedCertificate } from "../../src/core/model.js";
import { certificateStatus, evaluate, type IntegrationState } from "../../src/core/status.js";
import {
  DAY_MS,
  account,
  integration,
  inventoryOf,
  parsedCert,
  type CertRecord,
  scanned,
  scannedIntegration,
} from "../helpers/inventory.js";

const NOW = new Date("2030-01-01T00:00:00Z");
const THRESHOLDS = { warningMs: 30 * DAY_MS, criticalMs: 7 * DAY_MS };
const at = (days: number, ms = 0) => new Date(NOW.getTime() + days * DAY_MS + ms);

/** PEMs by days to notAfter (notBefore 30 days ago unless the key says otherwise). */
const pems = new Map<string, string>();
const pem = (key: string): string => {
  const found = pems.get(key);
  if (!found) throw new Error(`no test certificate ${key}`);
  return found;
};
let reference: ParsedCertificate;

beforeAll(async () => {
  const specs: Record<string, { fromDays: number; toDays: number }> = {
    "365": { fromDays: -30, toDays: 365 },
    "300": { fromDays: -30, toDays: 300 },
    "200": { fromDays: -30, toDays: 200 },
    "100": { fromDays: -30, toDays: 100 },
    "31": { fromDays: -30, toDays: 31 },
    "30": { fromDays: -30, toDays: 30 },
    "8": { fromDays: -30, toDays: 8 },
    "7": { fromDays: -30, toDays: 7 },
    "3": { fromDays: -30, toDays: 3 },
    expired: { fromDays: -400, toDays: -1 },
    future: { fromDays: 5, toDays: 400 },
  };
  for (const [key, spec] of Object.entries(specs)) {
    pems.set(key, (await parsedCert({ ...spec, now: NOW, cn: `cert-${key}.example.test` })).pem);
  }
  pems.set("garbage", "this is not a certificate");
  reference = (await parsedCert({ now: NOW, fromDays: -30, toDays: 365 })).parsed;
});

/** A certificate record naming its test PEM by key, resolved once the PEMs exist. */
type Spec = Omit<CertRecord, "pem"> & { readonly key: string };
const record = ({ key, ...rest }: Spec) => scanned({ ...rest, pem: pem(key) });

/** Evaluates one account with one enabled integration holding `certs`. */
function single(certs: readonly Spec[], overrides: EnabledOverrides = NO_OVERRIDES): IntegrationState {
  const inventory = inventoryOf(account("main", [scannedIntegration(integration("i1"), certs.map(record))]));
  const state = evaluate(inventory, THRESHOLDS, overrides, NOW).accounts[0]!.integrations[0];
  if (!state) throw new Error("integration missing from the evaluation");
  return state;
}

describe("certificateStatus", () => {
  const withDates = (notBefore: Date, notAfter: Date): ParsedCertificate => ({
    ...reference,
    notBefore,
    notAfter,
  });

  it.each([
    ["not yet valid one ms before notBefore", at(0, 1), at(100), "not_yet_valid"],
    ["valid from notBefore on", at(0), at(100), "valid"],
    ["valid one ms outside the warning window", at(-1), at(30, 1), "valid"],
    ["expiring exactly at the warning threshold", at(-1), at(30), "expiring"],
    ["expiring inside the critical window", at(-1), at(3), "expiring"],
    ["expiring one ms before notAfter", at(-1), at(0, 1), "expiring"],
    ["expired at notAfter", at(-1), at(0), "expired"],
    ["expired long ago", at(-400), at(-1), "expired"],
  ] as const)("%s", (_name, notBefore, notAfter, expected) => {
    expect(certificateStatus(withDates(notBefore, notAfter), THRESHOLDS, NOW)).toBe(expected);
  });

  it("is invalid when the PEM did not parse", () => {
    expect(certificateStatus(null, THRESHOLDS, NOW)).toBe("invalid");
  });
});

describe("evaluate: certificates", () => {
  it.each([
    ["365", "valid"],
    ["31", "valid"],
    ["30", "expiring"],
    ["3", "expiring"],
    ["expired", "expired"],
    ["future", "not_yet_valid"],
    ["garbage", "invalid"],
  ])("certificate %s days -> %s", (key, expected) => {
    expect(single([{ id: "c1", key }]).certificates[0]!.status).toBe(expected);
  });

  it("takes the dates from the PEM, not from the API", () => {
    const state = single([{ id: "c1", key: "365", notBefore: at(-900), notAfter: at(-800) }]);
    const certificate = state.certificates[0]!;
    expect(certificate.status).toBe("valid");
    expect(certificate.notAfter).toEqual(at(365));
    expect(certificate.notBefore).toEqual(at(-30));
    expect(certificate.expiresInMs).toBe(365 * DAY_MS);
    expect(state.status).toBe("ok");
  });

  it("keeps an unparsable certificate as invalid, with its failure and the API's dates", () => {
    const state = single([{ id: "bad", key: "garbage", notBefore: at(-10), notAfter: at(50) }]);
    const certificate = state.certificates[0]!;
    expect(certificate).toMatchObject({
      status: "invalid",
      parsed: null,
      notBefore: at(-10),
      notAfter: at(50),
      expiresInMs: 50 * DAY_MS,
    });
    expect(certificate.failure?.reason).toBe("bad_pem");
    expect(state.best).toBeNull();
    expect(state.status).toBe("critical");
  });

  it("has no dates at all for an invalid certificate the API gave no dates for", () => {
    const certificate = single([{ id: "bad", key: "garbage", notBefore: null, notAfter: null }])
      .certificates[0]!;
    expect(certificate.notAfter).toBeNull();
    expect(certificate.expiresInMs).toBeNull();
  });
});

describe("evaluate: an integration's best certificate", () => {
  it("is the latest notAfter among the enabled, currently valid ones", () => {
    const state = single([
      { id: "a", key: "100" },
      { id: "b-disabled", key: "365", enabled: false },
      { id: "c", key: "200" },
      { id: "d-expired", key: "expired" },
      { id: "e-future", key: "future" },
      { id: "f-invalid", key: "garbage" },
      { id: "g", key: "30" },
    ]);
    expect(state.best?.api.id).toBe("c");
    expect(state.best?.notAfter).toEqual(at(200));
    expect(state.validCount).toBe(3);
    expect(state.status).toBe("ok");
  });

  it("counts an expiring certificate as usable", () => {
    const state = single([{ id: "a", key: "8" }]);
    expect(state.best?.api.id).toBe("a");
    expect(state.validCount).toBe(1);
  });

  it.each([
    ["365", "ok"],
    ["31", "ok"],
    ["30", "warning"],
    ["8", "warning"],
    ["7", "critical"],
    ["3", "critical"],
  ])("best certificate %s days left -> integration %s", (key, expected) => {
    expect(single([{ id: "a", key }]).status).toBe(expected);
  });

  it.each([
    ["no certificates", []],
    ["only an expired one", [{ id: "a", key: "expired" }]],
    ["only a not yet valid one", [{ id: "a", key: "future" }]],
    ["only an invalid one", [{ id: "a", key: "garbage" }]],
    ["only a disabled valid one", [{ id: "a", key: "365", enabled: false }]],
  ])("is critical with %s", (_name, certs) => {
    const state = single(certs);
    expect(state.best).toBeNull();
    expect(state.validCount).toBe(0);
    expect(state.status).toBe("critical");
  });

  it("is unknown when its certificates could not be listed", () => {
    const inventory = inventoryOf(
      account("main", [scannedIntegration(integration("i1"), null, { reason: "http_5xx", message: "boom" })]),
    );
    const state = evaluate(inventory, THRESHOLDS, NO_OVERRIDES, NOW).accounts[0]!.integrations[0]!;
    expect(state.status).toBe("unknown");
    expect(state.error).toEqual({ reason: "http_5xx", message: "boom" });
    expect(state.certificates).toEqual([]);
  });

  it("is unknown when listing failed even though carried-forward certificates look fine", () => {
    const inventory = inventoryOf(
      account("main", [
        scannedIntegration(integration("i1"), [record({ id: "a", key: "365" })], {
          reason: "timeout",
          message: "slow",
        }),
      ]),
    );
    const state = evaluate(inventory, THRESHOLDS, NO_OVERRIDES, NOW).accounts[0]!.integrations[0]!;
    expect(state.status).toBe("unknown");
    expect(state.best?.api.id).toBe("a");
  });
});

describe("evaluate: enabled state the API did not give", () => {
  const disabledByTool = (ids: string[]): EnabledOverrides => ({
    isDisabledByTool: (accountName, certificateId) => accountName === "main" && ids.includes(certificateId),
  });

  it("counts unknown as enabled, and reports it as unknown", () => {
    const state = single([{ id: "a", key: "365", enabled: null }]);
    expect(state.certificates[0]).toMatchObject({ enabled: true, knownEnabled: null });
    expect(state.best?.api.id).toBe("a");
    expect(state.status).toBe("ok");
  });

  it("counts unknown as disabled when the journal says this tool disabled it", () => {
    const state = single(
      [
        { id: "old", key: "365", enabled: null },
        { id: "new", key: "100", enabled: null },
      ],
      disabledByTool(["old"]),
    );
    expect(state.certificates.map((c) => [c.api.id, c.enabled, c.knownEnabled])).toEqual([
      ["old", false, false],
      ["new", true, null],
    ]);
    expect(state.best?.api.id).toBe("new");
    expect(state.validCount).toBe(1);
  });

  it("lets the API's own word win over the journal", () => {
    const state = single([{ id: "a", key: "365", enabled: true }], disabledByTool(["a"]));
    expect(state.certificates[0]).toMatchObject({ enabled: true, knownEnabled: true });
  });

  it("applies a journal override only to its own account", () => {
    const overrides = disabledByTool(["a"]);
    const inventory = inventoryOf(
      account("other", [
        scannedIntegration(integration("i1"), [record({ id: "a", key: "365", enabled: null })]),
      ]),
    );
    const state = evaluate(inventory, THRESHOLDS, overrides, NOW).accounts[0]!.integrations[0]!;
    expect(state.certificates[0]!.knownEnabled).toBeNull();
    expect(state.status).toBe("ok");
  });
});

describe("evaluate: the overall status", () => {
  /** An integration by its best certificate's key, "failed" when listing it failed; "!" marks it disabled. */
  const build = (id: string, key: string) =>
    key === "failed"
      ? scannedIntegration(integration(id), null, { reason: "http_5xx", message: "down" })
      : scannedIntegration(integration(id, { enabled: !key.startsWith("!") }), [
          record({ id: `${id}-c`, key: key.replace("!", "") }),
        ]);
  const integrations = (...keys: string[]) => keys.map((key, index) => build(`i${index}`, key));
  const overall = (...accounts: Parameters<typeof inventoryOf>) =>
    evaluate(inventoryOf(...accounts), THRESHOLDS, NO_OVERRIDES, NOW).status;

  it.each([
    ["ok when everything is ok", ["365", "100"], "ok"],
    ["warning when one is warning", ["365", "30"], "warning"],
    ["critical when one is critical", ["30", "3"], "critical"],
    ["unknown when one could not be read", ["30", "failed"], "unknown"],
    ["critical outranks unknown", ["failed", "expired"], "critical"],
    ["a disabled critical integration does not raise it", ["365", "!expired"], "ok"],
    ["a disabled warning integration does not raise it", ["365", "!30"], "ok"],
    ["ok with no integrations at all", [], "ok"],
  ])("%s", (_name, keys, expected) => {
    expect(overall(account("main", integrations(...keys)))).toBe(expected);
  });

  it("still evaluates a disabled integration (shown, just not paging)", () => {
    const evaluation = evaluate(
      inventoryOf(account("main", integrations("!expired"))),
      THRESHOLDS,
      NO_OVERRIDES,
      NOW,
    );
    expect(evaluation.accounts[0]!.integrations[0]!.status).toBe("critical");
    expect(evaluation.status).toBe("ok");
  });

  it("is unknown when an account could not be listed, and critical wins across accounts", () => {
    const down = account("down", [], { error: { reason: "http_401", message: "bad key" } });
    expect(overall(account("main", integrations("365")), down)).toBe("unknown");
    expect(overall(account("main", integrations("3")), down)).toBe("critical");
  });

  it("keeps generatedAt and each account's scan times", () => {
    const started = new Date("2029-12-31T23:59:00Z");
    const evaluation = evaluate(
      inventoryOf(account("main", [], { at: started })),
      THRESHOLDS,
      NO_OVERRIDES,
      NOW,
    );
    expect(evaluation.generatedAt).toEqual(NOW);
    expect(evaluation.accounts[0]).toMatchObject({ account: "main", startedAt: started, error: null });
  });
});

describe("evaluate: dates where the PEM and the API disagree", () => {
  const mismatchesOf = (certs: readonly Spec[]) =>
    evaluate(
      inventoryOf(account("main", [scannedIntegration(integration("i1"), certs.map(record))])),
      THRESHOLDS,
      NO_OVERRIDES,
      NOW,
    ).dateMismatches;

  it("reports a not_after more than a minute off, with both dates", () => {
    expect(mismatchesOf([{ id: "c1", key: "365", notAfter: at(365, 60_001) }])).toEqual([
      {
        account: "main",
        integrationId: "i1",
        certificateId: "c1",
        field: "not_after",
        pem: at(365),
        api: at(365, 60_001),
      },
    ]);
  });

  it("reports a not_before more than a minute early", () => {
    const found = mismatchesOf([{ id: "c1", key: "365", notBefore: at(-30, -61_000) }]);
    expect(found.map((m) => [m.field, m.api])).toEqual([["not_before", at(-30, -61_000)]]);
  });

  it.each([
    ["exactly equal", 0],
    ["one minute later", 60_000],
    ["one minute earlier", -60_000],
  ])("does not report dates %s", (_name, offset) => {
    expect(
      mismatchesOf([{ id: "c1", key: "365", notAfter: at(365, offset), notBefore: at(-30, offset) }]),
    ).toEqual([]);
  });

  it("does not report when the API gave no date, or the PEM did not parse", () => {
    expect(
      mismatchesOf([
        { id: "c1", key: "365", notAfter: null, notBefore: null },
        { id: "c2", key: "garbage", notAfter: at(1), notBefore: at(-1) },
      ]),
    ).toEqual([]);
  });
});
