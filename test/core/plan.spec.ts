// Table tests of the rotation planner, reconcile() and the rollback planner, one rule of SPEC.md
// "Rotation, in steps" at a time, with real generated certificates and a fixed `now`.

import { describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { RotationConfig } from "../../src/config/types.js";
import {
  EMPTY_JOURNAL,
  MAX_BACKOFF_MS,
  reconcile,
  withFailure,
  withSuccess,
  type Journal,
  type RotationRecord,
} from "../../src/core/journal.js";
import type { Offer } from "../../src/core/offer.js";
import { isDue, plan, type Plan, type PlanInput } from "../../src/core/plan.js";
import { fileOffer as fileSourceOffer } from "../../src/sources/file.js";
import { metadataOffer as metadataSourceOffer } from "../../src/sources/metadata-offer.js";
import { planRollback } from "../../src/core/rollback.js";
import { evaluate } from "../../src/core/status.js";
import { NO_OVERRIDES, type Inventory } from "../../src/core/inventory.js";
import { makeCert } from "../helpers/make-cert.js";
import {
  DAY,
  FILE_SOURCE,
  HOUR,
  METADATA_SOURCE,
  certificate,
  fileOffer,
  journalWith,
  metadataOffer,
  rotationConfig,
  rotationRecord,
  rule,
  scannedIntegration,
  singleAccount,
  summary,
} from "./plan-fixtures.js";

const NOW = new Date("2026-03-01T12:00:00Z");

const cert = (cn: string, fromDays: number, toDays: number): Promise<GeneratedCertificate> =>
  makeCert({ cn, now: NOW, fromDays, toDays });

function planFor(
  scanned: Inventory,
  rotation: RotationConfig,
  offer: Offer | null,
  journal: Journal = EMPTY_JOURNAL,
  extra: Partial<PlanInput> = {},
): Plan {
  return plan({
    scanned,
    offers: new Map(offer ? [[0, offer]] : []),
    rotation,
    journal,
    now: NOW,
    ...extra,
  });
}

const fileRule = (options: Parameters<typeof rule>[2] = {}) =>
  rotationConfig([rule({ id: "1" }, FILE_SOURCE, options)]);
const metadataRule = (options: Parameters<typeof rule>[2] = {}) =>
  rotationConfig([rule({ id: "1" }, METADATA_SOURCE, options)]);

describe("when a rotation is due", () => {
  test.each([
    ["duration 30d, 20 days left", { kind: "duration", ms: 30 * DAY }, -300, 20, true],
    ["duration 30d, 40 days left", { kind: "duration", ms: 30 * DAY }, -300, 40, false],
    ["duration 30d, exactly 30 days left", { kind: "duration", ms: 30 * DAY }, -300, 30, true],
    ["33% of a 100-day life, 30 days left", { kind: "percent", percent: 33 }, -70, 30, true],
    ["33% of a 100-day life, 40 days left", { kind: "percent", percent: 33 }, -60, 40, false],
    ["33% of a 3-year life, 300 days left", { kind: "percent", percent: 33 }, -795, 300, true],
  ] as const)("%s -> due: %s", async (_name, rotateBefore, fromDays, toDays, due) => {
    const current = await cert("current", fromDays, toDays);
    const next = await cert("next", -1, 1000);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    const state = evaluate(scanned, { warningMs: 0, criticalMs: 0 }, NO_OVERRIDES, NOW).accounts[0]!
      .integrations[0]!;
    const best = state.best && { notBefore: state.best.parsed.notBefore, notAfter: state.best.notAfter };
    expect(isDue(best, rotateBefore, NOW)).toBe(due);

    const planned = planFor(scanned, fileRule({ rotateBefore }), fileOffer([next.pem]));
    expect(summary(planned.actions)).toEqual(due ? [`upload 1 ${next.fingerprintSha256.slice(0, 8)}`] : []);
    if (!due) expect(planned.notes).toEqual([]);
  });

  test("due with a candidate: one upload that names the expiring certificate and the replacement", async () => {
    const current = await cert("current", -300, 5);
    const older = await cert("older-spare", -10, 200);
    const next = await cert("next", -1, 400);
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", current.pem)], "Okta")],
      NOW,
    );
    const planned = planFor(
      scanned,
      fileRule(),
      fileOffer([
        { origin: "/certs/a.pem", text: older.pem },
        { origin: "/certs/b.pem", text: next.pem },
      ]),
    );
    expect(planned.actions).toHaveLength(1);
    const upload = planned.actions[0]!;
    expect(upload).toMatchObject({
      kind: "upload",
      account: "main",
      integrationId: "1",
      integrationName: "Okta",
    });
    if (upload.kind !== "upload") return;
    expect(upload.rotation).toMatchObject({
      kind: "replace",
      phase: "uploading",
      fingerprint: next.fingerprintSha256,
      origin: "/certs/b.pem",
      replaces: [{ certificateId: "10", fingerprint: current.fingerprintSha256 }],
    });
    expect(upload.rotation.pem).toBe(next.pem);
    expect(upload.reason).toContain("best certificate 10 expires");
    expect(upload.reason).toContain("/certs/b.pem");
  });

  test("no valid certificate at all counts as due", async () => {
    const expired = await cert("expired", -400, -1);
    const next = await cert("next", -1, 400);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", expired.pem)])], NOW);
    const planned = planFor(scanned, fileRule(), fileOffer([next.pem]));
    expect(summary(planned.actions)).toEqual([`upload 1 ${next.fingerprintSha256.slice(0, 8)}`]);
    expect(planned.actions[0]!.reason).toContain("no valid certificate");
  });

  test("due but no acceptable candidate: a warning naming every rejection, no upload", async () => {
    const current = await cert("current", -300, 5);
    const expired = await cert("expired", -400, -1);
    const shorter = await cert("shorter", -10, 3);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    const planned = planFor(
      scanned,
      fileRule(),
      fileOffer([
        { origin: "/certs/expired.pem", text: expired.pem },
        { origin: "/certs/shorter.pem", text: shorter.pem },
        { origin: "/certs/current.pem", text: current.pem },
      ]),
    );
    expect(planned.actions).toEqual([]);
    expect(planned.notes).toHaveLength(1);
    const note = planned.notes[0]!;
    expect(note.level).toBe("warn");
    expect(note.message).toMatch(/^rotation due but no acceptable replacement: /);
    expect(note.message).toContain("/certs/expired.pem: expired at");
    expect(note.message).toContain("/certs/shorter.pem: expires");
    expect(note.message).toContain("not after the current best certificate");
    expect(note.message).toContain("/certs/current.pem: certificate");
    expect(note.message).toContain("is already on the integration");
  });

  test("due and the source is empty or unreadable: warnings, no upload", async () => {
    const current = await cert("current", -300, 5);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    const offer: Offer = fileSourceOffer({
      inputs: [],
      problems: [{ origin: "/certs", message: "no such file or directory (or a broken symbolic link)" }],
    });
    const planned = planFor(scanned, fileRule(), offer);
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => [n.level, n.message])).toEqual([
      ["warn", "source: /certs: no such file or directory (or a broken symbolic link)"],
      ["warn", "rotation due but no acceptable replacement: the source holds no certificate"],
    ]);
  });

  test("a rule whose source was not read this cycle starts nothing", async () => {
    const current = await cert("current", -300, 5);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    expect(planFor(scanned, fileRule(), null).actions).toEqual([]);
  });

  test("`rotate` (only + force) uploads even when not due, and plans nothing for other integrations", async () => {
    const healthy = await cert("healthy", -10, 300);
    const next = await cert("next", -1, 400);
    const scanned = singleAccount(
      [
        scannedIntegration("1", [certificate("10", "1", healthy.pem)]),
        scannedIntegration("2", [certificate("20", "2", (await cert("other", -300, 2)).pem)]),
      ],
      NOW,
    );
    const rotation = rotationConfig([rule({ id: "1" }, FILE_SOURCE), rule({ id: "2" }, FILE_SOURCE)]);
    const offers = new Map<number, Offer>([
      [0, fileOffer([next.pem])],
      [1, fileOffer([next.pem])],
    ]);
    const base = { scanned, offers, rotation, journal: EMPTY_JOURNAL, now: NOW };
    expect(summary(plan({ ...base, only: { account: null, integrationId: "1" } }).actions)).toEqual([]);
    expect(
      summary(plan({ ...base, only: { account: null, integrationId: "1", force: true } }).actions),
    ).toEqual([`upload 1 ${next.fingerprintSha256.slice(0, 8)}`]);
    expect(
      summary(plan({ ...base, only: { account: "other", integrationId: "1", force: true } }).actions),
    ).toEqual([]);
  });
});

