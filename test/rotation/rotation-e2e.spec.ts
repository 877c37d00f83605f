// Rotation end to end: the daemon (startDaemon + tick(), a clock the test moves) against the emulator
// over real HTTP, with a file source holding the replacement. Checked where a user would look: the
// emulator's request log and state, state_dir/audit.jsonl, /metrics and /api/v1/inventory.

import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { Daemon } from "../../src/daemon.js";
import type { EmulatorOptions } from "../../src/emulator/server.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { makeCert } from "../helpers/make-cert.js";
import { DAY, HOUR, fewestUsable, openBench, type Bench } from "./bench.js";

const INTEGRATION = "int-okta";

let bench: Bench | null = null;

afterEach(async () => {
  await bench?.close();
  bench = null;
});

interface Scenario {
  readonly bench: Bench;
  readonly daemon: Daemon;
  readonly old: GeneratedCertificate;
  readonly next: GeneratedCertificate;
  readonly oldId: string;
}

/** An integration whose only certificate expires in 5 days, and its replacement in the file source. */
async function scenario(
  rotation: Record<string, unknown>,
  emulatorOptions: Partial<EmulatorOptions> = {},
): Promise<Scenario> {
  const b = await openBench(emulatorOptions);
  bench = b;
  const now = b.clock.now();
  const old = await makeCert({ cn: "okta-2025", now, fromDays: -360, toDays: 5 });
  const next = await makeCert({
    cn: "okta-2026",
    now,
    fromDays: -1,
    toDays: 730,
    key: { kind: "rsa", bits: 2048 },
  });
  b.emulator.state.addIntegration({ id: INTEGRATION, name: "Okta" });
  b.emulator.state.addIntegration({ id: "int-unmatched", name: "Duo" });
  const record = b.emulator.state.addCertificate({ integrationId: INTEGRATION, pem: old.pem, enabled: true });
  const unmatchedOld = await makeCert({ cn: "duo", now, fromDays: -360, toDays: 2 });
  b.emulator.state.addCertificate({ integrationId: "int-unmatched", pem: unmatchedOld.pem, enabled: true });
  await b.writeCert("okta-next.pem", next.pem);
  const config = b.loadConfig(
    await b.writeConfig({
      rotation: {
        integrations: [{ match: { id: INTEGRATION }, source: { type: "file", path: b.certsDir } }],
        ...rotation,
      },
    }),
  );
  const daemon = await b.startDaemon(config);
  return { bench: b, daemon, old, next, oldId: String(record.id) };
}

function newCertificateId(s: Scenario): string {
  const created = s.bench.certificates(INTEGRATION).find((c) => c.pem === s.next.pem);
  if (!created) throw new Error("the replacement was not uploaded");
  return String(created.id);
}

async function auditLines(b: Bench): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(b.stateDir, "audit.jsonl"), "utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function scrape(daemon: Daemon) {
  const response = await fetch(`${daemon.url}/metrics`);
  expect(response.status).toBe(200);
  return parsePrometheusText(await response.text());
}

function requestIndex(b: Bench, method: string, path: string): number {
  return b.emulator.log.findIndex((e) => e.method === method && e.path === path);
}

