// Table tests of the planner's IdP side (SPEC.md "IdP sources"): the mirror of an okta or entra source
// (pre-staging every published key, enabling the signing one, disabling what is no longer published
// after the overlap), the key rollover of `manage_keys` phase by phase, and the rollback of a rollover.
// Real generated certificates, a fixed `now`.

import { describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { RotationConfig } from "../../src/config/types.js";
import { EMPTY_JOURNAL, type Journal, type RolloverRecord } from "../../src/core/journal.js";
import type { Offer } from "../../src/core/offer.js";
import { DEFAULT_SETTLE_MS, plan, type Plan, type PlanInput } from "../../src/core/plan.js";
import { planRollback } from "../../src/core/rollback.js";
import type { ScannedCertificate } from "../../src/core/inventory.js";
import { makeCert } from "../helpers/make-cert.js";
import {
  DAY,
  HOUR,
  certificate,
  failedIdpOffer,
  idpOffer,
  idpSource,
  metadataOffer,
  journalWith,
  rolloverRecord,
  rotationConfig,
  rotationRecord,
  rule,
  scannedIntegration,
  singleAccount,
  summary,
  type TestKey,
} from "./plan-fixtures.js";

const NOW = new Date("2026-03-01T12:00:00Z");
const YEAR = 365.25 * DAY;

const cert = (cn: string, fromDays: number, toDays: number): Promise<GeneratedCertificate> =>
  makeCert({ cn, now: NOW, fromDays, toDays });

type Idp = "okta" | "entra";

const idpRule = (
  source: Idp,
  options: Parameters<typeof rule>[2] = {},
  config: Partial<RotationConfig> = {},
) => rotationConfig([rule({ id: "1" }, idpSource(source), options)], config);

function planFor(
  certificates: readonly ScannedCertificate[],
  rotation: RotationConfig,
  offer: Offer,
  journal: Journal = EMPTY_JOURNAL,
  extra: Partial<PlanInput> = {},
): Plan {
  return plan({
    scanned: singleAccount([scannedIntegration("1", certificates, "Okta SSO")], extra.now ?? NOW),
    offers: new Map([[0, offer]]),
    rotation,
    journal,
    now: NOW,
    ...extra,
  });
}

const key = (id: string, c: GeneratedCertificate): TestKey => ({ id, pem: c.pem });
const short = (c: GeneratedCertificate) => c.fingerprintSha256.slice(0, 8);

/** A verified mirror rotation of `c` in SendGrid as certificate `certificateId`: what makes a key trusted. */
const verifiedMirror = (
  c: GeneratedCertificate,
  certificateId: string,
  verifiedAt = new Date(NOW.getTime() - DAY),
) =>
  rotationRecord({
    id: `mirror-${certificateId}`,
    integrationId: "1",
    kind: "mirror",
    origin: `okta key for ${certificateId}`,
    fingerprint: c.fingerprintSha256,
    pem: c.pem,
    notAfter: new Date(0),
    phase: "verified",
    certificateId,
    uploadedAt: verifiedAt,
    verifiedAt,
  });

describe.each(["okta", "entra"] as const)("the %s mirror", (source) => {
  const name = source === "okta" ? "Okta" : "Entra ID";

  test("the active key missing in SendGrid is uploaded, saying the IdP signs with it", async () => {
    const legacy = await cert("legacy", -100, 200);
    const active = await cert("active", -10, 300);
    const planned = planFor(
      [certificate("10", "1", legacy.pem)],
      idpRule(source),
      idpOffer(source, [key("k1", active)], "k1"),
    );
    expect(summary(planned.actions)).toEqual([`upload 1 ${short(active)}`]);
    const upload = planned.actions[0]!;
    expect(upload.kind === "upload" && upload.rotation).toMatchObject({
      kind: "mirror",
      replaces: [],
      origin: `${source} key k1`,
    });
    expect(upload.reason).toBe(
      `${name} publishes a signing certificate valid until ${new Date(NOW.getTime() + 300 * DAY).toISOString()} (the IdP signs with it now)`,
    );
    // The legacy certificate is neither the signing key nor newer: remembered, disabled later.
    expect(planned.notes.map((n) => n.message)).toEqual([
      `certificate 10 is neither the key ${name} signs with nor a newer one; disabling it after the overlap`,
    ]);
  });

  test("a newer inactive key is uploaded at once although nothing is due (pre-staging)", async () => {
    const active = await cert("active", -10, 300);
    const next = await cert("next", -1, 700);
    const planned = planFor(
      [certificate("10", "1", active.pem)],
      idpRule(source, { rotateBefore: { kind: "duration", ms: DAY } }),
      idpOffer(source, [key("k1", active), key("k2", next)], "k1"),
    );
    expect(summary(planned.actions)).toEqual([`upload 1 ${short(next)}`]);
    expect(planned.actions[0]!.reason).not.toContain("signs with it now");
    expect(planned.notes).toEqual([]);
  });

  test("an older inactive key is not uploaded; its certificate is disabled after the overlap, never before", async () => {
    const older = await cert("older", -300, 100);
    const active = await cert("active", -10, 300);
    const offer = idpOffer(source, [key("k0", older), key("k1", active)], "k1");
    const held = [certificate("10", "1", older.pem), certificate("11", "1", active.pem)];
    const rotation = idpRule(source, { overlapMs: DAY });

    const first = planFor(held, rotation, offer);
    expect(first.actions).toEqual([]);
    expect(first.journal.unpublished).toEqual([
      { account: "main", integrationId: "1", fingerprint: older.fingerprintSha256, since: NOW },
    ]);
    const at = (ms: number) =>
      planFor(held, rotation, offer, first.journal, { now: new Date(NOW.getTime() + ms) });
    expect(at(DAY - 1).actions).toEqual([]);
    expect(at(DAY).actions).toMatchObject([
      {
        kind: "disable",
        certificateId: "10",
        rotationId: null,
        reason: `neither the key ${name} signs with nor a newer one since ${NOW.toISOString()}`,
      },
    ]);

    // An older key not in SendGrid at all is never uploaded.
    const missing = planFor([certificate("11", "1", active.pem)], rotation, offer);
    expect(missing.actions).toEqual([]);
  });

  test("the active certificate is never disabled, not even when it is older than every other key", async () => {
    const active = await cert("active", -300, 100);
    const next = await cert("next", -1, 700);
    const held = [certificate("10", "1", active.pem), certificate("11", "1", next.pem)];
    const offer = idpOffer(source, [key("k1", active), key("k2", next)], "k1");
    const journal = journalWith({
      unpublished: [
        { account: "main", integrationId: "1", fingerprint: active.fingerprintSha256, since: new Date(0) },
      ],
    });
    const planned = planFor(held, idpRule(source), offer, journal);
    expect(planned.actions).toEqual([]);
    // It is published again, so the stale record is forgotten.
    expect(planned.journal.unpublished).toEqual([]);
  });

  test("the active certificate held disabled is enabled; an older one is then not disabled before it counts", async () => {
    const older = await cert("older", -300, 100);
    const active = await cert("active", -10, 300);
    const offer = idpOffer(source, [key("k0", older), key("k1", active)], "k1");
    const journal = journalWith({
      unpublished: [
        { account: "main", integrationId: "1", fingerprint: older.fingerprintSha256, since: new Date(0) },
      ],
    });
    const planned = planFor(
      [certificate("10", "1", older.pem), certificate("11", "1", active.pem, false)],
      idpRule(source),
      offer,
      journal,
    );
    expect(summary(planned.actions)).toEqual(["enable 1 11"]);
    expect(planned.actions[0]!.reason).toContain("SendGrid holds it disabled");
    expect(planned.notes.map((n) => n.message)).toContain(
      "not disabling certificate 10: it would leave no valid enabled certificate",
    );
  });

  test("an expired active certificate held disabled is not enabled", async () => {
    const expired = await cert("expired", -400, -1);
    const other = await cert("other", -10, 300);
    const planned = planFor(
      [certificate("10", "1", expired.pem, false), certificate("11", "1", other.pem)],
      idpRule(source),
      idpOffer(source, [key("k1", expired)], "k1"),
    );
    expect(planned.actions.filter((a) => a.kind === "enable")).toEqual([]);
  });

  test("delete_disabled_after never deletes a published certificate, only an unpublished one", async () => {
    const older = await cert("older", -300, 100);
    const active = await cert("active", -10, 300);
    const next = await cert("next", -1, 700);
    const gone = await cert("gone", -200, 50);
    const disabledLongAgo = (certificateId: string, c: GeneratedCertificate) => ({
      account: "main",
      integrationId: "1",
      certificateId,
      fingerprint: c.fingerprintSha256,
      at: new Date(NOW.getTime() - 60 * DAY),
    });
    const planned = planFor(
      [
        certificate("10", "1", older.pem, false),
        certificate("11", "1", active.pem),
        certificate("12", "1", next.pem, false),
        certificate("13", "1", gone.pem, false),
      ],
      idpRule(source, {}, { deleteDisabledAfterMs: 30 * DAY }),
      idpOffer(source, [key("k0", older), key("k1", active), key("k2", next)], "k1"),
      journalWith({
        disabled: [
          disabledLongAgo("10", older),
          disabledLongAgo("11", active),
          disabledLongAgo("12", next),
          disabledLongAgo("13", gone),
        ],
      }),
    );
    expect(summary(planned.actions).filter((s) => s.startsWith("delete"))).toEqual([
      "delete 1 10",
      "delete 1 13",
    ]);
  });

  test("max_rotations_per_cycle caps the mirror's uploads, with a note", async () => {
    const active = await cert("active", -10, 300);
    const a = await cert("a", -1, 500);
    const b = await cert("b", -1, 600);
    const planned = planFor(
      [],
      idpRule(source, {}, { maxRotationsPerCycle: 2 }),
      idpOffer(source, [key("k1", active), key("k2", a), key("k3", b)], "k1"),
    );
    expect(summary(planned.actions)).toEqual([`upload 1 ${short(active)}`, `upload 1 ${short(a)}`]);
    expect(planned.notes.map((n) => n.message)).toEqual([
      "mirror upload postponed: max_rotations_per_cycle reached",
    ]);
  });

  test("a failed IdP read: no action at all, a note, the journal's memory kept", async () => {
    const older = await cert("older", -300, 100);
    const active = await cert("active", -10, 300);
    const next = await cert("next", -1, 700);
    const journal = journalWith({
      rotations: [verifiedMirror(active, "11")],
      unpublished: [
        { account: "main", integrationId: "1", fingerprint: older.fingerprintSha256, since: new Date(0) },
      ],
      disabled: [
        {
          account: "main",
          integrationId: "1",
          certificateId: "12",
          fingerprint: next.fingerprintSha256,
          at: new Date(0),
        },
      ],
    });
    const planned = planFor(
      [
        certificate("10", "1", older.pem),
        certificate("11", "1", active.pem),
        certificate("12", "1", next.pem, false),
      ],
      idpRule(source, {}, { deleteDisabledAfterMs: 0 }),
      failedIdpOffer(source, "HTTP 503 Service Unavailable"),
      journal,
    );
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => [n.level, n.message])).toEqual([
      ["warn", `${source}: HTTP 503 Service Unavailable; no rotation step this cycle`],
    ]);
    expect(planned.journal).toEqual(journal);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The rollover (`manage_keys`).

/** The IdP signs with `current` (due: 10 days left), SendGrid trusts it as certificate 10. */
async function dueWorld() {
  const current = await cert("current", -700, 10);
  return { current, held: [certificate("10", "1", current.pem)] };
}

describe("starting a key rollover", () => {
  test("not due: nothing", async () => {
    const current = await cert("current", -10, 300);
    const planned = planFor(
      [certificate("10", "1", current.pem)],
      idpRule("okta"),
      idpOffer("okta", [key("k1", current)], "k1", 2),
    );
    expect(planned.actions).toEqual([]);
    expect(planned.journal.rollovers).toEqual([]);
  });

  test("due with manage_keys false: no generate", async () => {
    const { current, held } = await dueWorld();
    const planned = planFor(held, idpRule("okta"), idpOffer("okta", [key("k1", current)], "k1", null));
    expect(planned.actions).toEqual([]);
    expect(planned.journal.rollovers).toEqual([]);
  });

  test.each(["okta", "entra"] as const)(
    "%s, due with manage_keys: a generate with its intent",
    async (source) => {
      const { current, held } = await dueWorld();
      const older = await cert("older", -800, 5);
      const planned = planFor(
        held,
        idpRule(source),
        idpOffer(source, [key("k0", older), key("k1", current)], "k1", 3),
      );
      expect(summary(planned.actions)).toEqual(["generate 1 new"]);
      const generate = planned.actions[0]!;
      if (generate.kind !== "generate") throw new Error("not a generate");
      expect(generate.ruleIndex).toBe(0);
      expect(generate.rollover).toMatchObject({
        account: "main",
        integrationId: "1",
        source,
        phase: "generating",
        key: null,
        previousKeyId: "k1",
        replaces: [{ certificateId: "10", fingerprint: current.fingerprintSha256 }],
        startedAt: NOW,
        intent: { requestedAt: NOW, validityYears: 3, subject: "CN=Okta SSO", knownKeyIds: ["k0", "k1"] },
      });
      expect(generate.reason).toBe(
        `the IdP's signing key k1 expires ${new Date(NOW.getTime() + 10 * DAY).toISOString()}; generating a new key valid for 3 year(s)`,
      );
      // The executor journals the intent before the call; the plan itself does not.
      expect(planned.journal.rollovers).toEqual([]);
    },
  );

  test("due, and the IdP already holds a newer valid key: no generate, the record starts `generated`", async () => {
    const { current, held } = await dueWorld();
    const next = await cert("next", -1, 700);
    const planned = planFor(
      held,
      idpRule("okta"),
      idpOffer("okta", [key("k1", current), key("k2", next)], "k1", 2),
    );
    // SendGrid's half is the mirror's: the key is uploaded in the same plan.
    expect(summary(planned.actions)).toEqual([`upload 1 ${short(next)}`]);
    expect(planned.journal.rollovers).toMatchObject([
      {
        phase: "generated",
        intent: null,
        previousKeyId: "k1",
        key: { id: "k2", fingerprint: next.fingerprintSha256, notAfter: new Date(NOW.getTime() + 700 * DAY) },
      },
    ]);
    expect(planned.notes.map((n) => n.message)).toContain(
      `the IdP's signing key k1 expires ${new Date(NOW.getTime() + 10 * DAY).toISOString()}; rolling over to key k2, which the IdP already holds`,
    );
  });

  test("a newer key that is expired, not yet valid or rolled back before is not adopted", async () => {
    const { current, held } = await dueWorld();
    const future = await cert("future", 5, 700);
    const rejected = await cert("rejected", -1, 700);
    const rolledBack = rolloverRecord({
      integrationId: "1",
      phase: "rolled_back",
      key: { id: "k3", fingerprint: rejected.fingerprintSha256, notAfter: new Date(0) },
    });
    const planned = planFor(
      held,
      idpRule("okta"),
      idpOffer("okta", [key("k1", current), key("k2", future), key("k3", rejected)], "k1", 2),
      journalWith({ rollovers: [rolledBack] }),
      { only: { account: null, integrationId: "1", force: true } },
    );
    expect(summary(planned.actions)).toContain("generate 1 new");
  });

  test("the IdP names no signing key: no rollover, a warning", async () => {
    const { current, held } = await dueWorld();
    const planned = planFor(held, idpRule("okta"), idpOffer("okta", [key("k1", current)], null, 2));
    expect(planned.actions.filter((a) => a.kind === "generate")).toEqual([]);
    expect(planned.notes.map((n) => n.message)).toContain(
      "not rolling the IdP's key over: the IdP names no active signing key",
    );
  });

  test("max_rotations_per_cycle 0: postponed", async () => {
    const { current, held } = await dueWorld();
    const planned = planFor(
      held,
      idpRule("okta", {}, { maxRotationsPerCycle: 0 }),
      idpOffer("okta", [key("k1", current)], "k1", 2),
    );
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => n.message)).toContain(
      "key rollover due; postponed: max_rotations_per_cycle reached",
    );
  });

  test("a rolled-back last rollover blocks an automatic new one; `rotate` (only.force) starts one", async () => {
    const { current, held } = await dueWorld();
    const old = await cert("old", -900, 300);
    const rolledBack = rolloverRecord({
      id: "main/1/rollover/then",
      integrationId: "1",
      phase: "rolled_back",
      key: { id: "k9", fingerprint: old.fingerprintSha256, notAfter: new Date(0) },
    });
    const offer = idpOffer("okta", [key("k1", current)], "k1", 2);
    const journal = journalWith({ rollovers: [rolledBack] });
    const automatic = planFor(held, idpRule("okta"), offer, journal);
    expect(automatic.actions).toEqual([]);
    expect(automatic.notes.map((n) => n.message)).toContain(
      "key rollover due, but rollover main/1/rollover/then was rolled back: run rotate to start a new one",
    );
    const forced = planFor(held, idpRule("okta"), offer, journal, {
      only: { account: null, integrationId: "1", force: true },
    });
    expect(summary(forced.actions)).toEqual(["generate 1 new"]);
  });

  test("`rotate` forces a rollover that is not due", async () => {
    const current = await cert("current", -10, 300);
    const planned = planFor(
      [certificate("10", "1", current.pem)],
      idpRule("okta"),
      idpOffer("okta", [key("k1", current)], "k1", 2),
      EMPTY_JOURNAL,
      { only: { account: null, integrationId: "1", force: true } },
    );
    expect(summary(planned.actions)).toEqual(["generate 1 new"]);
  });
});

describe("a rollover in phase generating (the generate's answer may be lost)", () => {
  const requestedAt = new Date(NOW.getTime() - HOUR);
  const generating = (knownKeyIds: string[]) =>
    rolloverRecord({
      integrationId: "1",
      phase: "generating",
      previousKeyId: "k1",
      startedAt: requestedAt,
      intent: { requestedAt, validityYears: 2, subject: "CN=Okta SSO", knownKeyIds },
    });
  // A key generated at requestedAt for two years.
  const generatedCert = (cn: string) =>
    makeCert({ cn, now: requestedAt, fromDays: 0, toDays: (2 * YEAR) / DAY });

  test("the key shows (new, validity as asked): adopted as `generated`, no IdP call", async () => {
    const { current } = await dueWorld();
    const fresh = await generatedCert("fresh");
    const planned = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", fresh.pem)],
      idpRule("okta"),
      idpOffer("okta", [key("k1", current), key("k2", fresh)], "k1", 2),
      journalWith({ rollovers: [generating(["k1"])] }),
    );
    expect(planned.actions).toEqual([]);
    expect(planned.journal.rollovers).toMatchObject([
      { phase: "generated", key: { id: "k2", fingerprint: fresh.fingerprintSha256 } },
    ]);
    expect(planned.notes.map((n) => n.message)).toContain(
      `found the key generated at ${requestedAt.toISOString()}: k2`,
    );
  });

  test("adopted and not yet in SendGrid: the mirror uploads it in the same plan, no second generate", async () => {
    const { current, held } = await dueWorld();
    const fresh = await generatedCert("fresh");
    const planned = planFor(
      held,
      idpRule("okta"),
      idpOffer("okta", [key("k1", current), key("k2", fresh)], "k1", 2),
      journalWith({ rollovers: [generating(["k1"])] }),
    );
    expect(summary(planned.actions)).toEqual([`upload 1 ${short(fresh)}`]);
  });

  test("keys it knew before, or of a validity not asked for, are not the generated one", async () => {
    const { current, held } = await dueWorld();
    const known = await generatedCert("known");
    const shortLived = await makeCert({ cn: "short", now: requestedAt, fromDays: 0, toDays: 365 });
    const planned = planFor(
      held,
      idpRule("okta"),
      idpOffer("okta", [key("k1", current), key("k2", known), key("k3", shortLived)], "k1", 2),
      journalWith({ rollovers: [generating(["k1", "k2"])] }),
      { settleMs: 2 * HOUR },
    );
    expect(planned.actions.filter((a) => a.kind !== "upload")).toEqual([]);
    expect(planned.journal.rollovers[0]!.phase).toBe("generating");
    expect(planned.notes.map((n) => n.message)).toContain(
      "waiting for the key being generated to show at the IdP",
    );
  });

  test("not showing within settleMs: a note, no action; past it: generate again with a fresh intent", async () => {
    const { current, held } = await dueWorld();
    const offer = idpOffer("okta", [key("k1", current)], "k1", 2);
    const journal = journalWith({ rollovers: [generating(["k1"])] });
    const waiting = planFor(held, idpRule("okta"), offer, journal, { settleMs: HOUR + 1 });
    expect(waiting.actions).toEqual([]);
    expect(waiting.notes.map((n) => n.message)).toEqual([
      "waiting for the key being generated to show at the IdP",
    ]);
    // The default settle time is far shorter than the hour since the intent.
    expect(DEFAULT_SETTLE_MS).toBeLessThan(HOUR);
    for (const settle of [HOUR, undefined]) {
      const again = planFor(
        held,
        idpRule("okta"),
        offer,
        journal,
        settle === undefined ? {} : { settleMs: settle },
      );
      expect(summary(again.actions)).toEqual(["generate 1 new"]);
      const generate = again.actions[0]!;
      expect(generate.kind === "generate" && generate.rollover).toMatchObject({
        id: journal.rollovers[0]!.id,
        intent: { requestedAt: NOW, knownKeyIds: ["k1"], validityYears: 2 },
      });
      expect(generate.reason).toBe(
        `the generate of ${requestedAt.toISOString()} made no key; generating again`,
      );
    }
  });

  test("generating again counts against max_rotations_per_cycle like the first generate", async () => {
    const { current, held } = await dueWorld();
    const offer = idpOffer("okta", [key("k1", current)], "k1", 2);
    const planned = planFor(
      held,
      idpRule("okta", {}, { maxRotationsPerCycle: 0 }),
      offer,
      journalWith({ rollovers: [generating(["k1"])] }),
    );
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => n.message).join("\n")).toContain("max_rotations_per_cycle");
  });

  test("two keys match the lost generate: abandoned, not guessed", async () => {
    const { current, held } = await dueWorld();
    const a = await generatedCert("a");
    const b = await generatedCert("b");
    const planned = planFor(
      held,
      idpRule("okta"),
      idpOffer("okta", [key("k1", current), key("k2", a), key("k3", b)], "k1", 2),
      journalWith({ rollovers: [generating(["k1"])] }),
    );
    expect(planned.actions.filter((x) => x.kind !== "upload")).toEqual([]);
    expect(planned.journal.rollovers[0]).toMatchObject({
      phase: "abandoned",
      note: "2 keys match the lost generate; choose one in the console",
    });
  });
});