describe("what the planner never touches", () => {
  test("an integration no rule matches, whatever its state", async () => {
    const current = await cert("current", -300, 5);
    const next = await cert("next", -1, 400);
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", current.pem)], "Okta")],
      NOW,
    );
    for (const match of [{ id: "2" }, { name: "Entra" }]) {
      const rotation = rotationConfig([rule(match, FILE_SOURCE)]);
      const planned = planFor(scanned, rotation, fileOffer([next.pem]));
      expect(planned.actions).toEqual([]);
      expect(planned.notes).toEqual([]);
    }
    const otherAccount = rotationConfig([rule({ id: "1" }, FILE_SOURCE, { account: "other" })]);
    expect(planFor(scanned, otherAccount, fileOffer([next.pem])).actions).toEqual([]);
  });

  test("an integration whose certificates could not be listed: a warning, no step", async () => {
    const next = await cert("next", -1, 400);
    const scanned = singleAccount([scannedIntegration("1", null)], NOW);
    const planned = planFor(scanned, fileRule(), fileOffer([next.pem]));
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => n.message)).toEqual([
      "the scan could not read this integration; no rotation step this cycle",
    ]);
  });

  test("max_rotations_per_cycle: uploads beyond it are postponed with a note", async () => {
    const next = await cert("next", -1, 400);
    const integrations = await Promise.all(
      ["1", "2", "3"].map(async (id) =>
        scannedIntegration(id, [certificate(`${id}0`, id, (await cert(`c${id}`, -300, 5)).pem)]),
      ),
    );
    const rotation = rotationConfig(
      ["1", "2", "3"].map((id) => rule({ id }, FILE_SOURCE)),
      { maxRotationsPerCycle: 2 },
    );
    const offers = new Map([0, 1, 2].map((i) => [i, fileOffer([next.pem])] as const));
    const planned = plan({
      scanned: singleAccount(integrations, NOW),
      offers,
      rotation,
      journal: EMPTY_JOURNAL,
      now: NOW,
    });
    expect(planned.actions.map((a) => `${a.kind} ${a.integrationId}`)).toEqual(["upload 1", "upload 2"]);
    expect(planned.notes).toMatchObject([
      {
        integrationId: "3",
        level: "info",
        message: "rotation due; postponed: max_rotations_per_cycle reached",
      },
    ]);
  });
});

