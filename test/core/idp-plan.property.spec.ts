// Properties of the planner's IdP side over random worlds: integrations whose rules read okta or entra,
// random key sets at the IdP (random validity windows, random active key, random manage_keys), random
// SendGrid certificates, random journals (rotations, rollovers in every phase, unpublished records). A
// small model of the executor applies every planned step to a simulated SendGrid AND a simulated IdP,
// each step succeeding, failing for good, or applied with its answer lost (as a crash or timeout
// leaves it); the clock moves between cycles, an admin sometimes activates or generates a key in the
// console, an operator sometimes runs `rollback`. Around every single step: (1) no activation of a key
// SendGrid does not trust, (2) no disable/delete of the certificate the IdP signs with, (3) never from
// some usable certificate to none, (4) one key per rollover, (5) no lockout where there was none; per
// plan, (6) max_rotations_per_cycle bounds uploads and generates together.

import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import type { RotateBefore, RotationConfig, RotationRule } from "../../src/config/types.js";
import type { Inventory } from "../../src/core/inventory.js";
import {
  reconcile,
  withFailure,
  withRollover,
  withRotation,
  withSuccess,
  ROLLOVER_PHASES,
  type Journal,
  type RolloverPhase,
  type RolloverRecord,
  type RotationRecord,
  type UnpublishedRecord,
} from "../../src/core/journal.js";
import type { Offer } from "../../src/core/offer.js";
import { plan, type Action } from "../../src/core/plan.js";
import { planRollback } from "../../src/core/rollback.js";
import { makeCert } from "../helpers/make-cert.js";
import {
  DAY,
  HOUR,
  certificate,
  failedIdpOffer,
  idpOffer,
  idpSource,
  integrationRecord,
  rotationConfig,
  singleAccount,
} from "./plan-fixtures.js";

const T0 = new Date("2026-06-01T00:00:00Z");
const YEAR_DAYS = 365.25;
// IDP_PLAN_RUNS=2000 npx vitest run test/core/idp-plan.property.spec.ts searches deeper.
const NUM_RUNS = Number(process.env.IDP_PLAN_RUNS ?? 120);
const SEED = Number(process.env.IDP_PLAN_SEED ?? 20260601);
const CYCLES = 6;
const ITERATIONS_PER_CYCLE = 6;
const BACKOFF_BASE_MS = 60_000;

/** The IdP's keys at the start, in days around T0; the clock moves up to ~60 days, so some expire. */
const POOL_SPECS = [
  { cn: "expired", from: -400, to: -2 },
  { cn: "ends-in-5d", from: -700, to: 5 },
  { cn: "ends-in-20d", from: -300, to: 20 },
  { cn: "ends-in-60d", from: -300, to: 60 },
  { cn: "ends-in-200d", from: -100, to: 200 },
  { cn: "ends-in-400d", from: -10, to: 400 },
  { cn: "ends-in-700d", from: -1, to: 700 },
  { cn: "starts-in-3d", from: 3, to: 800 },
  { cn: "ends-in-1000d", from: -2, to: 1000 },
] as const;
const POOL_SIZE = POOL_SPECS.length;

