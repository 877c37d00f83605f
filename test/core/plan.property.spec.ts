// Properties of the rotation planner over random worlds: inventories of real generated certificates in
// every state, random rules, offers and journals, and a random `now`. A small pure model of the executor
// and the API applies each plan, so safety is checked after every single step, not just per plan.

import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { generateCsr } from "../../src/certs/generate.js";
import { parseCertificate } from "../../src/certs/parse.js";
import { validateCandidate } from "../../src/certs/validate.js";
import type { RotateBefore, RotationConfig, RotationRule } from "../../src/config/types.js";
import type { Inventory } from "../../src/core/inventory.js";
import {
  reconcile,
  withFailure,
  withRotation,
  withSuccess,
  type BackoffRecord,
  type DisabledRecord,
  ROTATION_PHASES,
  type Journal,
  type RotationPhase,
  type RotationRecord,
  type UnpublishedRecord,
} from "../../src/core/journal.js";
import type { Integration } from "../../src/core/model.js";
import type { Offer } from "../../src/core/offer.js";
import { plan, type Action, type Plan } from "../../src/core/plan.js";
import { matchRule } from "../../src/core/rules.js";
import { fileOffer } from "../../src/sources/file.js";
import { metadataOffer } from "../../src/sources/metadata-offer.js";
import { makeCert } from "../helpers/make-cert.js";
import { DAY, HOUR, certificate, integrationRecord, inventoryOf, rotationConfig } from "./plan-fixtures.js";

const T0 = new Date("2026-06-01T00:00:00Z");
// PLAN_RUNS=5000 npx vitest run test/core/plan.property.spec.ts searches deeper.
const NUM_RUNS = Number(process.env.PLAN_RUNS ?? 250);
const MAX_ITERATIONS = 16;

/** Validity windows in days around T0; `now` wanders from T0 - 15d to T0 + 40d, so statuses change. */
const POOL_SPECS = [
  { cn: "expired", from: -400, to: -10 },
  { cn: "ends-in-3d", from: -300, to: 3 },
  { cn: "ends-in-20d", from: -200, to: 20 },
  { cn: "ends-in-60d", from: -100, to: 60 },
  { cn: "ends-in-200d", from: -30, to: 200 },
  { cn: "ends-in-400d", from: -10, to: 400 },
  { cn: "starts-in-5d", from: 5, to: 500 },
  { cn: "ends-in-700d", from: -5, to: 700 },
  { cn: "rsa-1024", from: -10, to: 300, key: { kind: "rsa", bits: 1024 } },
  { cn: "ends-in-1000d", from: -1, to: 1000 },
  { cn: "rsa-2048", from: -2, to: 45, key: { kind: "rsa", bits: 2048 } },
  { cn: "p384", from: -20, to: 365, key: { kind: "ec", curve: "P-384" } },
] as const;
const POOL_SIZE = POOL_SPECS.length;
/** Texts that are not acceptable whatever the dates: garbage, a CSR, a certificate with its key, junk PEM. */
const INVALID_COUNT = 4;

interface PoolCert {
  readonly pem: string;
  readonly fingerprint: string;
}

let pool: PoolCert[] = [];
let invalidTexts: string[] = [];

beforeAll(async () => {
  const generated = await Promise.all(
    POOL_SPECS.map((spec) =>
      makeCert({
        cn: spec.cn,
        now: T0,
        fromDays: spec.from,
        toDays: spec.to,
        ...("key" in spec ? { key: spec.key } : {}),
      }),
    ),
  );
  pool = generated.map((g) => ({ pem: g.pem, fingerprint: g.fingerprintSha256 }));
  invalidTexts = [
    "this is not a certificate\n",
    await generateCsr("csr.example.test"),
    generated[9]!.pem + generated[9]!.privateKeyPem,
    "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
  ];
});

// ---------------------------------------------------------------------------------------------------------
// The random world, as indices (resolved against the pool once it exists).

const GARBAGE = -1;

interface CertSpec {
  readonly source: number;
  readonly enabled: boolean | null;
}