describe("backoff after a failed step", () => {
  test("an integration backing off is left alone until nextAttemptAt", async () => {
    const current = await cert("current", -300, 5);
    const next = await cert("next", -1, 400);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    const failed = withFailure(
      EMPTY_JOURNAL,
      { account: "main", integrationId: "1" },
      "HTTP 500",
      NOW,
      60_000,
    );
    const waiting = planFor(scanned, fileRule(), fileOffer([next.pem]), failed);
    expect(waiting.actions).toEqual([]);
    expect(waiting.notes[0]!.message).toBe(
      `backing off until ${new Date(NOW.getTime() + 60_000).toISOString()} after 1 failure(s): HTTP 500`,
    );
    const later = plan({
      scanned,
      offers: new Map([[0, fileOffer([next.pem])]]),
      rotation: fileRule(),
      journal: failed,
      now: new Date(NOW.getTime() + 60_000),
    });
    expect(later.actions.map((a) => a.kind)).toEqual(["upload"]);
  });

  test("withFailure doubles the wait from one interval up to six hours; withSuccess clears it", () => {
    const target = { account: "main", integrationId: "1" };
    let journal = EMPTY_JOURNAL;
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      journal = withFailure(journal, target, `failure ${i}`, NOW, 5 * 60_000);
      waits.push(journal.backoff[0]!.nextAttemptAt.getTime() - NOW.getTime());
    }
    expect(waits.slice(0, 5)).toEqual([5, 10, 20, 40, 80].map((m) => m * 60_000));
    expect(waits.at(-1)).toBe(MAX_BACKOFF_MS);
    expect(journal.backoff).toHaveLength(1);
    expect(journal.backoff[0]).toMatchObject({ failures: 12, lastError: "failure 11" });
    const other = withFailure(journal, { account: "main", integrationId: "2" }, "x", NOW, 1000);
    expect(withSuccess(other, target).backoff.map((b) => b.integrationId)).toEqual(["2"]);
  });
});