describe("a rollover in phase generated and after", () => {
  async function generatedWorld() {
    const current = await cert("current", -700, 10);
    const next = await cert("next", -1, 730);
    const record = rolloverRecord({
      integrationId: "1",
      phase: "generated",
      previousKeyId: "k1",
      key: { id: "k2", fingerprint: next.fingerprintSha256, notAfter: new Date(NOW.getTime() + 730 * DAY) },
      replaces: [{ certificateId: "10", fingerprint: current.fingerprintSha256 }],
    });
    return { current, next, record, offer: idpOffer("okta", [key("k1", current), key("k2", next)], "k1", 2) };
  }

  test("SendGrid lacks the certificate: the mirror uploads it, no activate", async () => {
    const { current, next, record, offer } = await generatedWorld();
    const planned = planFor(
      [certificate("10", "1", current.pem)],
      idpRule("okta"),
      offer,
      journalWith({ rollovers: [record] }),
    );
    expect(summary(planned.actions)).toEqual([`upload 1 ${short(next)}`]);
    expect(planned.notes.map((n) => n.message)).toContain(
      "waiting for SendGrid to hold and verify the certificate of key k2",
    );
  });

  test("uploaded but not verified: verify, no activate", async () => {
    const { current, next, record, offer } = await generatedWorld();
    const uploaded = { ...verifiedMirror(next, "11"), phase: "uploaded" as const, verifiedAt: null };
    const planned = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", next.pem)],
      idpRule("okta"),
      offer,
      journalWith({ rollovers: [record], rotations: [uploaded] }),
    );
    expect(summary(planned.actions)).toEqual(["verify 1 11"]);
  });

  test("held in SendGrid but never verified by this tool: no activate", async () => {
    const { current, next, record, offer } = await generatedWorld();
    const planned = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", next.pem)],
      idpRule("okta"),
      offer,
      journalWith({ rollovers: [record] }),
    );
    expect(planned.actions).toEqual([]);
  });

  test("verified but disabled in SendGrid: no activate", async () => {
    const { current, next, record, offer } = await generatedWorld();
    const planned = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", next.pem, false)],
      idpRule("okta"),
      offer,
      journalWith({ rollovers: [record], rotations: [verifiedMirror(next, "11")] }),
    );
    expect(planned.actions.filter((a) => a.kind === "activate")).toEqual([]);
  });

  test("verified, enabled and valid in SendGrid: activate the new key at the IdP", async () => {
    const { current, next, record, offer } = await generatedWorld();
    const planned = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", next.pem)],
      idpRule("okta"),
      offer,
      journalWith({ rollovers: [record], rotations: [verifiedMirror(next, "11")] }),
    );
    expect(summary(planned.actions)).toEqual(["activate 1 k2"]);
    expect(planned.actions[0]).toMatchObject({
      kind: "activate",
      keyId: "k2",
      ruleIndex: 0,
      rollover: { id: record.id },
    });
  });

  test("the IdP already signs with the new key: confirmed, no call", async () => {
    const { current, next, record } = await generatedWorld();
    const planned = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", next.pem)],
      idpRule("okta", { overlapMs: DAY }),
      idpOffer("okta", [key("k1", current), key("k2", next)], "k2", 2),
      journalWith({ rollovers: [record], rotations: [verifiedMirror(next, "11")] }),
    );
    expect(planned.actions).toEqual([]);
    expect(planned.journal.rollovers[0]).toMatchObject({
      phase: "confirmed",
      activatedAt: NOW,
      confirmedAt: NOW,
    });
  });

  test("the new key is gone from the IdP: abandoned", async () => {
    const { current, record } = await generatedWorld();
    const planned = planFor(
      [certificate("10", "1", current.pem)],
      idpRule("okta"),
      idpOffer("okta", [key("k1", current)], "k1", 2),
      journalWith({ rollovers: [record] }),
    );
    expect(planned.journal.rollovers[0]).toMatchObject({
      phase: "abandoned",
      note: "key k2 is no longer at the IdP",
    });
    // The signing key is still due: the next rollover starts at once, from a fresh key.
    expect(summary(planned.actions)).toEqual(["generate 1 new"]);
  });

  test.each(["activating", "activated"] as const)("%s: confirm by reading the IdP back", async (phase) => {
    const { current, next, record, offer } = await generatedWorld();
    const planned = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", next.pem)],
      idpRule("okta"),
      offer,
      journalWith({ rollovers: [{ ...record, phase }], rotations: [verifiedMirror(next, "11")] }),
    );
    expect(summary(planned.actions)).toEqual(["confirm 1 k2"]);
  });

  test("confirmed: retired once the previous certificates are disabled, not before", async () => {
    const { current, next, record } = await generatedWorld();
    const confirmed = { ...record, phase: "confirmed" as const, activatedAt: NOW, confirmedAt: NOW };
    const offer = idpOffer("okta", [key("k1", current), key("k2", next)], "k2", 2);
    const journal = journalWith({ rollovers: [confirmed], rotations: [verifiedMirror(next, "11")] });
    const stillEnabled = planFor(
      [certificate("10", "1", current.pem), certificate("11", "1", next.pem)],
      idpRule("okta", { overlapMs: DAY }),
      offer,
      journal,
    );
    expect(stillEnabled.journal.rollovers[0]!.phase).toBe("confirmed");
    const disabled = planFor(
      [certificate("10", "1", current.pem, false), certificate("11", "1", next.pem)],
      idpRule("okta", { overlapMs: DAY }),
      offer,
      journal,
    );
    expect(disabled.journal.rollovers[0]).toMatchObject({ phase: "retired", retiredAt: NOW });
  });

  test("after the switch, the previous key's certificate is disabled after the overlap, the new one never", async () => {
    const { current, next } = await generatedWorld();
    const held = [certificate("10", "1", current.pem), certificate("11", "1", next.pem)];
    const offer = idpOffer("okta", [key("k1", current), key("k2", next)], "k2", 2);
    const rotation = idpRule("okta", { overlapMs: HOUR });
    const first = planFor(held, rotation, offer);
    expect(first.actions).toEqual([]);
    const later = planFor(held, rotation, offer, first.journal, { now: new Date(NOW.getTime() + HOUR) });
    expect(summary(later.actions)).toEqual(["disable 1 10"]);
  });
});