type OfferSpec =
  | { readonly type: "file"; readonly pool: number[]; readonly invalid: number[]; readonly problem: boolean }
  | { readonly type: "metadata"; readonly ok: true; readonly pool: number[] }
  | { readonly type: "metadata"; readonly ok: false };

interface RuleSpec {
  readonly by: "id" | "name";
  readonly source: "file" | "metadata";
  readonly rotateBefore: RotateBefore;
  readonly overlapMs: number;
  /** null: the rule's source was not read this cycle. */
  readonly offer: OfferSpec | null;
}

interface IntegrationSpec {
  readonly name: string;
  readonly failed: boolean;
  readonly certs: CertSpec[];
  readonly rule: RuleSpec | null;
}

interface AccountSpec {
  readonly failed: boolean;
  readonly integrations: IntegrationSpec[];
}

interface Where {
  readonly a: number;
  readonly i: number;
}

interface RotationSpec extends Where {
  readonly phase: RotationPhase;
  readonly kind: "replace" | "mirror";
  readonly fingerprintFrom: "present" | "pool";
  readonly index: number;
  readonly certificateId: "match" | "null" | "bogus";
  readonly replaces: number[];
  readonly startedAgoH: number;
  readonly verifiedAgoH: number;
}

interface WorldSpec {
  readonly nowOffsetH: number;
  readonly accounts: AccountSpec[];
  readonly rotations: RotationSpec[];
  readonly disabled: (Where & { readonly c: number; readonly agoH: number })[];
  readonly backoff: (Where & { readonly failures: number; readonly inH: number })[];
  readonly unpublished: (Where & { readonly pool: number; readonly agoH: number })[];
  readonly deleteDisabledAfterMs: number | null;
  readonly maxRotationsPerCycle: number;
  /** The API leaves `enabled` out of what it returns for uploaded certificates. */
  readonly omitEnabledOnUpload: boolean;
}

const poolIndex = fc.integer({ min: 0, max: POOL_SIZE - 1 });
const hoursAgo = fc.integer({ min: 0, max: 60 * 24 });

const certSpec: fc.Arbitrary<CertSpec> = fc.record({
  source: fc.oneof({ weight: 9, arbitrary: poolIndex }, { weight: 1, arbitrary: fc.constant(GARBAGE) }),
  enabled: fc.constantFrom(true, true, false, null),
});

const offerSpec: fc.Arbitrary<OfferSpec> = fc.oneof(
  fc.record({
    type: fc.constant("file" as const),
    pool: fc.uniqueArray(poolIndex, { maxLength: 4 }),
    invalid: fc.uniqueArray(fc.integer({ min: 0, max: INVALID_COUNT - 1 }), { maxLength: 2 }),
    problem: fc.boolean(),
  }),
  fc.record({
    type: fc.constant("metadata" as const),
    ok: fc.constant(true as const),
    // Duplicates on purpose: the planner must not trust its input to be de-duplicated.
    pool: fc.array(poolIndex, { minLength: 1, maxLength: 4 }),
  }),
  fc.record({ type: fc.constant("metadata" as const), ok: fc.constant(false as const) }),
);

const rotateBefore: fc.Arbitrary<RotateBefore> = fc.oneof(
  fc.constantFrom(1, 7, 30, 90).map((days): RotateBefore => ({ kind: "duration", ms: days * DAY })),
  fc.constantFrom(10, 33, 66).map((percent): RotateBefore => ({ kind: "percent", percent })),
);

const ruleSpec: fc.Arbitrary<RuleSpec> = fc
  .record({
    by: fc.constantFrom("id" as const, "name" as const),
    rotateBefore,
    overlapMs: fc.constantFrom(0, 0, HOUR, DAY, 7 * DAY),
    offer: fc.option(offerSpec, { freq: 5 }),
  })
  .map((r) => ({ ...r, source: r.offer?.type ?? "file" }));

const integrationSpec: fc.Arbitrary<IntegrationSpec> = fc.record({
  name: fc.constantFrom("Okta", "Entra", "Duo"),
  failed: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  certs: fc.uniqueArray(certSpec, {
    maxLength: 4,
    selector: (c) => c.source,
  }),
  rule: fc.option(ruleSpec, { freq: 4 }),
});