describe("continuing a rotation", () => {
  async function verifiedRotation(overlapMs: number, verifiedAgoMs: number) {
    const old = await cert("old", -300, 5);
    const fresh = await cert("fresh", -1, 400);
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", old.pem), certificate("11", "1", fresh.pem)])],
      NOW,
    );
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      replaces: [{ certificateId: "10", fingerprint: old.fingerprintSha256 }],
      phase: "verified",
      certificateId: "11",
      verifiedAt: new Date(NOW.getTime() - verifiedAgoMs),
    });
    return {
      scanned,
      record,
      planned: planFor(
        scanned,
        fileRule({ overlapMs }),
        fileOffer([fresh.pem]),
        journalWith({ rotations: [record] }),
      ),
    };
  }

  test("an uploaded certificate is verified next", async () => {
    const fresh = await cert("fresh", -1, 400);
    const scanned = singleAccount([scannedIntegration("1", [certificate("11", "1", fresh.pem)])], NOW);
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      phase: "uploaded",
      certificateId: "11",
    });
    const planned = planFor(scanned, fileRule(), fileOffer([]), journalWith({ rotations: [record] }));
    expect(planned.actions).toMatchObject([
      { kind: "verify", certificateId: "11", rotation: { id: record.id } },
    ]);
  });

  test("overlap not yet passed: the old certificate stays enabled, with a note saying until when", async () => {
    const { planned } = await verifiedRotation(24 * HOUR, 23 * HOUR);
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => n.message)).toEqual([
      `keeping the old certificate enabled until ${new Date(NOW.getTime() + HOUR).toISOString()} (overlap)`,
    ]);
  });

  test("overlap passed: the replaced certificate is disabled, naming the replacement", async () => {
    const { planned, record } = await verifiedRotation(24 * HOUR, 24 * HOUR);
    expect(planned.actions).toMatchObject([{ kind: "disable", certificateId: "10", rotationId: record.id }]);
    expect(planned.actions[0]!.reason).toBe("replaced by certificate 11 (overlap of 86400s passed)");
    expect(planned.journal.rotations[0]!.phase).toBe("verified");
  });

  test("once everything it replaced is disabled, the rotation is retired", async () => {
    const old = await cert("old", -300, 5);
    const fresh = await cert("fresh", -1, 400);
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", old.pem, false), certificate("11", "1", fresh.pem)])],
      NOW,
    );
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      replaces: [{ certificateId: "10", fingerprint: old.fingerprintSha256 }],
      phase: "verified",
      certificateId: "11",
      verifiedAt: NOW,
    });
    const planned = planFor(scanned, fileRule(), fileOffer([]), journalWith({ rotations: [record] }));
    expect(planned.actions).toEqual([]);
    expect(planned.journal.rotations[0]).toMatchObject({ phase: "retired", retiredAt: NOW });
  });

  test("the replacement disabled by someone meanwhile: the old one is kept, with a warning", async () => {
    const old = await cert("old", -300, 5);
    const fresh = await cert("fresh", -1, 400);
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", old.pem), certificate("11", "1", fresh.pem, false)])],
      NOW,
    );
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      replaces: [{ certificateId: "10", fingerprint: old.fingerprintSha256 }],
      phase: "verified",
      certificateId: "11",
      verifiedAt: new Date(NOW.getTime() - DAY),
    });
    const planned = planFor(scanned, fileRule(), fileOffer([]), journalWith({ rotations: [record] }));
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => n.level)).toEqual(["warn"]);
    expect(planned.notes[0]!.message).toContain("not disabling 10");
  });
});