interface PoolCert {
  readonly pem: string;
  readonly fingerprint: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

let pool: PoolCert[] = [];

function facts(pem: string): PoolCert {
  const parsed = parseCertificate(pem);
  if (!parsed.ok) throw new Error("a generated certificate does not parse");
  const { fingerprintSha256, notBefore, notAfter } = parsed.certificate;
  return { pem, fingerprint: fingerprintSha256, notBefore, notAfter };
}

beforeAll(async () => {
  const generated = await Promise.all(
    POOL_SPECS.map((s) => makeCert({ cn: s.cn, now: T0, fromDays: s.from, toDays: s.to })),
  );
  pool = generated.map((g) => facts(g.pem));
});

// ---------------------------------------------------------------------------------------------------------
// The random world, as indices into the pool.

type SendGridHolds = "missing" | "enabled" | "disabled";
type Outcome = "ok" | "fails" | "lost";

interface KeySpec {
  readonly pool: number;
  readonly sendgrid: SendGridHolds;
  /** The journal's memory of this key's certificate in SendGrid. */
  readonly rotation: "none" | "verified" | "uploaded" | "uploading";
  readonly unpublishedAgoH: number | null;
}

interface RolloverSpec {
  readonly phase: RolloverPhase;
  /** Index into the integration's keys (mod), or -1: a key the IdP does not hold. */
  readonly key: number;
  readonly previous: number;
  readonly requestedAgoH: number;
  readonly knowsAll: boolean;
}

interface IntegrationSpec {
  readonly source: "okta" | "entra";
  readonly keys: KeySpec[];
  /** Index into keys (mod), or null: the API names no active key. */
  readonly active: number | null;
  readonly manage: number | null;
  readonly rotateBefore: RotateBefore;
  readonly overlapMs: number;
  readonly legacy: boolean;
  readonly rollover: RolloverSpec | null;
}

/** An admin in the IdP's console: activates a key it holds, or generates one (and maybe activates it). */
type AdminSpec =
  | { readonly kind: "activate"; readonly integration: number; readonly key: number }
  | {
      readonly kind: "generate";
      readonly integration: number;
      readonly years: number;
      readonly activate: boolean;
    };

interface WorldSpec {
  readonly integrations: IntegrationSpec[];
  readonly maxRotationsPerCycle: number;
  readonly deleteDisabledAfterMs: number | null;
  /** Per cycle: hours the clock moves before it, what an admin does in the console, whether the IdP read fails. */
  readonly cycles: {
    readonly advanceH: number;
    readonly admin: AdminSpec | null;
    readonly readFails: boolean;
    /** After the cycle, an operator runs `rollback` on this integration (index, mod). */
    readonly rollback: number | null;
  }[];
  /** Consumed in order, one per step (cycled). */
  readonly outcomes: Outcome[];
}

const keySpec: fc.Arbitrary<KeySpec> = fc.record({
  pool: fc.nat(POOL_SIZE - 1),
  sendgrid: fc.constantFrom<SendGridHolds>("missing", "enabled", "enabled", "disabled"),
  rotation: fc.constantFrom(
    "none" as const,
    "verified" as const,
    "verified" as const,
    "uploaded" as const,
    "uploading" as const,
  ),
  unpublishedAgoH: fc.option(fc.integer({ min: 0, max: 30 * 24 }), { freq: 3 }),
});

const rolloverSpec: fc.Arbitrary<RolloverSpec> = fc.record({
  phase: fc.constantFrom(...ROLLOVER_PHASES),
  key: fc.integer({ min: -1, max: 4 }),
  previous: fc.nat(4),
  requestedAgoH: fc.integer({ min: 0, max: 48 }),
  knowsAll: fc.boolean(),
});

const rotateBefore: fc.Arbitrary<RotateBefore> = fc.oneof(
  fc.constantFrom(7, 30, 90).map((days): RotateBefore => ({ kind: "duration", ms: days * DAY })),
  fc.constantFrom(33, 66).map((percent): RotateBefore => ({ kind: "percent", percent })),
);

const integrationSpec: fc.Arbitrary<IntegrationSpec> = fc.record({
  source: fc.constantFrom("okta" as const, "entra" as const),
  keys: fc.uniqueArray(keySpec, { minLength: 1, maxLength: 4, selector: (k) => k.pool }),
  active: fc.option(fc.nat(3), { freq: 8 }),
  manage: fc.option(fc.integer({ min: 1, max: 3 }), { freq: 2 }),
  rotateBefore,
  overlapMs: fc.constantFrom(0, HOUR, DAY, 7 * DAY),
  legacy: fc.boolean(),
  rollover: fc.option(rolloverSpec, { freq: 2 }),
});

const worldSpec: fc.Arbitrary<WorldSpec> = fc.record({
  integrations: fc.array(integrationSpec, { minLength: 1, maxLength: 3 }),
  maxRotationsPerCycle: fc.integer({ min: 1, max: 5 }),
  deleteDisabledAfterMs: fc.constantFrom(null, 0, DAY, 30 * DAY),
  cycles: fc.array(
    fc.record({
      advanceH: fc.constantFrom(0, 1, 6, 24, 24 * 5, 24 * 12),
      admin: fc.option(
        fc.oneof(
          fc.record({ kind: fc.constant("activate" as const), integration: fc.nat(2), key: fc.nat(5) }),
          fc.record({
            kind: fc.constant("generate" as const),
            integration: fc.nat(2),
            years: fc.integer({ min: 1, max: 3 }),
            activate: fc.boolean(),
          }),
        ),
        { freq: 4 },
      ),
      readFails: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
      rollback: fc.option(fc.nat(2), { freq: 6 }),
    }),
    { minLength: CYCLES, maxLength: CYCLES },
  ),
  outcomes: fc.array(fc.constantFrom<Outcome>("ok", "ok", "ok", "fails", "lost"), {
    minLength: 1,
    maxLength: 40,
  }),
});

// ---------------------------------------------------------------------------------------------------------
// The model: SendGrid and the IdPs as they are (the truth), the journal as the executor keeps it.

interface ModelCert {
  readonly id: string;
  readonly pem: string;
  readonly fingerprint: string;
  enabled: boolean;
}

interface ModelKey {
  readonly id: string;
  readonly cert: PoolCert;
}

interface ModelIntegration {
  readonly id: string;
  readonly source: "okta" | "entra";
  readonly manage: number | null;
  certs: ModelCert[];
  keys: ModelKey[];
  active: string | null;
}

interface World {
  now: Date;
  readonly integrations: ModelIntegration[];
  readonly rotation: RotationConfig;
  journal: Journal;
  nextId: number;
  /** Keys each rollover record's generate steps made at the IdP. */
  readonly generatedBy: Map<string, string[]>;
}

const integrationId = (n: number) => `int${n}`;

function buildWorld(spec: WorldSpec): World {
  const now = T0;
  let nextId = 100;
  const rules: RotationRule[] = [];
  const rotations: RotationRecord[] = [];
  const rollovers: RolloverRecord[] = [];
  const unpublished: UnpublishedRecord[] = [];
  const integrations = spec.integrations.map((s, n): ModelIntegration => {
    const id = integrationId(n);
    rules.push({
      account: null,
      match: { id },
      source: { ...idpSource(s.source), manageKeys: s.manage !== null, validityYears: s.manage ?? 2 },
      rotateBefore: s.rotateBefore,
      overlapMs: s.overlapMs,
    });
    const keys = s.keys.map((k, i): ModelKey => ({ id: `${id}-k${i}`, cert: pool[k.pool]! }));
    const certs: ModelCert[] = [];
    if (s.legacy) {
      const legacy = pool.find((p) => !s.keys.some((k) => pool[k.pool] === p));
      if (legacy)
        certs.push({ id: String(nextId++), pem: legacy.pem, fingerprint: legacy.fingerprint, enabled: true });
    }
    s.keys.forEach((k, i) => {
      const cert = keys[i]!.cert;
      let certificateId: string | null = null;
      if (k.sendgrid !== "missing") {
        certificateId = String(nextId++);
        certs.push({
          id: certificateId,
          pem: cert.pem,
          fingerprint: cert.fingerprint,
          enabled: k.sendgrid === "enabled",
        });
      }
      if (k.rotation !== "none") {
        const phase = k.rotation === "uploading" || certificateId === null ? "uploading" : k.rotation;
        rotations.push({
          id: `${id}/mirror/${i}`,
          account: "main",
          integrationId: id,
          kind: "mirror",
          origin: `${s.source} key ${keys[i]!.id}`,
          fingerprint: cert.fingerprint,
          pem: cert.pem,
          notAfter: cert.notAfter,
          replaces: [],
          phase,
          certificateId: phase === "uploading" ? null : certificateId,
          startedAt: new Date(now.getTime() - DAY),
          uploadedAt: phase === "uploading" ? null : new Date(now.getTime() - DAY),
          verifiedAt: phase === "verified" ? new Date(now.getTime() - DAY) : null,
          retiredAt: null,
          note: null,
        });
      }
      if (k.unpublishedAgoH !== null)
        unpublished.push({
          account: "main",
          integrationId: id,
          fingerprint: cert.fingerprint,
          since: new Date(now.getTime() - k.unpublishedAgoH * HOUR),
        });
    });
    const active = s.active === null ? null : keys[s.active % keys.length]!.id;
    if (s.rollover) {
      const r = s.rollover;
      const newKey = r.key === -1 ? null : keys[r.key % keys.length]!;
      // A rollover moves from one key to another: never from a key to itself.
      const previous = keys.filter((k) => k !== newKey)[r.previous % Math.max(1, keys.length - 1)] ?? null;
      const requestedAt = new Date(now.getTime() - r.requestedAgoH * HOUR);
      rollovers.push({
        id: `main/${id}/rollover/seeded`,
        account: "main",
        integrationId: id,
        source: s.source,
        phase: r.phase,
        intent: {
          requestedAt,
          validityYears: s.manage ?? 2,
          subject: "CN=seeded",
          // The keys before the generate: at least the one the IdP signed with then.
          knownKeyIds: r.knowsAll ? keys.map((k) => k.id) : previous ? [previous.id] : [],
        },
        key:
          r.phase === "generating"
            ? null
            : newKey
              ? { id: newKey.id, fingerprint: newKey.cert.fingerprint, notAfter: newKey.cert.notAfter }
              : {
                  id: `${id}-gone`,
                  fingerprint: "00".repeat(32),
                  notAfter: new Date(now.getTime() + 400 * DAY),
                },
        previousKeyId: previous?.id ?? `${id}-deleted`,
        replaces: certs
          .filter((c) => c.fingerprint === previous?.cert.fingerprint)
          .map((c) => ({ certificateId: c.id, fingerprint: c.fingerprint })),
        startedAt: requestedAt,
        activatedAt: null,
        confirmedAt: null,
        retiredAt: null,
        note: null,
      });
    }
    return { id, source: s.source, manage: s.manage, certs, keys, active };
  });
  return {
    now,
    integrations,
    rotation: rotationConfig(rules, {
      maxRotationsPerCycle: spec.maxRotationsPerCycle,
      deleteDisabledAfterMs: spec.deleteDisabledAfterMs,
    }),
    journal: { rotations, rollovers, disabled: [], unpublished, backoff: [], inProgress: null },
    nextId: 50_000,
    generatedBy: new Map(),
  };
}

function scanOf(world: World): Inventory {
  return singleAccount(
    world.integrations.map((i) => ({
      integration: integrationRecord(i.id),
      certificates: i.certs.map((c) => certificate(c.id, i.id, c.pem, c.enabled)),
      error: null,
    })),
    world.now,
  );
}

function offersOf(world: World, readFails: boolean): Map<number, Offer> {
  return new Map(
    world.integrations.map((i, n): [number, Offer] => [
      n,
      readFails && n === 0
        ? failedIdpOffer(i.source, "HTTP 503 from the IdP")
        : idpOffer(
            i.source,
            i.keys.map((k) => ({ id: k.id, pem: k.cert.pem })),
            i.active,
            i.manage,
          ),
    ]),
  );
}

const validAt = (cert: { notBefore: Date; notAfter: Date }, now: Date) =>
  cert.notBefore.getTime() <= now.getTime() && now.getTime() < cert.notAfter.getTime();

/** Certificates logins signed with them would pass now: enabled and inside their window. */
function usable(world: World, integration: ModelIntegration): ModelCert[] {
  return integration.certs.filter((c) => c.enabled && validAt(facts(c.pem), world.now));
}

function signing(integration: ModelIntegration): ModelKey | null {
  return integration.keys.find((k) => k.id === integration.active) ?? null;
}

/** Does SendGrid accept what the IdP signs with now? null: the IdP names no key it holds. */
function idpTrusted(world: World, integration: ModelIntegration): boolean | null {
  const key = signing(integration);
  if (!key) return null;
  return usable(world, integration).some((c) => c.fingerprint === key.cert.fingerprint);
}

function findIntegration(world: World, id: string): ModelIntegration {
  const found = world.integrations.find((i) => i.id === id);
  if (!found) throw new Error(`no integration ${id} in the model`);
  return found;
}

/**
 * What the executor journals before the call (src/rotation/rotator.ts intentOf), then the call's effect
 * on the model and the journal per outcome: ok, a definite refusal (nothing applied), or applied with
 * the answer lost (the journal keeps only the intent, as after a crash or a timeout).
 */
async function apply(world: World, action: Action, outcome: Outcome): Promise<boolean> {
  const integration = findIntegration(world, action.integrationId);
  const target = { account: action.account, integrationId: action.integrationId };
  const now = world.now;
  let journal = world.journal;
  if (action.kind === "upload") journal = withRotation(journal, action.rotation);
  if (action.kind === "generate")
    journal = withRollover(journal, { ...action.rollover, phase: "generating" });
  const forward =
    (action.kind === "activate" || action.kind === "confirm") && action.keyId === action.rollover.key?.id;
  if (action.kind === "activate" && forward)
    journal = withRollover(journal, { ...action.rollover, phase: "activating" });
  const applied = outcome !== "fails";
  let success = outcome === "ok";

  switch (action.kind) {
    case "upload": {
      const id = String(world.nextId++);
      if (applied)
        integration.certs.push({
          id,
          pem: action.rotation.pem,
          fingerprint: action.rotation.fingerprint,
          enabled: true,
        });
      if (outcome === "ok")
        journal = withRotation(journal, {
          ...action.rotation,
          phase: "uploaded",
          certificateId: id,
          uploadedAt: now,
        });
      if (outcome === "fails")
        journal = withRotation(journal, { ...action.rotation, phase: "abandoned", note: "refused" });
      break;
    }
    case "verify": {
      if (outcome !== "ok") break;
      const stored = integration.certs.find((c) => c.id === action.certificateId);
      if (stored && stored.fingerprint === action.rotation.fingerprint && stored.enabled) {
        journal = withRotation(journal, { ...action.rotation, phase: "verified", verifiedAt: now });
      } else {
        journal = withRotation(journal, { ...action.rotation, phase: "abandoned", note: "verify failed" });
        success = false;
      }
      break;
    }
    case "enable":
    case "disable": {
      const cert = integration.certs.find((c) => c.id === action.certificateId);
      if (applied && cert) cert.enabled = action.kind === "enable";
      if (outcome === "ok") {
        const others = journal.disabled.filter((d) => d.certificateId !== action.certificateId);
        journal = {
          ...journal,
          disabled:
            action.kind === "enable"
              ? others
              : [
                  ...others,
                  {
                    ...target,
                    certificateId: action.certificateId,
                    fingerprint: action.fingerprint,
                    at: now,
                  },
                ],
        };
      }
      break;
    }
    case "delete": {
      if (applied) integration.certs = integration.certs.filter((c) => c.id !== action.certificateId);
      if (outcome === "ok")
        journal = {
          ...journal,
          disabled: journal.disabled.filter((d) => d.certificateId !== action.certificateId),
        };
      break;
    }
    case "generate": {
      if (applied) {
        const years = action.rollover.intent!.validityYears;
        const made = await makeCert({
          cn: `generated-${world.nextId}`,
          now,
          fromDays: 0,
          toDays: years * YEAR_DAYS,
        });
        const key: ModelKey = { id: `${integration.id}-gen${world.nextId++}`, cert: facts(made.pem) };
        integration.keys.push(key);
        world.generatedBy.set(action.rollover.id, [
          ...(world.generatedBy.get(action.rollover.id) ?? []),
          key.id,
        ]);
        if (outcome === "ok")
          journal = withRollover(journal, {
            ...action.rollover,
            phase: "generated",
            key: { id: key.id, fingerprint: key.cert.fingerprint, notAfter: key.cert.notAfter },
          });
      } else {
        journal = withRollover(journal, {
          ...action.rollover,
          phase: "abandoned",
          note: "refused",
          retiredAt: now,
        });
      }
      break;
    }
    case "activate": {
      if (applied) integration.active = action.keyId;
      if (outcome === "ok" && forward)
        journal = withRollover(journal, { ...action.rollover, phase: "activated", activatedAt: now });
      if (outcome === "fails" && forward)
        journal = withRollover(journal, { ...action.rollover, phase: "generated" });
      break;
    }
    case "confirm": {
      // A read: a lost answer changes nothing.
      if (outcome !== "ok") break;
      if (integration.active === action.keyId) {
        if (forward)
          journal = withRollover(journal, {
            ...action.rollover,
            phase: "confirmed",
            activatedAt: action.rollover.activatedAt ?? now,
            confirmedAt: now,
          });
      } else if (forward && action.rollover.phase === "activating") {
        journal = withRollover(journal, { ...action.rollover, phase: "generated" });
      } else {
        success = false;
      }
      break;
    }
  }
  world.journal = success
    ? withSuccess(journal, target)
    : withFailure(journal, target, `${action.kind} ${outcome}`, now, BACKOFF_BASE_MS);
  return success;
}

// ---------------------------------------------------------------------------------------------------------
// The properties around one step, as lists of violations.

/** Before the step: (1) activate only a key SendGrid trusts; (2) never disable or delete the signing one. */
function beforeStep(world: World, action: Action, rollingBack = false): string[] {
  const integration = findIntegration(world, action.integrationId);
  const found: string[] = [];
  if (action.kind === "activate") {
    const key = integration.keys.find((k) => k.id === action.keyId);
    const fingerprint = key?.cert.fingerprint;
    const trusted = usable(world, integration).some((c) => c.fingerprint === fingerprint);
    const verified = world.journal.rotations.some(
      (r) =>
        r.integrationId === integration.id &&
        r.fingerprint === fingerprint &&
        (r.phase === "verified" || r.phase === "retired"),
    );
    // Rolling back re-activates the previous key, whose certificate this tool may never have uploaded:
    // there only SendGrid's trust counts.
    if (!key || !trusted || (!verified && !rollingBack))
      found.push(
        `(1) activate ${action.keyId} of ${integration.id}: ${!key ? "no such key" : !trusted ? "its certificate is not enabled and valid in SendGrid" : "its certificate was never verified"}`,
      );
  }
  if (action.kind === "disable" || action.kind === "delete") {
    const key = signing(integration);
    const cert = integration.certs.find((c) => c.id === action.certificateId);
    if (key && cert && cert.fingerprint === key.cert.fingerprint)
      found.push(
        `(2) ${action.kind} of certificate ${cert.id} of ${integration.id}, which the IdP signs with (${key.id})`,
      );
  }
  return found;
}

interface Before {
  readonly usable: number;
  readonly trusted: boolean | null;
}

/** After the step: (3) never from some usable certificate to none; (5) no lockout where there was none. */
function afterStep(world: World, action: Action, before: Before): string[] {
  const integration = findIntegration(world, action.integrationId);
  const found: string[] = [];
  if (before.usable > 0 && usable(world, integration).length === 0)
    found.push(`(3) ${action.kind} left ${integration.id} without a usable certificate`);
  if (before.trusted === true && idpTrusted(world, integration) !== true)
    found.push(
      `(5) after ${action.kind}, ${integration.id}'s IdP signs with ${integration.active}, which SendGrid does not trust`,
    );
  return found;
}

/** (4) At most one key per rollover record. */
function generatedTwice(world: World): string[] {
  return [...world.generatedBy].flatMap(([id, keys]) =>
    keys.length > 1 ? [`(4) rollover ${id} generated ${keys.length} keys: ${keys.join(", ")}`] : [],
  );
}

function describeAction(action: Action): string {
  const what =
    action.kind === "upload" || action.kind === "verify"
      ? action.rotation.fingerprint.slice(0, 8)
      : action.kind === "generate"
        ? action.rollover.id
        : "keyId" in action
          ? action.keyId
          : action.certificateId;
  return `${action.kind} ${action.integrationId} ${what}`;
}

function describeState(world: World): string {
  return JSON.stringify(
    world.integrations.map((i) => ({
      id: i.id,
      active: i.active,
      keys: i.keys.map(
        (k) => `${k.id} ${k.cert.fingerprint.slice(0, 8)} until ${k.cert.notAfter.toISOString()}`,
      ),
      certs: i.certs.map((c) => `${c.id} ${c.fingerprint.slice(0, 8)} ${c.enabled ? "enabled" : "disabled"}`),
      rollovers: world.journal.rollovers
        .filter((r) => r.integrationId === i.id)
        .map((r) => `${r.id} ${r.phase} key ${r.key?.id ?? "-"} previous ${r.previousKeyId}`),
    })),
    null,
    1,
  );
}

/** What an admin does in the IdP's console between two cycles; the tool is told nothing. */
async function admin(world: World, spec: AdminSpec): Promise<string> {
  const integration = world.integrations[spec.integration % world.integrations.length]!;
  if (spec.kind === "activate") {
    const key = integration.keys[spec.key % integration.keys.length]!;
    integration.active = key.id;
    return `admin activates ${key.id} on ${integration.id}`;
  }
  const made = await makeCert({
    cn: `console-${world.nextId}`,
    now: world.now,
    fromDays: 0,
    toDays: spec.years * YEAR_DAYS,
  });
  const key: ModelKey = { id: `${integration.id}-console${world.nextId++}`, cert: facts(made.pem) };
  integration.keys.push(key);
  if (spec.activate) integration.active = key.id;
  return `admin generates ${key.id} (${spec.years} years) on ${integration.id}${spec.activate ? " and activates it" : ""}`;
}

/**
 * `rollback` as the rotator runs it: plan on a fresh scan and IdP read, execute in order, stop at the
 * first step that fails (each is the precondition of the next), mark the record rolled back when all
 * succeeded. The same properties hold around each step.
 */
async function rollback(
  world: World,
  index: number,
  outcome: () => Outcome,
  log: string[],
): Promise<string[]> {
  const ruleIndex = index % world.integrations.length;
  const integration = world.integrations[ruleIndex]!;
  world.journal = reconcile(world.journal, scanOf(world), world.now);
  const planned = planRollback(scanOf(world), world.journal, "main", integration.id, world.now, {
    offer: offersOf(world, false).get(ruleIndex)!,
    ruleIndex,
  });
  if (!planned.ok) {
    log.push(`rollback of ${integration.id} refused: ${planned.message}`);
    return [];
  }
  for (const action of planned.actions) {
    const result = outcome();
    log.push(`rollback at ${world.now.toISOString()}: ${describeAction(action)} -> ${result}`);
    const found = beforeStep(world, action, true);
    const before = { usable: usable(world, integration).length, trusted: idpTrusted(world, integration) };
    const ok = await apply(world, action, result);
    found.push(...afterStep(world, action, before));
    if (found.length > 0) return found;
    if (!ok) return [];
  }
  const { undo } = planned;
  world.journal =
    undo.kind === "rotation"
      ? withRotation(world.journal, { ...undo.rotation, phase: "rolled_back", note: "rolled back" })
      : withRollover(world.journal, {
          ...(world.journal.rollovers.find((r) => r.id === undo.rollover.id) ?? undo.rollover),
          phase: "rolled_back",
          note: "rolled back",
          retiredAt: world.now,
        });
  return [];
}

/** Runs the world's cycles like the rotator does; returns every violation with the steps that led to it. */
interface RunResult {
  readonly world: World;
  readonly violations: string[];
  readonly steps: number;
  readonly activations: number;
  /** Steps of `rollback` executed. */
  readonly rollbackSteps: number;
  /** What happened, step by step, for failure messages. */
  readonly log: readonly string[];
}

async function run(spec: WorldSpec): Promise<RunResult> {
  const world = buildWorld(spec);
  const log: string[] = [];
  let outcomeIndex = 0;
  let steps = 0;
  let activations = 0;
  const fail = (found: string[]): RunResult => ({
    world,
    violations: [...found, `steps:\n${log.join("\n")}`, `state: ${describeState(world)}`],
    steps,
    activations,
    rollbackSteps: log.filter((l) => l.startsWith("rollback at")).length,
    log,
  });
  for (const [c, cycle] of spec.cycles.entries()) {
    world.now = new Date(world.now.getTime() + cycle.advanceH * HOUR);
    if (cycle.admin !== null) log.push(`cycle ${c}: ${await admin(world, cycle.admin)}`);
    world.journal = reconcile({ ...world.journal, inProgress: null }, scanOf(world), world.now);
    let uploadsLeft = world.rotation.maxRotationsPerCycle;
    for (let iteration = 0; iteration < ITERATIONS_PER_CYCLE; iteration++) {
      const planned = plan({
        scanned: scanOf(world),
        offers: offersOf(world, cycle.readFails),
        rotation: { ...world.rotation, maxRotationsPerCycle: uploadsLeft },
        journal: world.journal,
        now: world.now,
      });
      world.journal = planned.journal;
      if (planned.actions.length === 0) break;
      uploadsLeft -= planned.actions.filter((a) => a.kind === "upload" || a.kind === "generate").length;
      // (6) Uploads and generates alike start rotations: max_rotations_per_cycle bounds them together.
      if (uploadsLeft < 0)
        return fail([
          `(6) cycle ${c} started more than max_rotations_per_cycle ${world.rotation.maxRotationsPerCycle}: ${planned.actions.map(describeAction).join(", ")}`,
        ]);
      for (const action of planned.actions) {
        const outcome = spec.outcomes[outcomeIndex++ % spec.outcomes.length]!;
        log.push(`cycle ${c} at ${world.now.toISOString()}: ${describeAction(action)} -> ${outcome}`);
        const found = beforeStep(world, action);
        const integration = findIntegration(world, action.integrationId);
        const before = { usable: usable(world, integration).length, trusted: idpTrusted(world, integration) };
        await apply(world, action, outcome);
        steps++;
        if (action.kind === "activate" && outcome !== "fails") activations++;
        found.push(...afterStep(world, action, before), ...generatedTwice(world));
        if (found.length > 0) return fail(found);
      }
      world.journal = reconcile(world.journal, scanOf(world), world.now);
    }
    if (cycle.rollback !== null) {
      const found = await rollback(
        world,
        cycle.rollback,
        () => spec.outcomes[outcomeIndex++ % spec.outcomes.length]!,
        log,
      );
      if (found.length > 0) return fail(found);
    }
  }
  const rollbackSteps = log.filter((l) => l.startsWith("rollback at")).length;
  return { world, violations: [], steps, activations, rollbackSteps, log };
}

describe("plan() with okta and entra sources over random IdP and SendGrid states, step failures and a moving clock", () => {
  test("no untrusted activation, no disable of the signing key, never unusable, one key per rollover, no lockout, capped", async () => {
    let steps = 0;
    let activations = 0;
    let rollbackSteps = 0;
    await fc.assert(
      fc.asyncProperty(worldSpec, async (spec) => {
        const result = await run(spec);
        steps += result.steps;
        activations += result.activations;
        rollbackSteps += result.rollbackSteps;
        if (result.violations.length > 0) throw new Error(result.violations.join("\n"));
      }),
      { numRuns: NUM_RUNS, seed: SEED },
    );
    // The worlds really exercise the rollover, not just the mirror.
    expect(steps).toBeGreaterThan(NUM_RUNS);
    expect(activations).toBeGreaterThan(0);
    expect(rollbackSteps).toBeGreaterThan(0);
  });
});

describe("one due rollover, every step's answer lost in turn (as a kill at that step would leave it)", () => {
  const dueWorld = (source: "okta" | "entra", lost: number | null): WorldSpec => ({
    integrations: [
      {
        source,
        // ends-in-20d, the IdP's active key, trusted in SendGrid.
        keys: [{ pool: 2, sendgrid: "enabled", rotation: "verified", unpublishedAgoH: null }],
        active: 0,
        manage: 2,
        rotateBefore: { kind: "duration", ms: 30 * DAY },
        overlapMs: DAY,
        legacy: false,
        rollover: null,
      },
    ],
    maxRotationsPerCycle: 5,
    deleteDisabledAfterMs: null,
    cycles: Array.from({ length: CYCLES }, () => ({
      advanceH: 24,
      admin: null,
      readFails: false,
      rollback: null,
    })),
    outcomes: [
      ...Array.from({ length: lost ?? 0 }, () => "ok" as const),
      lost === null ? "ok" : "lost",
      ...Array.from({ length: 40 }, () => "ok" as const),
    ],
  });

  // generate, upload, verify, activate, confirm, disable: losing any of them (and the next ones) must
  // still end with the IdP on one new key that SendGrid trusts, and the old certificate disabled.
  test.each(
    (["okta", "entra"] as const).flatMap((source) =>
      [null, 0, 1, 2, 3, 4, 5, 6].map((lost) => [source, lost] as const),
    ),
  )("%s, step %s lost: completes with one generated key and no lockout", async (source, lost) => {
    const { world, violations, log } = await run(dueWorld(source, lost));
    expect(violations).toEqual([]);
    const integration = world.integrations[0]!;
    const generated = [...world.generatedBy.values()].flat();
    const why = `${log.join("\n")}\n${describeState(world)}`;
    expect(generated, why).toHaveLength(1);
    expect(integration.active, why).toBe(generated[0]);
    expect(idpTrusted(world, integration), why).toBe(true);
    const old = pool[2]!.fingerprint;
    expect(
      integration.certs.filter((c) => c.fingerprint === old).map((c) => c.enabled),
      why,
    ).toEqual([false]);
    expect(
      world.journal.rollovers.map((r) => r.phase),
      why,
    ).toEqual(["retired"]);
  });
});