const where = { a: fc.nat(3), i: fc.nat(7) };

const worldSpec: fc.Arbitrary<WorldSpec> = fc.record({
  nowOffsetH: fc.integer({ min: -15 * 24, max: 40 * 24 }),
  accounts: fc.array(
    fc.record({
      failed: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      integrations: fc.array(integrationSpec, { minLength: 1, maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  rotations: fc.array(
    fc.record({
      ...where,
      phase: fc.constantFrom(...ROTATION_PHASES),
      kind: fc.constantFrom("replace" as const, "mirror" as const),
      fingerprintFrom: fc.constantFrom("present" as const, "pool" as const),
      index: fc.nat(POOL_SIZE - 1),
      certificateId: fc.constantFrom("match" as const, "match" as const, "null" as const, "bogus" as const),
      replaces: fc.uniqueArray(fc.nat(3), { maxLength: 3 }),
      startedAgoH: hoursAgo,
      verifiedAgoH: hoursAgo,
    }),
    { maxLength: 3 },
  ),
  disabled: fc.array(fc.record({ ...where, c: fc.nat(3), agoH: hoursAgo }), { maxLength: 3 }),
  backoff: fc.array(
    fc.record({ ...where, failures: fc.integer({ min: 1, max: 5 }), inH: fc.integer({ min: -12, max: 12 }) }),
    { maxLength: 2 },
  ),
  unpublished: fc.array(fc.record({ ...where, pool: poolIndex, agoH: hoursAgo }), { maxLength: 2 }),
  deleteDisabledAfterMs: fc.constantFrom(null, 0, DAY, 30 * DAY),
  maxRotationsPerCycle: fc.integer({ min: 0, max: 5 }),
  omitEnabledOnUpload: fc.boolean(),
});

// ---------------------------------------------------------------------------------------------------------
// The model: what SendGrid holds (the truth), and how the executor's steps change it and the journal.

interface ModelCert {
  readonly id: string;
  readonly pem: string;
  enabled: boolean;
  /** Whether the API reports `enabled` for it (the real service often leaves it out). */
  readonly reported: boolean;
}

interface ModelIntegration {
  readonly integration: Integration;
  readonly failed: boolean;
  certs: ModelCert[];
}

interface ModelAccount {
  readonly account: string;
  readonly failed: boolean;
  readonly integrations: ModelIntegration[];
}

interface World {
  readonly now: Date;
  readonly model: ModelAccount[];
  readonly journal: Journal;
  readonly rotation: RotationConfig;
  readonly offers: Map<number, Offer>;
  readonly omitEnabledOnUpload: boolean;
  nextId: number;
}

function fingerprintOf(pem: string): string | null {
  const parsed = parseCertificate(pem);
  return parsed.ok ? parsed.certificate.fingerprintSha256 : null;
}

function isUsableNow(cert: ModelCert, now: Date): boolean {
  const parsed = parseCertificate(cert.pem);
  if (!cert.enabled || !parsed.ok) return false;
  const t = now.getTime();
  return parsed.certificate.notBefore.getTime() <= t && t < parsed.certificate.notAfter.getTime();
}

function offerOf(spec: OfferSpec): Offer {
  if (spec.type === "file") {
    return fileOffer({
      inputs: [
        ...spec.pool.map((p) => ({ origin: `/certs/pool-${p}.pem`, text: pool[p]!.pem })),
        ...spec.invalid.map((n) => ({ origin: `/certs/invalid-${n}.pem`, text: invalidTexts[n]! })),
      ],
      problems: spec.problem ? [{ origin: "/certs/unreadable.pem", message: "permission denied" }] : [],
    });
  }
  return spec.ok
    ? metadataOffer({ ok: true, signing: spec.pool.map((p) => pool[p]!.pem), signature: { kind: "none" } })
    : metadataOffer({ ok: false, reason: "fetch_failed", message: "metadata fetch failed: HTTP 500" });
}

function buildWorld(spec: WorldSpec): World {
  const now = new Date(T0.getTime() + spec.nowOffsetH * HOUR);
  let nextId = 1000;
  const rules: RotationRule[] = [];
  const offers = new Map<number, Offer>();
  const accounts = spec.accounts.map((accountSpec, a) => {
    const account = `acct${a}`;
    const integrations = accountSpec.integrations.map((s, i): ModelIntegration => {
      // The same integration ids in every account: an action must never leak across accounts.
      const integration = integrationRecord(`int${i}`, s.name);
      if (s.rule) {
        const match = s.rule.by === "id" ? { id: integration.id } : { name: integration.name };
        if (s.rule.offer) offers.set(rules.length, offerOf(s.rule.offer));
        rules.push({
          account,
          match,
          source:
            s.rule.source === "file"
              ? { type: "file", path: "/certs" }
              : {
                  type: "metadata",
                  url: "https://idp.example.test/metadata",
                  entityId: null,
                  requireSignature: false,
                  signingCertificateFile: null,
                },
          rotateBefore: s.rule.rotateBefore,
          overlapMs: s.rule.overlapMs,
        });
      }
      const certs = s.certs.map((c): ModelCert => ({
        id: String(nextId++),
        pem: c.source === GARBAGE ? invalidTexts[0]! : pool[c.source]!.pem,
        enabled: c.enabled !== false,
        reported: c.enabled !== null,
      }));
      return { integration, failed: s.failed, certs };
    });
    return { account, failed: accountSpec.failed, integrations };
  });

  const locate = (w: Where) => {
    const account = accounts[w.a % accounts.length]!;
    const integration = account.integrations[w.i % account.integrations.length]!;
    return { account: account.account, integrationId: integration.integration.id, integration };
  };

  const rotations = spec.rotations.map((r, n): RotationRecord => {
    const { account, integrationId, integration } = locate(r);
    const present = integration.certs.filter((c) => fingerprintOf(c.pem) !== null);
    const pem =
      r.fingerprintFrom === "present" && present.length > 0
        ? present[r.index % present.length]!.pem
        : pool[r.index]!.pem;
    const fingerprint = fingerprintOf(pem)!;
    const match = integration.certs.find((c) => fingerprintOf(c.pem) === fingerprint);
    const certificateId =
      r.certificateId === "bogus" ? "999999" : r.certificateId === "match" ? (match?.id ?? null) : null;
    const started = new Date(now.getTime() - r.startedAgoH * HOUR);
    const uploaded = r.phase !== "uploading" && r.phase !== "abandoned";
    const verified = r.phase === "verified" || r.phase === "retired" || r.phase === "rolled_back";
    return {
      id: `r${n}`,
      account,
      integrationId,
      kind: r.kind,
      origin: "journal",
      fingerprint,
      pem,
      notAfter: (parseCertificate(pem) as { ok: true; certificate: { notAfter: Date } }).certificate.notAfter,
      // Like every record the tool writes, it names parsed certificates only.
      replaces: r.replaces.flatMap((k) => {
        const old = present[k];
        return old ? [{ certificateId: old.id, fingerprint: fingerprintOf(old.pem)! }] : [];
      }),
      phase: r.phase,
      certificateId: uploaded ? certificateId : null,
      startedAt: started,
      uploadedAt: uploaded ? started : null,
      verifiedAt: verified ? new Date(now.getTime() - r.verifiedAgoH * HOUR) : null,
      retiredAt: r.phase === "retired" ? now : null,
      note: null,
    };
  });

  const disabled = spec.disabled.flatMap((d): DisabledRecord[] => {
    const { account, integrationId, integration } = locate(d);
    const cert = integration.certs[d.c];
    const fingerprint = cert ? fingerprintOf(cert.pem) : null;
    if (!cert || fingerprint === null) return [];
    return [
      {
        account,
        integrationId,
        certificateId: cert.id,
        fingerprint,
        at: new Date(now.getTime() - d.agoH * HOUR),
      },
    ];
  });
  // A certificate whose `enabled` the API leaves out is disabled exactly when the journal says so:
  // the one thing the tool can know about it.
  for (const account of accounts) {
    for (const integration of account.integrations) {
      for (const cert of integration.certs) {
        if (!cert.reported) {
          cert.enabled = !disabled.some((d) => d.account === account.account && d.certificateId === cert.id);
        }
      }
    }
  }

  const backoff = spec.backoff.map((b): BackoffRecord => {
    const { account, integrationId } = locate(b);
    return {
      account,
      integrationId,
      failures: b.failures,
      nextAttemptAt: new Date(now.getTime() + b.inH * HOUR),
      lastError: "injected",
    };
  });
  const unpublished = spec.unpublished.map((u): UnpublishedRecord => {
    const { account, integrationId } = locate(u);
    return {
      account,
      integrationId,
      fingerprint: pool[u.pool]!.fingerprint,
      since: new Date(now.getTime() - u.agoH * HOUR),
    };
  });

  return {
    now,
    model: accounts,
    journal: { rotations, rollovers: [], disabled, unpublished, backoff, inProgress: null },
    rotation: rotationConfig(rules, {
      deleteDisabledAfterMs: spec.deleteDisabledAfterMs,
      maxRotationsPerCycle: spec.maxRotationsPerCycle,
    }),
    offers,
    omitEnabledOnUpload: spec.omitEnabledOnUpload,
    nextId: 50_000,
  };
}

/** What a scan of the model shows: failures as failures, `enabled` only where the API reports it. */
function scanOf(world: World): Inventory {
  return inventoryOf(
    world.model.map((account) => ({
      account: account.account,
      failed: account.failed,
      integrations: account.integrations.map((i) => ({
        integration: i.integration,
        certificates: i.failed
          ? null
          : i.certs.map((c) => certificate(c.id, i.integration.id, c.pem, c.reported ? c.enabled : null)),
        error: i.failed ? { reason: "http_5xx" as const, message: "listing failed" } : null,
      })),
    })),
    world.now,
  );
}

function findIntegration(world: World, account: string, integrationId: string): ModelIntegration {
  const found = world.model
    .find((a) => a.account === account)
    ?.integrations.find((i) => i.integration.id === integrationId);
  if (!found) throw new Error(`no integration ${account}/${integrationId} in the model`);
  return found;
}

const BACKOFF_BASE_MS = 60_000;

/** The executor's effect of one action on SendGrid and the journal (every call succeeds). */
function apply(world: World, journal: Journal, action: Action): Journal {
  const integration = findIntegration(world, action.account, action.integrationId);
  const target = { account: action.account, integrationId: action.integrationId };
  switch (action.kind) {
    case "upload": {
      const id = String(world.nextId++);
      integration.certs.push({
        id,
        pem: action.rotation.pem,
        enabled: true,
        reported: !world.omitEnabledOnUpload,
      });
      const record = {
        ...action.rotation,
        phase: "uploaded" as const,
        certificateId: id,
        uploadedAt: world.now,
      };
      return withSuccess(withRotation(journal, record), target);
    }
    case "verify": {
      const stored = integration.certs.find((c) => c.id === action.certificateId);
      const ok =
        stored !== undefined &&
        fingerprintOf(stored.pem) === action.rotation.fingerprint &&
        !(stored.reported && !stored.enabled);
      if (!ok) {
        const abandoned = withRotation(journal, { ...action.rotation, phase: "abandoned", note: "failed" });
        return withFailure(abandoned, target, "verification failed", world.now, BACKOFF_BASE_MS);
      }
      const verified = { ...action.rotation, phase: "verified" as const, verifiedAt: world.now };
      return withSuccess(withRotation(journal, verified), target);
    }
    case "disable":
    case "enable": {
      const cert = integration.certs.find((c) => c.id === action.certificateId);
      if (!cert) return withSuccess(journal, target);
      cert.enabled = action.kind === "enable";
      const others = journal.disabled.filter(
        (d) => d.account !== action.account || d.certificateId !== action.certificateId,
      );
      const disabled =
        action.kind === "enable"
          ? others
          : [
              ...others,
              { ...target, certificateId: cert.id, fingerprint: action.fingerprint, at: world.now },
            ];
      return withSuccess({ ...journal, disabled }, target);
    }
    case "delete": {
      integration.certs = integration.certs.filter((c) => c.id !== action.certificateId);
      const disabled = journal.disabled.filter(
        (d) => d.account !== action.account || d.certificateId !== action.certificateId,
      );
      return withSuccess({ ...journal, disabled }, target);
    }
    default:
      throw new Error(`no IdP in this model, yet the plan holds a ${action.kind}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The properties, as lists of violations (empty: the plan is fine), so a failure names every broken rule.

const key = (account: string, integrationId: string) => `${account}\u0000${integrationId}`;

function usableIds(world: World, account: string, integrationId: string): Set<string> {
  return new Set(
    findIntegration(world, account, integrationId)
      .certs.filter((c) => isUsableNow(c, world.now))
      .map((c) => c.id),
  );
}

/** Integrations a rule matches and the scan read: the only ones an action may touch. */
function actionable(world: World): Set<string> {
  const allowed = new Set<string>();
  for (const account of world.model) {
    if (account.failed) continue;
    for (const i of account.integrations) {
      const matched = world.rotation.integrations.some(
        (r) =>
          (r.account === null || r.account === account.account) &&
          ("id" in r.match ? r.match.id === i.integration.id : r.match.name === i.integration.name),
      );
      if (matched && !i.failed) allowed.add(key(account.account, i.integration.id));
    }
  }
  return allowed;
}

/** (g) The overlap a disable waits for: since the replacement was verified, or since the IdP dropped it. */
type StateAction = Extract<Action, { kind: "disable" | "delete" | "enable" }>;

function disabledEarly(world: World, journal: Journal, action: StateAction): boolean {
  const { integration } = findIntegration(world, action.account, action.integrationId);
  const index = matchRule(world.rotation.integrations, action.account, integration);
  const overlapMs = index === null ? 0 : world.rotation.integrations[index]!.overlapMs;
  const since =
    action.rotationId === null
      ? journal.unpublished.find(
          (u) =>
            u.account === action.account &&
            u.integrationId === action.integrationId &&
            u.fingerprint === action.fingerprint,
        )?.since
      : journal.rotations.find((r) => r.id === action.rotationId && r.phase === "verified")?.verifiedAt;
  return !since || since.getTime() + overlapMs > world.now.getTime();
}

function violations(world: World, journal: Journal, planned: Plan): string[] {
  const found: string[] = [];
  const allowed = actionable(world);
  const uploads = planned.actions.filter((a) => a.kind === "upload");

  // (b) nothing outside the matched, successfully scanned integrations.
  for (const action of planned.actions) {
    if (!allowed.has(key(action.account, action.integrationId)))
      found.push(`(b) ${action.kind} on untouchable ${action.account}/${action.integrationId}`);
  }
  for (const action of planned.actions) {
    if (action.kind === "disable" && disabledEarly(world, journal, action))
      found.push(`(g) ${action.certificateId} of ${action.integrationId} disabled before the overlap passed`);
  }
  // (c) the per-cycle cap.
  if (uploads.length > world.rotation.maxRotationsPerCycle)
    found.push(`(c) ${uploads.length} uploads > max ${world.rotation.maxRotationsPerCycle}`);

  const touched = new Set(planned.actions.map((a) => key(a.account, a.integrationId)));
  for (const where of touched) {
    const [account, integrationId] = where.split("\u0000") as [string, string];
    if (!allowed.has(where)) continue;
    const integration = findIntegration(world, account, integrationId);
    const mine = planned.actions.filter((a) => a.account === account && a.integrationId === integrationId);

    // (a) the whole plan's disables and deletes at once never leave the integration without a usable one.
    const usable = usableIds(world, account, integrationId);
    const removed = new Set(
      mine.flatMap((a) => (a.kind === "disable" || a.kind === "delete" ? [a.certificateId] : [])),
    );
    for (const action of mine) {
      if (action.kind === "delete" && usable.has(action.certificateId))
        found.push(`(a) deletes usable certificate ${action.certificateId} of ${where}`);
    }
    if (mine.some((a) => a.kind === "disable") && [...usable].every((id) => removed.has(id)))
      found.push(`(a) disables leave ${account}/${integrationId} without a usable certificate`);

    // (d) one upload per fingerprint, never one already there; (f) each passes validation.
    const present = new Set(integration.certs.flatMap((c) => fingerprintOf(c.pem) ?? []));
    const seen = new Set<string>();
    for (const action of mine) {
      if (action.kind !== "upload") continue;
      const fingerprint = action.rotation.fingerprint;
      if (seen.has(fingerprint)) found.push(`(d) ${fingerprint} uploaded twice to ${where} in one plan`);
      if (present.has(fingerprint)) found.push(`(d) ${fingerprint} is already on ${where}`);
      seen.add(fingerprint);
      const verdict = validateCandidate(
        { origin: action.rotation.origin, text: action.rotation.pem },
        { now: world.now, presentFingerprints: present, mustOutlive: null },
      );
      if (!verdict.ok)
        found.push(`(f) upload to ${where} fails validation: ${verdict.rejections[0].message}`);
      else if (verdict.candidate.certificate.fingerprintSha256 !== fingerprint)
        found.push(`(f) upload to ${where}: the PEM is not the fingerprinted certificate`);
    }
  }
  return found;
}

function planOnce(world: World, journal: Journal): { journal: Journal; planned: Plan } {
  const scanned = scanOf(world);
  const reconciled = reconcile(journal, scanned, world.now);
  const planned = plan({
    scanned,
    offers: world.offers,
    rotation: world.rotation,
    journal: reconciled,
    now: world.now,
  });
  return { journal: reconciled, planned };
}

function describeWorld(world: World): string {
  return JSON.stringify(
    {
      now: world.now,
      model: world.model.map((a) => ({
        ...a,
        integrations: a.integrations.map((i) => ({
          id: i.integration.id,
          name: i.integration.name,
          failed: i.failed,
          certs: i.certs.map((c) => ({ ...c, pem: fingerprintOf(c.pem)?.slice(0, 8) ?? "garbage" })),
        })),
      })),
      rules: world.rotation.integrations,
      journal: {
        ...world.journal,
        rotations: world.journal.rotations.map((r) => ({ ...r, pem: undefined })),
      },
    },
    null,
    1,
  );
}

describe("plan() over random inventories, rules, offers and journals", () => {
  test("one plan: safe (a), confined (b), capped (c), no duplicate (d) or invalid (f) upload, no early disable (g)", () => {
    fc.assert(
      fc.property(worldSpec, (spec) => {
        const world = buildWorld(spec);
        const { journal, planned } = planOnce(world, world.journal);
        const found = violations(world, journal, planned);
        if (found.length > 0) throw new Error(`${found.join("\n")}\nworld: ${describeWorld(world)}`);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  test("plan, apply, plan again at the same instant: safe after every step, converges, never re-uploads", () => {
    let longest = 0;
    fc.assert(
      fc.property(worldSpec, (spec) => {
        const world = buildWorld(spec);
        const description = describeWorld(world);
        const fail = (message: string): never => {
          throw new Error(`${message}\nworld: ${description}`);
        };
        const uploaded = new Set<string>();
        let journal = world.journal;
        for (let iteration = 1; ; iteration++) {
          if (iteration > MAX_ITERATIONS) fail(`no empty plan after ${MAX_ITERATIONS} iterations`);
          const step = planOnce(world, journal);
          const found = violations(world, step.journal, step.planned);
          if (found.length > 0) fail(`iteration ${iteration}:\n${found.join("\n")}`);
          if (step.planned.actions.length === 0) {
            longest = Math.max(longest, iteration);
            return;
          }
          journal = step.planned.journal;
          for (const action of step.planned.actions) {
            const where = key(action.account, action.integrationId);
            const before = usableIds(world, action.account, action.integrationId).size;
            if (action.kind === "upload") {
              const upload = `${where}\u0000${action.rotation.fingerprint}`;
              if (uploaded.has(upload))
                fail(`iteration ${iteration}: ${action.rotation.fingerprint} uploaded to ${where} again`);
              uploaded.add(upload);
            }
            journal = apply(world, journal, action);
            const after = usableIds(world, action.account, action.integrationId).size;
            if (before > 0 && after === 0)
              fail(`iteration ${iteration}: ${action.kind} ${JSON.stringify(action)} left ${where} unusable`);
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
    expect(longest).toBeGreaterThan(1);
  });
});