describe("metadata sources mirror the IdP", () => {
  test("two signing certificates published: both uploaded at once, whatever rotate_before says", async () => {
    const current = await cert("current", -10, 300);
    const a = await cert("next-a", -1, 700);
    const b = await cert("next-b", -1, 900);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    const planned = planFor(
      scanned,
      metadataRule({ rotateBefore: { kind: "duration", ms: DAY } }),
      metadataOffer([current.pem, a.pem, b.pem]),
    );
    expect(summary(planned.actions)).toEqual([
      `upload 1 ${a.fingerprintSha256.slice(0, 8)}`,
      `upload 1 ${b.fingerprintSha256.slice(0, 8)}`,
    ]);
    for (const action of planned.actions) {
      if (action.kind !== "upload") continue;
      expect(action.rotation).toMatchObject({ kind: "mirror", replaces: [] });
      expect(action.reason).toContain("the IdP's metadata publishes a signing certificate");
    }
    expect(planned.notes).toEqual([]);
  });

  test("a certificate the document lists twice is uploaded once", async () => {
    const current = await cert("current", -10, 300);
    const next = await cert("next", -1, 700);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    const planned = planFor(scanned, metadataRule(), metadataOffer([next.pem, current.pem, next.pem]));
    expect(summary(planned.actions)).toEqual([`upload 1 ${next.fingerprintSha256.slice(0, 8)}`]);
  });

  test("a mirrored certificate waiting out its overlap does not hold up the retry of a second one", async () => {
    const a = await cert("a", -10, 300);
    const b = await cert("b", -1, 700);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", a.pem)])], NOW);
    const mirrored = (c: GeneratedCertificate, days: number, fields: Partial<RotationRecord>) =>
      rotationRecord({
        integrationId: "1",
        kind: "mirror",
        fingerprint: c.fingerprintSha256,
        pem: c.pem,
        notAfter: new Date(NOW.getTime() + days * DAY),
        ...fields,
      });
    const journal = journalWith({
      rotations: [
        mirrored(a, 300, {
          id: "mirror-a",
          phase: "verified",
          certificateId: "10",
          verifiedAt: new Date(NOW.getTime() - HOUR),
        }),
        // Its upload's answer was lost and it never reached SendGrid.
        mirrored(b, 700, { id: "mirror-b", phase: "uploading" }),
      ],
    });
    const planned = planFor(
      scanned,
      metadataRule({ overlapMs: DAY }),
      metadataOffer([a.pem, b.pem]),
      journal,
    );
    expect(planned.actions).toMatchObject([
      {
        kind: "upload",
        rotation: { fingerprint: b.fingerprintSha256 },
        reason: "retrying an upload that did not complete",
      },
    ]);
  });

  test("a published certificate that cannot be accepted is reported, not uploaded", async () => {
    const current = await cert("current", -10, 300);
    const expired = await cert("expired", -400, -1);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", current.pem)])], NOW);
    const planned = planFor(scanned, metadataRule(), metadataOffer([current.pem, expired.pem]));
    expect(planned.actions).toEqual([]);
    expect(planned.notes.map((n) => n.message)).toEqual([
      expect.stringMatching(/^metadata: metadata signing certificate #2: expired at /),
    ]);
  });

  test("a certificate no longer published: noted, disabled after the overlap, never the last usable one", async () => {
    const dropped = await cert("dropped", -300, 30);
    const published = await cert("published", -10, 400);
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", dropped.pem), certificate("11", "1", published.pem)])],
      NOW,
    );
    const rotation = metadataRule({ overlapMs: DAY });
    const offer = metadataOffer([published.pem]);

    const first = planFor(scanned, rotation, offer);
    expect(first.actions).toEqual([]);
    expect(first.notes.map((n) => n.message)).toEqual([
      "certificate 10 is not in the IdP's metadata; disabling it after the overlap",
    ]);
    expect(first.journal.unpublished).toEqual([
      { account: "main", integrationId: "1", fingerprint: dropped.fingerprintSha256, since: NOW },
    ]);

    const at = (ms: number) =>
      plan({
        scanned,
        offers: new Map([[0, offer]]),
        rotation,
        journal: first.journal,
        now: new Date(NOW.getTime() + ms),
      });
    expect(at(DAY - 1).actions).toEqual([]);
    expect(at(DAY).actions).toMatchObject([
      {
        kind: "disable",
        certificateId: "10",
        rotationId: null,
        reason: `not published in the IdP's metadata since ${NOW.toISOString()}`,
      },
    ]);

    // The only published certificate is not usable on the integration (disabled): nothing is disabled.
    const lonely = singleAccount(
      [
        scannedIntegration("1", [
          certificate("10", "1", dropped.pem),
          certificate("11", "1", published.pem, false),
        ]),
      ],
      NOW,
    );
    const refused = plan({
      scanned: lonely,
      offers: new Map([[0, offer]]),
      rotation,
      journal: first.journal,
      now: new Date(NOW.getTime() + DAY),
    });
    expect(refused.actions).toEqual([]);
    expect(refused.notes.map((n) => n.message)).toContain(
      "not disabling certificate 10: it would leave no valid enabled certificate",
    );
  });

  test("a certificate published again is forgotten: no disable later", async () => {
    const back = await cert("back", -300, 30);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", back.pem)])], NOW);
    const journal = journalWith({
      unpublished: [
        { account: "main", integrationId: "1", fingerprint: back.fingerprintSha256, since: new Date(0) },
      ],
    });
    const planned = planFor(scanned, metadataRule(), metadataOffer([back.pem]), journal);
    expect(planned.actions).toEqual([]);
    expect(planned.journal.unpublished).toEqual([]);
  });

  test.each([
    ["a fetch error", "metadata fetch failed: HTTP 500 Internal Server Error"],
    ["a document that is not XML", "metadata is not XML: unexpected end (line 1)"],
    ["XML without certificates", "the IDPSSODescriptor publishes no signing X509Certificate"],
  ])("%s changes nothing and keeps what is remembered", async (_name, message) => {
    const dropped = await cert("dropped", -300, 30);
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", dropped.pem)])], NOW);
    const journal = journalWith({
      unpublished: [
        { account: "main", integrationId: "1", fingerprint: dropped.fingerprintSha256, since: new Date(0) },
      ],
    });
    const planned = planFor(
      scanned,
      metadataRule(),
      metadataSourceOffer({ ok: false, reason: "fetch_failed", message }),
      journal,
    );
    expect(planned.actions).toEqual([]);
    expect(planned.journal.unpublished).toEqual(journal.unpublished);
    expect(planned.notes).toMatchObject([
      { level: "warn", message: `metadata: ${message}; no rotation step this cycle` },
    ]);
  });
});

