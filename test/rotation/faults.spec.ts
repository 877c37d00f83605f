// Rotation under faults, end to end against the emulator: answers lost, requests dropped, 500s during a
// disable, overlapping scheduled runs, a corrupt journal, a second daemon on the same state_dir, and a
// rollback whose first step fails. What must hold: nothing uploaded twice, nothing disabled early, the
// integration never without a usable certificate, and every failure visible and retried later.

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import type { Daemon } from "../../src/daemon.js";
import { LockHeldError } from "../../src/rotation/errors.js";
import { makeCert } from "../helpers/make-cert.js";
import { runCli } from "../helpers/run-cli.js";
import { eventually, fewestUsable, openBench, type Bench } from "./bench.js";

const INTEGRATION = "int-entra";
const MINUTE = 60_000;
const CERTIFICATE_PATH = /^\/v3\/sso\/certificates\/\d+$/;

let bench: Bench | null = null;

afterEach(async () => {
  await bench?.close();
  bench = null;
});

interface Setup {
  readonly bench: Bench;
  readonly configFile: string;
  readonly old: GeneratedCertificate;
  readonly next: GeneratedCertificate;
  readonly oldId: string;
}

async function setup(rotation: Record<string, unknown> = {}): Promise<Setup> {
  const b = (bench = await openBench());
  const now = b.clock.now();
  const old = await makeCert({ cn: "entra-old", now, fromDays: -1000, toDays: 5 });
  const next = await makeCert({ cn: "entra-next", now, fromDays: -1, toDays: 1000 });
  b.emulator.state.addIntegration({ id: INTEGRATION, name: "Entra ID" });
  const record = b.emulator.state.addCertificate({ integrationId: INTEGRATION, pem: old.pem, enabled: true });
  await b.writeCert("entra-next.pem", next.pem);
  const configFile = await b.writeConfig({
    rotation: {
      integrations: [{ match: { id: INTEGRATION }, source: { type: "file", path: b.certsDir } }],
      ...rotation,
    },
  });
  return { bench: b, configFile, old, next, oldId: String(record.id) };
}

const start = (s: Setup): Promise<Daemon> => s.bench.startDaemon(s.bench.loadConfig(s.configFile));

function withFingerprint(s: Setup, cert: GeneratedCertificate) {
  return s.bench.certificates(INTEGRATION).filter((c) => c.pem === cert.pem);
}

function posts(s: Setup): number {
  return s.bench.emulator.log.filter((e) => e.method === "POST").length;
}

describe("the upload's answer", () => {
  test("lost after SendGrid applied it: found by fingerprint, exactly one certificate, the rotation completes", async () => {
    const s = await setup();
    s.bench.emulator.faults.next({
      match: { method: "POST", path: "/v3/sso/certificates" },
      action: { kind: "lose" },
    });
    const daemon = await start(s);
    await daemon.tick();
    expect(s.bench.emulator.log.filter((e) => e.method === "POST").map((e) => e.outcome)).toEqual(["lost"]);
    const uploaded = withFingerprint(s, s.next);
    expect(uploaded).toHaveLength(1);
    expect(
      s.bench.logs.matching(
        "info",
        /^upload: upload answer lost \(outcome_unknown\); found it as certificate \d+ by fingerprint$/,
      ),
    ).toHaveLength(1);
    expect(s.bench.certificates(INTEGRATION).map((c) => [String(c.id), c.enabled])).toEqual([
      [s.oldId, false],
      [String(uploaded[0]!.id), true],
    ]);
    expect(daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "retired" }]);
    await daemon.tick();
    expect(posts(s)).toBe(1);
  });

  test("dropped before SendGrid applied it: nothing found, retried after the backoff, still exactly one", async () => {
    const s = await setup();
    s.bench.emulator.faults.next({
      match: { method: "POST", path: "/v3/sso/certificates" },
      action: { kind: "drop" },
    });
    const daemon = await start(s);
    await daemon.tick();
    expect(withFingerprint(s, s.next)).toEqual([]);
    expect(
      s.bench.logs.matching(
        "error",
        /^upload: upload outcome unknown and not on the integration; will retry/,
      ),
    ).toHaveLength(1);
    expect(daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "uploading" }]);
    expect(daemon.rotation.rotator.current.backoff).toMatchObject([
      { integrationId: INTEGRATION, failures: 1 },
    ]);

    await daemon.tick();
    expect(posts(s)).toBe(1);
    s.bench.clock.advance(5 * MINUTE);
    await daemon.tick();
    expect(posts(s)).toBe(2);
    expect(withFingerprint(s, s.next)).toHaveLength(1);
    expect(daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "retired" }]);
    expect(daemon.rotation.rotator.current.backoff).toEqual([]);
  });
});