describe("planRollback() of a key rollover", () => {
  async function rolledOver(previousEnabled: boolean) {
    const previous = await cert("previous", -700, 10);
    const next = await cert("next", -1, 730);
    const rollover: RolloverRecord = rolloverRecord({
      integrationId: "1",
      phase: "confirmed",
      previousKeyId: "k1",
      key: { id: "k2", fingerprint: next.fingerprintSha256, notAfter: new Date(NOW.getTime() + 730 * DAY) },
      replaces: [{ certificateId: "10", fingerprint: previous.fingerprintSha256 }],
      startedAt: new Date(NOW.getTime() - DAY),
      activatedAt: new Date(NOW.getTime() - HOUR),
      confirmedAt: new Date(NOW.getTime() - HOUR),
    });
    const mirror = {
      ...verifiedMirror(next, "11", new Date(NOW.getTime() - 2 * HOUR)),
      startedAt: new Date(NOW.getTime() - 2 * HOUR),
    };
    const scanned = singleAccount(
      [
        scannedIntegration("1", [
          certificate("10", "1", previous.pem, previousEnabled),
          certificate("11", "1", next.pem),
        ]),
      ],
      NOW,
    );
    return {
      previous,
      next,
      rollover,
      scanned,
      journal: journalWith({ rotations: [mirror], rollovers: [rollover] }),
    };
  }

  test("enable the previous certificate, activate and confirm the previous key, then disable the new certificate", async () => {
    const { previous, next, rollover, scanned, journal } = await rolledOver(false);
    const offer = idpOffer("okta", [key("k1", previous), key("k2", next)], "k2", 2);
    const planned = planRollback(scanned, journal, "main", "1", NOW, { offer, ruleIndex: 0 });
    expect(planned.ok).toBe(true);
    if (!planned.ok) return;
    expect(planned.undo).toEqual({ kind: "rollover", rollover });
    expect(summary(planned.actions)).toEqual([
      "enable 1 10",
      "activate 1 k1",
      "confirm 1 k1",
      "disable 1 11",
    ]);
  });

  test("the previous certificate still enabled and the IdP back on the previous key: only the disable", async () => {
    const { previous, next, scanned, journal } = await rolledOver(true);
    const offer = idpOffer("okta", [key("k1", previous), key("k2", next)], "k1", 2);
    const planned = planRollback(scanned, journal, "main", "1", NOW, { offer, ruleIndex: 0 });
    expect(planned.ok && summary(planned.actions)).toEqual(["disable 1 11"]);
  });

  test("refused when the IdP no longer holds the previous key", async () => {
    const { next, scanned, journal } = await rolledOver(false);
    const offer = idpOffer("okta", [key("k2", next)], "k2", 2);
    expect(planRollback(scanned, journal, "main", "1", NOW, { offer, ruleIndex: 0 })).toEqual({
      ok: false,
      message: "not rolling back: the IdP no longer holds the previous key k1",
    });
  });

  test("refused when SendGrid holds no valid certificate of the previous key", async () => {
    const { previous, next, journal } = await rolledOver(false);
    const offer = idpOffer("okta", [key("k1", previous), key("k2", next)], "k2", 2);
    const without = singleAccount([scannedIntegration("1", [certificate("11", "1", next.pem)])], NOW);
    const refused = planRollback(without, journal, "main", "1", NOW, { offer, ruleIndex: 0 });
    expect(refused).toMatchObject({ ok: false });
    expect(!refused.ok && refused.message).toContain(
      "SendGrid holds no valid certificate of the previous key k1",
    );
    // Expired meanwhile: the same.
    const later = new Date(NOW.getTime() + 11 * DAY);
    const expired = planRollback(
      singleAccount(
        [
          scannedIntegration("1", [
            certificate("10", "1", previous.pem, false),
            certificate("11", "1", next.pem),
          ]),
        ],
        later,
      ),
      journal,
      "main",
      "1",
      later,
      { offer, ruleIndex: 0 },
    );
    expect(expired).toMatchObject({ ok: false });
  });

  test("refused when the IdP could not be read, or the rule no longer reads an IdP", async () => {
    const { scanned, journal } = await rolledOver(false);
    const failed = planRollback(scanned, journal, "main", "1", NOW, {
      offer: failedIdpOffer("okta", "HTTP 500"),
      ruleIndex: 0,
    });
    expect(failed).toEqual({
      ok: false,
      message: "the IdP could not be read (HTTP 500); not rolling back blind",
    });
    expect(planRollback(scanned, journal, "main", "1", NOW)).toMatchObject({ ok: false });
  });

  test("a mirror rotation's rollback is refused while the IdP may sign with it: metadata, or no key named", async () => {
    const active = await cert("active", -10, 300);
    const older = await cert("older", -300, 100);
    const mirrored = { ...verifiedMirror(active, "11"), phase: "retired" as const, replaces: [] };
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", older.pem), certificate("11", "1", active.pem)])],
      NOW,
    );
    const journal = journalWith({ rotations: [mirrored] });
    for (const offer of [
      metadataOffer([older.pem, active.pem]),
      idpOffer("entra", [key("K0", older), key("K1", active)], null),
    ]) {
      const refused = planRollback(scanned, journal, "main", "1", NOW, { offer, ruleIndex: 0 });
      expect(refused.ok ? null : refused.message).toMatch(
        /^not rolling back: the IdP signs \(or may sign\) with certificate 11;/,
      );
    }
  });

  test("a mirror rotation's rollback is refused when its certificate is the one the IdP signs with", async () => {
    const active = await cert("active", -10, 300);
    const older = await cert("older", -300, 100);
    const mirrored = { ...verifiedMirror(active, "11"), phase: "retired" as const, replaces: [] };
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", older.pem), certificate("11", "1", active.pem)])],
      NOW,
    );
    const offer = idpOffer("okta", [key("k0", older), key("k1", active)], "k1");
    const refused = planRollback(scanned, journalWith({ rotations: [mirrored] }), "main", "1", NOW, {
      offer,
      ruleIndex: 0,
    });
    expect(refused).toEqual({
      ok: false,
      message:
        "not rolling back: the IdP signs (or may sign) with certificate 11; disabling it would lock everyone out",
    });
    // Once the IdP signs with another key, the same rollback is allowed.
    const moved = idpOffer("okta", [key("k0", older), key("k1", active)], "k0");
    const allowed = planRollback(scanned, journalWith({ rotations: [mirrored] }), "main", "1", NOW, {
      offer: moved,
      ruleIndex: 0,
    });
    expect(allowed.ok && summary(allowed.actions)).toEqual(["disable 1 11"]);
  });
});