describe("deleting disabled certificates", () => {
  async function setup(enabled: boolean | null, disabledAgoMs: number, deleteAfterMs: number | null) {
    const old = await cert("old", -300, 30);
    const fresh = await cert("fresh", -1, 400);
    const scanned = singleAccount(
      [
        scannedIntegration("1", [
          certificate("10", "1", old.pem, enabled),
          certificate("11", "1", fresh.pem),
        ]),
      ],
      NOW,
    );
    const journal = journalWith({
      disabled: [
        {
          account: "main",
          integrationId: "1",
          certificateId: "10",
          fingerprint: old.fingerprintSha256,
          at: new Date(NOW.getTime() - disabledAgoMs),
        },
      ],
    });
    const rotation = rotationConfig([rule({ id: "1" }, FILE_SOURCE)], {
      deleteDisabledAfterMs: deleteAfterMs,
    });
    return plan({
      scanned,
      offers: new Map(),
      rotation,
      journal: reconcile(journal, scanned, NOW),
      now: NOW,
    });
  }

  test.each([
    ["disabled 31 days, delete after 30", false, 31 * DAY, 30 * DAY, ["delete 1 10"]],
    ["disabled, the API omits enabled: the journal's word counts", null, 31 * DAY, 30 * DAY, ["delete 1 10"]],
    ["disabled 29 days, delete after 30", false, 29 * DAY, 30 * DAY, []],
    ["delete_disabled_after: never", false, 400 * DAY, null, []],
    ["re-enabled by someone since", true, 31 * DAY, 30 * DAY, []],
  ])("%s", async (_name, enabled, ago, after, expected) => {
    const planned = await setup(enabled, ago, after);
    expect(summary(planned.actions)).toEqual(expected);
    if (expected.length > 0) expect(planned.actions[0]!.reason).toContain("delete_disabled_after passed");
  });
});