describe("500s while disabling", () => {
  test("the failure is recorded and backed off, the old certificate stays enabled, a later cycle succeeds", async () => {
    const s = await setup();
    s.bench.emulator.faults.next({
      match: { method: "PATCH", path: CERTIFICATE_PATH },
      action: { kind: "status", status: 500 },
      times: 2,
    });
    const daemon = await start(s);
    await daemon.tick();
    const journal = () => daemon.rotation.rotator.current;
    expect(s.bench.certificates(INTEGRATION).map((c) => c.enabled)).toEqual([true, true]);
    expect(journal().backoff).toMatchObject([{ failures: 1 }]);
    expect(journal().backoff[0]!.lastError).toContain("HTTP 500");
    expect(journal().rotations).toMatchObject([{ phase: "verified" }]);
    const firstBackoff = journal().backoff[0]!.nextAttemptAt.getTime() - s.bench.clock.now().getTime();
    expect(firstBackoff).toBe(5 * MINUTE);

    const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `^sendgrid_sso_rotations_total\\{account="main",integration_id="${INTEGRATION}",step="disable",result="failure"\\} 1$`,
        "m",
      ),
    );
    expect(metrics).toMatch(/^sendgrid_sso_rotation_backoff_until_timestamp_seconds\{[^}]*\} \d+/m);
    const audit = (await readFile(join(s.bench.stateDir, "audit.jsonl"), "utf8")).trim().split("\n");
    expect(JSON.parse(audit.at(-1)!)).toMatchObject({
      action: "disable",
      result: "failure",
      certificate_id: s.oldId,
    });

    // Backing off: the same instant tries nothing.
    await daemon.tick();
    expect(s.bench.mutations().filter((m) => m.method === "PATCH")).toHaveLength(1);
    // After one interval: tried again, fails again, waits twice as long.
    s.bench.clock.advance(5 * MINUTE);
    await daemon.tick();
    expect(s.bench.mutations().filter((m) => m.method === "PATCH")).toHaveLength(2);
    expect(journal().backoff).toMatchObject([{ failures: 2 }]);
    s.bench.clock.advance(5 * MINUTE);
    await daemon.tick();
    expect(s.bench.mutations().filter((m) => m.method === "PATCH")).toHaveLength(2);
    s.bench.clock.advance(5 * MINUTE);
    await daemon.tick();

    expect(s.bench.mutations().filter((m) => m.method === "PATCH")).toEqual([
      { method: "PATCH", path: `/v3/sso/certificates/${s.oldId}`, body: { enabled: false } },
      { method: "PATCH", path: `/v3/sso/certificates/${s.oldId}`, body: { enabled: false } },
      { method: "PATCH", path: `/v3/sso/certificates/${s.oldId}`, body: { enabled: false } },
    ]);
    expect(s.bench.certificates(INTEGRATION).map((c) => c.enabled)).toEqual([false, true]);
    expect(journal().backoff).toEqual([]);
    expect(journal().rotations).toMatchObject([{ phase: "retired" }]);
    expect(posts(s)).toBe(1);
    expect(fewestUsable(s.bench.emulator, INTEGRATION, s.bench.clock.now())).toBe(1);
  });
});

describe("scheduled runs that overlap", () => {
  test("a run starting while a rotation cycle is under way does not rotate from its scan", async () => {
    const s = await setup({ overlap: "24h" });
    // The upload takes a while: the next scheduled run starts meanwhile and sees no new certificate yet.
    s.bench.emulator.faults.next({
      match: { method: "POST", path: "/v3/sso/certificates" },
      action: { kind: "delay", ms: 1_000 },
    });
    const daemon = await start(s);
    const first = daemon.tick();
    await eventually(
      "the upload to start",
      () => daemon.rotation.rotator.current.inProgress?.action === "upload",
    );
    await daemon.tick();
    await first;
    await daemon.tick();
    expect(posts(s)).toBe(1);
    expect(withFingerprint(s, s.next)).toHaveLength(1);
    expect(
      s.bench.logs.matching("warn", /^previous rotation cycle still running; not rotating from this scan$/),
    ).toHaveLength(1);
  });
});