describe("the rollover and the mirror in one plan", () => {
  // An admin activated a newer key k3 in the console while the rollover to k2 waited: k2 is now neither
  // the signing key nor newer than it, so the mirror disables its certificate after the overlap. The
  // same plan must not then make the IdP sign with k2.
  test("an admin's newer key overtakes the rollover: its key, whose certificate is being disabled, is not activated", async () => {
    const old = await cert("old", -700, 10);
    const next = await cert("next", -1, 730);
    const admins = await cert("admins", -1, 1000);
    const rollover = rolloverRecord({
      integrationId: "1",
      phase: "generated",
      previousKeyId: "k1",
      key: { id: "k2", fingerprint: next.fingerprintSha256, notAfter: new Date(NOW.getTime() + 730 * DAY) },
      replaces: [{ certificateId: "10", fingerprint: old.fingerprintSha256 }],
    });
    const since = new Date(NOW.getTime() - DAY);
    const journal = journalWith({
      rollovers: [rollover],
      rotations: [verifiedMirror(next, "11"), verifiedMirror(admins, "12")],
      unpublished: [{ account: "main", integrationId: "1", fingerprint: next.fingerprintSha256, since }],
    });
    const planned = planFor(
      [certificate("10", "1", old.pem), certificate("11", "1", next.pem), certificate("12", "1", admins.pem)],
      idpRule("okta", { overlapMs: HOUR }),
      idpOffer("okta", [key("k1", old), key("k2", next), key("k3", admins)], "k3", 2),
      journal,
    );
    const steps = summary(planned.actions);
    // Executed in order, "disable 1 11" then "activate 1 k2" would lock everyone out.
    expect(steps.includes("disable 1 11") && steps.includes("activate 1 k2"), steps.join(", ")).toBe(false);
    expect(steps).not.toContain("activate 1 k2");
    // Going back from the admin's newer key would be a step backwards: the rollover ends.
    expect(planned.journal.rollovers[0]).toMatchObject({
      phase: "abandoned",
      note: "the IdP signs with a newer key than k2",
    });
  });
});