describe("reconcile(): SendGrid is the truth", () => {
  test("an upload whose answer was lost is adopted by fingerprint, then verified, never uploaded again", async () => {
    const fresh = await cert("fresh", -1, 400);
    const old = await cert("old", -300, 5);
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      phase: "uploading",
    });
    const scanned = singleAccount(
      [scannedIntegration("1", [certificate("10", "1", old.pem), certificate("77", "1", fresh.pem)])],
      NOW,
    );
    const journal = reconcile(journalWith({ rotations: [record] }), scanned, NOW);
    expect(journal.rotations[0]).toMatchObject({ phase: "uploaded", certificateId: "77", uploadedAt: NOW });
    const planned = planFor(scanned, fileRule(), fileOffer([fresh.pem]), journal);
    expect(planned.actions).toMatchObject([{ kind: "verify", certificateId: "77" }]);
  });

  test("an upload that never reached SendGrid is retried with the same certificate", async () => {
    const fresh = await cert("fresh", -1, 400);
    const old = await cert("old", -300, 5);
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      phase: "uploading",
    });
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", old.pem)])], NOW);
    const journal = reconcile(journalWith({ rotations: [record] }), scanned, NOW);
    expect(journal.rotations[0]!.phase).toBe("uploading");
    const planned = planFor(scanned, fileRule(), fileOffer([]), journal);
    expect(planned.actions).toMatchObject([
      { kind: "upload", rotation: { id: record.id }, reason: "retrying an upload that did not complete" },
    ]);
  });

  test("an upload whose answer was lost is not sent again until SendGrid had time to apply it", async () => {
    const fresh = await cert("fresh", -1, 400);
    const old = await cert("old", -300, 5);
    const settleMs = 60_000;
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      phase: "uploading",
      attemptedAt: new Date(NOW.getTime() - settleMs + 1),
    });
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", old.pem)])], NOW);
    const journal = journalWith({ rotations: [record] });
    // A POST SendGrid is still holding would be applied beside a second one: wait, and say so.
    const early = planFor(scanned, fileRule(), fileOffer([]), journal, { settleMs });
    expect(early.actions).toEqual([]);
    expect(early.notes.map((n) => n.message)).toEqual([
      `waiting for SendGrid to show the upload of rotation ${record.id} before trying again`,
    ]);
    const later = planFor(scanned, fileRule(), fileOffer([]), journal, {
      settleMs,
      now: new Date(NOW.getTime() + 1),
    });
    expect(summary(later.actions)).toEqual([`upload 1 ${fresh.fingerprintSha256.slice(0, 8)}`]);
  });

  test("a lost upload that is no longer acceptable is abandoned, not retried", async () => {
    const fresh = await cert("fresh", -1, 400);
    const old = await cert("old", -300, 5);
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      phase: "uploading",
    });
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", old.pem)])], NOW);
    const later = new Date(NOW.getTime() + 401 * DAY);
    const planned = plan({
      scanned,
      offers: new Map(),
      rotation: fileRule(),
      journal: journalWith({ rotations: [record] }),
      now: later,
    });
    expect(planned.actions).toEqual([]);
    expect(planned.journal.rotations[0]).toMatchObject({ phase: "abandoned", retiredAt: later });
  });

  test("a certificate that vanished abandons its rotation; disabled records follow the API", async () => {
    const fresh = await cert("fresh", -1, 400);
    const old = await cert("old", -300, 5);
    const gone = await cert("gone", -300, 5);
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      phase: "verified",
      certificateId: "11",
    });
    const disabled = (certificateId: string, fingerprint: string) => ({
      account: "main",
      integrationId: "1",
      certificateId,
      fingerprint,
      at: NOW,
    });
    const scanned = singleAccount([scannedIntegration("1", [certificate("10", "1", old.pem, true)])], NOW);
    const journal = reconcile(
      journalWith({
        rotations: [record],
        disabled: [disabled("10", old.fingerprintSha256), disabled("12", gone.fingerprintSha256)],
      }),
      scanned,
      NOW,
    );
    expect(journal.rotations[0]).toMatchObject({ phase: "abandoned" });
    // 10 was re-enabled by someone, 12 is gone: neither is "disabled by this tool" any more.
    expect(journal.disabled).toEqual([]);
  });

  test("an integration the scan could not read keeps its journal as it is", async () => {
    const fresh = await cert("fresh", -1, 400);
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      phase: "uploaded",
      certificateId: "11",
    });
    const journal = journalWith({
      rotations: [record],
      disabled: [{ account: "main", integrationId: "1", certificateId: "9", fingerprint: "ab", at: NOW }],
    });
    const scanned = singleAccount([scannedIntegration("1", null)], NOW);
    expect(reconcile(journal, scanned, NOW)).toEqual(journal);
  });
});