describe("a certificate expiring in 5 days, a replacement in a file source", () => {
  test("overlap 0s: uploaded, verified, the old one disabled with {enabled:false}; audit and metrics say so", async () => {
    const s = await scenario({ overlap: "0s" });
    await s.daemon.tick();

    const newId = newCertificateId(s);
    expect(s.bench.mutations()).toEqual([
      {
        method: "POST",
        path: "/v3/sso/certificates",
        body: { public_certificate: s.next.pem, integration_id: INTEGRATION, enabled: true },
      },
      { method: "PATCH", path: `/v3/sso/certificates/${s.oldId}`, body: { enabled: false } },
    ]);
    // Verified by reading it back after the upload and before the old one was disabled.
    const upload = requestIndex(s.bench, "POST", "/v3/sso/certificates");
    const verify = requestIndex(s.bench, "GET", `/v3/sso/certificates/${newId}`);
    const disable = requestIndex(s.bench, "PATCH", `/v3/sso/certificates/${s.oldId}`);
    expect(upload).toBeGreaterThanOrEqual(0);
    expect(verify).toBeGreaterThan(upload);
    expect(disable).toBeGreaterThan(verify);

    expect(s.bench.certificates(INTEGRATION).map((c) => [String(c.id), c.enabled])).toEqual([
      [s.oldId, false],
      [newId, true],
    ]);
    expect(fewestUsable(s.bench.emulator, INTEGRATION, s.bench.clock.now())).toBeGreaterThanOrEqual(1);
    // The unmatched integration, expiring even sooner, is never touched.
    expect(s.bench.mutations().every((m) => !JSON.stringify(m).includes("int-unmatched"))).toBe(true);

    const audit = await auditLines(s.bench);
    expect(audit.map((line) => [line.action, line.result, line.certificate_id])).toEqual([
      ["upload", "success", newId],
      ["verify", "success", newId],
      ["disable", "success", s.oldId],
    ]);
    for (const line of audit) {
      expect(line).toMatchObject({ account: "main", integration_id: INTEGRATION });
      expect(new Date(line.time as string).toISOString()).toBe(line.time);
    }
    expect(audit[0]!.fingerprint_sha256).toBe(s.next.fingerprintSha256);
    expect(audit[2]!.fingerprint_sha256).toBe(s.old.fingerprintSha256);

    const metrics = await scrape(s.daemon);
    expect(
      metrics
        .samples("sendgrid_sso_rotations_total", { integration_id: INTEGRATION, result: "success" })
        .map((sample) => [sample.labels.step, sample.value]),
    ).toEqual([
      ["upload", 1],
      ["verify", 1],
      ["disable", 1],
    ]);
    expect(metrics.samples("sendgrid_sso_rotations_total", { result: "failure" })).toEqual([]);
    expect(
      metrics.samples("sendgrid_sso_rotation_last_success_timestamp_seconds", {
        integration_id: INTEGRATION,
      }),
    ).toMatchObject([{ value: s.bench.clock.now().getTime() / 1000 }]);

    const journal = s.daemon.rotation.rotator.current;
    expect(journal.rotations).toMatchObject([{ phase: "retired", certificateId: newId, kind: "replace" }]);
    expect(journal.inProgress).toBeNull();

    // Nothing left to do: later cycles change nothing.
    const before = s.bench.mutations().length;
    await s.daemon.tick();
    s.bench.clock.advance(DAY);
    await s.daemon.tick();
    expect(s.bench.mutations()).toHaveLength(before);
  });

  test("overlap 24h: the old certificate stays enabled until 24h after verification, then is disabled", async () => {
    const s = await scenario({ overlap: "24h" });
    await s.daemon.tick();
    const newId = newCertificateId(s);
    expect(s.bench.mutations().map((m) => m.method)).toEqual(["POST"]);
    expect(requestIndex(s.bench, "GET", `/v3/sso/certificates/${newId}`)).toBeGreaterThan(0);
    expect(s.daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "verified" }]);

    await s.daemon.tick();
    s.bench.clock.advance(23 * HOUR);
    await s.daemon.tick();
    expect(s.bench.mutations().map((m) => m.method)).toEqual(["POST"]);
    expect(s.bench.certificates(INTEGRATION).every((c) => c.enabled)).toBe(true);
    expect(
      s.bench.logs.matching("info", /^keeping the old certificate enabled until /).length,
    ).toBeGreaterThan(0);

    s.bench.clock.advance(HOUR);
    await s.daemon.tick();
    expect(s.bench.mutations().slice(1)).toEqual([
      { method: "PATCH", path: `/v3/sso/certificates/${s.oldId}`, body: { enabled: false } },
    ]);
    expect(s.daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "retired" }]);
    expect(fewestUsable(s.bench.emulator, INTEGRATION, s.bench.clock.now())).toBe(1);
  });

  test("delete_disabled_after 7d: the disabled certificate is deleted 7 days after it was disabled, not before", async () => {
    const s = await scenario({ overlap: "0s", delete_disabled_after: "7d" });
    await s.daemon.tick();
    const newId = newCertificateId(s);
    s.bench.clock.advance(7 * DAY - HOUR);
    await s.daemon.tick();
    expect(s.bench.mutations().some((m) => m.method === "DELETE")).toBe(false);

    s.bench.clock.advance(HOUR);
    await s.daemon.tick();
    expect(s.bench.mutations().filter((m) => m.method === "DELETE")).toEqual([
      { method: "DELETE", path: `/v3/sso/certificates/${s.oldId}`, body: null },
    ]);
    expect(s.bench.certificates(INTEGRATION).map((c) => String(c.id))).toEqual([newId]);
    expect(s.daemon.rotation.rotator.current.disabled).toEqual([]);
    const audit = await auditLines(s.bench);
    expect(audit.at(-1)).toMatchObject({ action: "delete", result: "success", certificate_id: s.oldId });
  });

  test("rotation.enabled false: monitor only, not a single mutating request, no lock taken", async () => {
    const s = await scenario({ enabled: false });
    await s.daemon.tick();
    s.bench.clock.advance(10 * DAY);
    await s.daemon.tick();
    expect(s.bench.emulator.log.length).toBeGreaterThan(0);
    expect(s.bench.mutations()).toEqual([]);
    expect(existsSync(join(s.bench.stateDir, "lock"))).toBe(false);
    expect(existsSync(join(s.bench.stateDir, "audit.jsonl"))).toBe(false);
  });

  test("dry_run: the plan is logged and audited as dry_run, no mutating request", async () => {
    const s = await scenario({ dry_run: true });
    await s.daemon.tick();
    await s.daemon.tick();
    expect(s.bench.mutations()).toEqual([]);
    const audit = await auditLines(s.bench);
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((line) => line.result === "dry_run")).toBe(true);
    expect(audit[0]).toMatchObject({ action: "upload", fingerprint_sha256: s.next.fingerprintSha256 });
    expect(s.bench.logs.matching("info", /^dry run: would upload: /).length).toBeGreaterThan(0);
    const metrics = await scrape(s.daemon);
    expect(metrics.samples("sendgrid_sso_rotations_total", { result: "success" })).toEqual([]);
    expect(
      metrics
        .samples("sendgrid_sso_rotations_total", { result: "skipped" })
        .map((sample) => sample.labels.step),
    ).toEqual(["upload"]);
    expect(s.daemon.rotation.rotator.current.rotations).toEqual([]);
  });

  test("the API omits `enabled`: the journal's record of what it disabled is what it goes by", async () => {
    const s = await scenario(
      { overlap: "0s", delete_disabled_after: "1d" },
      { quirks: { omitEnabled: true } },
    );
    await s.daemon.tick();
    const newId = newCertificateId(s);
    expect(s.bench.mutations().map((m) => `${m.method} ${m.path}`)).toEqual([
      "POST /v3/sso/certificates",
      `PATCH /v3/sso/certificates/${s.oldId}`,
    ]);
    expect(s.daemon.rotation.rotator.current.disabled).toMatchObject([{ certificateId: s.oldId }]);

    // The API still does not say the old one is disabled: the tool neither disables it again nor
    // shows it as enabled.
    await s.daemon.tick();
    expect(s.bench.mutations()).toHaveLength(2);
    const inventory = (await (await fetch(`${s.daemon.url}/api/v1/inventory`)).json()) as {
      accounts: { integrations: { id: string; certificates: { id: string; enabled: boolean | null }[] }[] }[];
    };
    const okta = inventory.accounts[0]!.integrations.find((i) => i.id === INTEGRATION)!;
    expect(okta.certificates.map((c) => [c.id, c.enabled])).toEqual([
      [s.oldId, false],
      [newId, null],
    ]);

    // Deletion relies on that record alone.
    s.bench.clock.advance(DAY);
    await s.daemon.tick();
    expect(s.bench.mutations().at(-1)).toEqual({
      method: "DELETE",
      path: `/v3/sso/certificates/${s.oldId}`,
      body: null,
    });
    expect(s.bench.certificates(INTEGRATION).map((c) => String(c.id))).toEqual([newId]);
  });
});

describe("on_behalf_of", () => {
  test("warns at start-up, once per account that sets it: SendGrid documents it for no SSO endpoint", async () => {
    const b = (bench = await openBench());
    const config = b.loadConfig(await b.writeConfig());
    await b.startDaemon({
      ...config,
      accounts: config.accounts.map((account) => ({ ...account, onBehalfOf: "subuser-eu" })),
    });
    const warnings = b.logs.matching(
      "warn",
      /^on_behalf_of is set, but SendGrid documents on-behalf-of for no SSO endpoint/,
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ account: "main", on_behalf_of: "subuser-eu" });
  });

  test("says nothing when no account sets it", async () => {
    const b = (bench = await openBench());
    await b.startDaemon(b.loadConfig(await b.writeConfig()));
    expect(b.logs.matching("warn", /on_behalf_of/)).toEqual([]);
  });
});