describe("the journal and the lock", () => {
  test("a corrupt journal.json: logged, kept aside, rebuilt from SendGrid without a second upload", async () => {
    const s = await setup({ overlap: "24h" });
    const first = await start(s);
    await first.tick();
    expect(posts(s)).toBe(1);
    await first.stop(1_000);

    const garbage = '{"schema_version": 1, "saved_at": "2026-01-01T00:00:00Z", "data": {"rotations": [';
    await writeFile(join(s.bench.stateDir, "journal.json"), garbage);
    const second = await start(s);
    const problems = s.bench.logs.matching(
      "error",
      /journal .*journal\.json is corrupt: .*; kept a copy at /,
    );
    expect(problems).toHaveLength(1);
    const backups = (await readdir(s.bench.stateDir)).filter((name) =>
      name.startsWith("journal.json.corrupt-"),
    );
    expect(backups).toHaveLength(1);
    expect(await readFile(join(s.bench.stateDir, backups[0]!), "utf8")).toBe(garbage);

    await second.tick();
    s.bench.clock.advance(2 * 24 * 3_600_000);
    await second.tick();
    expect(posts(s)).toBe(1);
    expect(withFingerprint(s, s.next)).toHaveLength(1);
    // Without its record of the rotation the tool does not retire the old certificate on a guess.
    expect(s.bench.certificates(INTEGRATION).every((c) => c.enabled)).toBe(true);
    expect(JSON.parse(await readFile(join(s.bench.stateDir, "journal.json"), "utf8"))).toMatchObject({
      schema_version: 1,
    });
  });

  test("a second daemon with the same state_dir and rotation on: LockHeldError; `run` exits 2 with one line", async () => {
    const s = await setup();
    const first = await start(s);
    await expect(start(s)).rejects.toBeInstanceOf(LockHeldError);

    const run = await runCli(["run", "--config", s.configFile], { env: s.bench.env, cwd: s.bench.dir });
    expect(run.code).toBe(2);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^sendgrid-sso-certs: state dir .* is locked by pid ${process.pid} on host .*; another sendgrid-sso-certs is running with the same state_dir$`,
      ),
    );
    // A monitor-only daemon takes no lock and starts fine beside it.
    const monitorOnly = await s.bench.startDaemon({
      ...s.bench.loadConfig(s.configFile),
      rotation: { ...s.bench.loadConfig(s.configFile).rotation, enabled: false },
    });
    await monitorOnly.tick();
    await first.tick();
    expect(posts(s)).toBe(1);
  });
});

describe("rollback under faults", () => {
  test("when re-enabling the old certificate fails, the new one is not disabled", async () => {
    const s = await setup();
    const daemon = await start(s);
    await daemon.tick();
    const newId = String(withFingerprint(s, s.next)[0]!.id);
    await daemon.stop(1_000);
    expect(s.bench.certificates(INTEGRATION).map((c) => c.enabled)).toEqual([false, true]);

    s.bench.emulator.faults.next({
      match: { method: "PATCH", path: `/v3/sso/certificates/${s.oldId}` },
      action: { kind: "status", status: 500 },
    });
    const run = await runCli(["rollback", "--integration", INTEGRATION, "--config", s.configFile], {
      env: s.bench.env,
      cwd: s.bench.dir,
    });
    expect(run.code).toBe(1);
    expect(s.bench.certificates(INTEGRATION).map((c) => [String(c.id), c.enabled])).toEqual([
      [s.oldId, false],
      [newId, true],
    ]);
    expect(s.bench.mutations().filter((m) => m.path === `/v3/sso/certificates/${newId}`)).toEqual([]);
    expect(fewestUsable(s.bench.emulator, INTEGRATION, new Date())).toBe(1);
  });
});

describe("answers the spec does not promise: the integration's list decides", () => {
  async function setupWith(
    options: Parameters<typeof openBench>[0],
    config: Record<string, unknown> = {},
  ): Promise<Setup> {
    const b = (bench = await openBench(options));
    const now = b.clock.now();
    const old = await makeCert({ cn: "entra-old", now, fromDays: -1000, toDays: 5 });
    const next = await makeCert({ cn: "entra-next", now, fromDays: -1, toDays: 1000 });
    b.emulator.state.addIntegration({ id: INTEGRATION, name: "Entra ID" });
    const record = b.emulator.state.addCertificate({
      integrationId: INTEGRATION,
      pem: old.pem,
      enabled: true,
    });
    await b.writeCert("entra-next.pem", next.pem);
    const configFile = await b.writeConfig({
      rotation: {
        integrations: [{ match: { id: INTEGRATION }, source: { type: "file", path: b.certsDir } }],
        overlap: "0s",
        delete_disabled_after: "1d",
      },
      ...config,
    });
    return { bench: b, configFile, old, next, oldId: String(record.id) };
  }

  test("a disable answered with the older spec's empty 200 counts as done: the rotation completes", async () => {
    const s = await setupWith({ quirks: { certificatePatchAnswer: "empty" } });
    const daemon = await start(s);
    await daemon.tick();
    expect(s.bench.certificates(INTEGRATION).map((c) => [String(c.id), c.enabled])).toEqual([
      [s.oldId, false],
      [String(withFingerprint(s, s.next)[0]!.id), true],
    ]);
    expect(daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "retired" }]);
    expect(daemon.rotation.rotator.current.backoff).toEqual([]);
    expect(s.bench.mutations().filter((m) => m.method === "PATCH")).toHaveLength(1);
  });

  test.each([400, 404] as const)(
    "a delete applied whose retry hears %i for the unknown id: gone per the list, done once",
    async (notFoundStatus) => {
      // One retry: the repeated DELETE meets the certificate its first attempt removed.
      const s = await setupWith({ behaviour: { notFoundStatus } }, { http: { max_retries: 1 } });
      const daemon = await start(s);
      await daemon.tick();
      expect(daemon.rotation.rotator.current.disabled).toMatchObject([{ certificateId: s.oldId }]);
      // The first DELETE is applied and its answer lost; the client repeats it and hears "not found".
      s.bench.emulator.faults.next({
        match: { method: "DELETE", path: CERTIFICATE_PATH },
        action: { kind: "lose" },
      });
      s.bench.clock.advance(2 * 24 * 3_600_000);
      await daemon.tick();
      const deletes = s.bench.emulator.log.filter((e) => e.method === "DELETE");
      expect(deletes.map((e) => [e.outcome, e.status])).toEqual([
        ["lost", 200],
        ["answered", notFoundStatus],
      ]);
      expect(s.bench.certificates(INTEGRATION).map((c) => String(c.id))).not.toContain(s.oldId);
      expect(daemon.rotation.rotator.current.disabled).toEqual([]);
      expect(daemon.rotation.rotator.current.backoff).toEqual([]);
      expect(
        s.bench.logs.matching("info", new RegExp(`^delete: deleted certificate ${s.oldId}$`)),
      ).toHaveLength(1);
    },
  );

  test.each([400, 404] as const)(
    "a disable answered %i 'not found' while the list still holds the certificate: a failure, retried, never taken as gone",
    async (notFoundStatus) => {
      const s = await setupWith({ behaviour: { notFoundStatus } });
      s.bench.emulator.faults.next({
        match: { method: "PATCH", path: CERTIFICATE_PATH },
        action: {
          kind: "status",
          status: notFoundStatus,
          body: [{ message: "certificate not found", field: "cert_id", error_id: "not_found" }],
        },
      });
      const daemon = await start(s);
      await daemon.tick();
      expect(s.bench.certificates(INTEGRATION).find((c) => String(c.id) === s.oldId)?.enabled).toBe(true);
      expect(daemon.rotation.rotator.current.disabled).toEqual([]);
      expect(daemon.rotation.rotator.current.backoff).toMatchObject([
        { integrationId: INTEGRATION, failures: 1 },
      ]);
      expect(
        s.bench.logs.matching("error", /^disable: PATCH \/v3\/sso\/certificates\/:id -> 40[04] /),
      ).toHaveLength(1);

      s.bench.clock.advance(5 * MINUTE);
      await daemon.tick();
      expect(s.bench.certificates(INTEGRATION).find((c) => String(c.id) === s.oldId)?.enabled).toBe(false);
      expect(daemon.rotation.rotator.current.disabled).toMatchObject([{ certificateId: s.oldId }]);
    },
  );
});