describe("planRollback()", () => {
  async function rotated(oldEnabled: boolean, oldFromDays: number, oldToDays: number) {
    const old = await cert("old", oldFromDays, oldToDays);
    const fresh = await cert("fresh", -1, 400);
    const record = rotationRecord({
      integrationId: "1",
      fingerprint: fresh.fingerprintSha256,
      pem: fresh.pem,
      notAfter: new Date(NOW.getTime() + 400 * DAY),
      replaces: [{ certificateId: "10", fingerprint: old.fingerprintSha256 }],
      phase: "retired",
      certificateId: "11",
    });
    const scanned = singleAccount(
      [
        scannedIntegration("1", [
          certificate("10", "1", old.pem, oldEnabled),
          certificate("11", "1", fresh.pem),
        ]),
      ],
      NOW,
    );
    return { record, scanned, journal: journalWith({ rotations: [record] }) };
  }

  test("re-enables the certificate the rotation disabled, then disables the one it uploaded", async () => {
    const { record, scanned, journal } = await rotated(false, -300, 5);
    const planned = planRollback(scanned, journal, "main", "1", NOW);
    expect(planned.ok).toBe(true);
    if (!planned.ok) return;
    expect(planned.undo).toEqual({ kind: "rotation", rotation: record });
    expect(summary(planned.actions)).toEqual(["enable 1 10", "disable 1 11"]);
  });

  test("the replaced certificate is still enabled: only the uploaded one is disabled", async () => {
    const { scanned, journal } = await rotated(true, -300, 5);
    const planned = planRollback(scanned, journal, "main", "1", NOW);
    expect(planned.ok && summary(planned.actions)).toEqual(["disable 1 11"]);
  });

  test("refused when the old certificate expired meanwhile and nothing else would stay valid", async () => {
    const { scanned, journal } = await rotated(false, -300, -1);
    const planned = planRollback(scanned, journal, "main", "1", NOW);
    expect(planned.ok).toBe(false);
    if (planned.ok) return;
    expect(planned.message).toContain("would leave no valid enabled certificate");
  });

  test("refused without a rotation in the journal, or when the integration cannot be read", async () => {
    const { scanned, journal } = await rotated(false, -300, 5);
    expect(planRollback(scanned, EMPTY_JOURNAL, "main", "1", NOW)).toEqual({
      ok: false,
      message: "no rotation of integration 1 to roll back in the journal",
    });
    const unreadable = singleAccount([scannedIntegration("1", null)], NOW);
    expect(planRollback(unreadable, journal, "main", "1", NOW)).toMatchObject({ ok: false });
  });
});