describe("a rollover the IdP's admin overtook", () => {
  // The admin switched the IdP back to the previous key after the rollover confirmed; that key is now
  // due. The confirmed record can never retire (the key it replaced is signing again, so it stays
  // enabled) and, while it is active, no new rollover starts: the plan must not stay silent.
  test("a confirmed rollover whose IdP signs with the previous key again does not silently block the next one", async () => {
    const previous = await cert("previous", -700, 10);
    const next = await cert("next", -30, 700);
    const confirmed = rolloverRecord({
      integrationId: "1",
      phase: "confirmed",
      previousKeyId: "k1",
      key: { id: "k2", fingerprint: next.fingerprintSha256, notAfter: new Date(NOW.getTime() + 700 * DAY) },
      replaces: [{ certificateId: "10", fingerprint: previous.fingerprintSha256 }],
      confirmedAt: new Date(NOW.getTime() - 20 * DAY),
    });
    const planned = planFor(
      [certificate("10", "1", previous.pem), certificate("11", "1", next.pem)],
      idpRule("okta"),
      idpOffer("okta", [key("k1", previous), key("k2", next)], "k1", 2),
      journalWith({ rollovers: [confirmed] }),
    );
    const said = [...summary(planned.actions), ...planned.notes.map((n) => n.message)];
    expect(said.length, "a due signing key, manage_keys on, and no step and no word").toBeGreaterThan(0);
    // Nor may it keep `rotate` from starting one.
    const forced = planFor(
      [certificate("10", "1", previous.pem), certificate("11", "1", next.pem)],
      idpRule("okta"),
      idpOffer("okta", [key("k1", previous), key("k2", next)], "k1", 2),
      journalWith({ rollovers: [confirmed] }),
      { only: { account: null, integrationId: "1", force: true } },
    );
    // The admin's switch back is taken as a rollback: the key they left is not picked again, a new one is made.
    expect(forced.journal.rollovers.find((r) => r.id === confirmed.id)?.phase).toBe("rolled_back");
    expect(summary(forced.actions), "rotate --integration 1 starts no rollover").toEqual(["generate 1 new"]);
  });
});
