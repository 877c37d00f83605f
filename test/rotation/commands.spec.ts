// The rotation commands as a user runs them (main() in-process, real clock) against the emulator: `plan`
// changes nothing, `rotate` forces one rotation with every safety rule, `rollback` undoes the last one
// and refuses when that would leave no valid certificate.

import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { makeCert } from "../helpers/make-cert.js";
import { runCli, type CliRun } from "../helpers/run-cli.js";
import { openBench, type Bench } from "./bench.js";

const DUE = "int-due";
const HEALTHY = "int-healthy";
const UNMATCHED = "int-unmatched";

let bench: Bench | null = null;

afterEach(async () => {
  await bench?.close();
  bench = null;
});

interface Setup {
  readonly bench: Bench;
  readonly configFile: string;
  /** On DUE, expiring in 5 days. */
  readonly expiring: GeneratedCertificate;
  /** On HEALTHY, 300 days left. */
  readonly healthy: GeneratedCertificate;
  /** In the file source. */
  readonly next: GeneratedCertificate;
  readonly ids: { readonly expiring: string; readonly healthy: string };
  cli(...argv: string[]): Promise<CliRun>;
}

async function setup(rotation: Record<string, unknown> = {}): Promise<Setup> {
  const b = (bench = await openBench());
  const now = new Date();
  const expiring = await makeCert({ cn: "due", now, fromDays: -360, toDays: 5 });
  const healthy = await makeCert({ cn: "healthy", now, fromDays: -65, toDays: 300 });
  const next = await makeCert({ cn: "next", now, fromDays: -1, toDays: 730 });
  const state = b.emulator.state;
  state.addIntegration({ id: DUE, name: "Entra ID" });
  state.addIntegration({ id: HEALTHY, name: "Okta" });
  state.addIntegration({ id: UNMATCHED, name: "Duo" });
  const expiringId = String(
    state.addCertificate({ integrationId: DUE, pem: expiring.pem, enabled: true }).id,
  );
  const healthyId = String(
    state.addCertificate({ integrationId: HEALTHY, pem: healthy.pem, enabled: true }).id,
  );
  state.addCertificate({ integrationId: UNMATCHED, pem: expiring.pem, enabled: true });
  await b.writeCert("next.pem", next.pem);
  const source = { type: "file", path: b.certsDir } as const;
  const configFile = await b.writeConfig({
    rotation: {
      integrations: [
        { match: { id: DUE }, source },
        { match: { name: "Okta" }, source },
      ],
      ...rotation,
    },
  });
  return {
    bench: b,
    configFile,
    expiring,
    healthy,
    next,
    ids: { expiring: expiringId, healthy: healthyId },
    cli: (...argv) => runCli([...argv, "--config", configFile], { env: b.env, cwd: b.dir }),
  };
}

function uploadedId(s: Setup, integrationId: string, cert: GeneratedCertificate): string {
  const found = s.bench.certificates(integrationId).find((c) => c.pem === cert.pem);
  if (!found) throw new Error(`${cert.subject} is not on ${integrationId}`);
  return String(found.id);
}

describe("plan", () => {
  test("prints the upload the daemon would make, with its reason, as a table; changes nothing", async () => {
    const s = await setup();
    const run = await s.cli("plan");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^INTEGRATION\s+ACTION\s+CERTIFICATE\s+REASON$/);
    const row = lines.find((line) => line.startsWith(`Entra ID (${DUE})`));
    expect(row).toMatch(/\bupload\s+new\s+best certificate \d+ expires .*; uploading .*next\.pem/);
    expect(run.stdout).not.toContain(HEALTHY);
    expect(run.stdout).not.toContain(UNMATCHED);
    expect(s.bench.mutations()).toEqual([]);
    // Not even the state directory: no journal, no audit log, no lock.
    expect(existsSync(s.bench.stateDir)).toBe(false);
  });

  test("--json: one document with the actions and notes", async () => {
    const s = await setup({ enabled: false });
    const run = await s.cli("plan", "--json");
    expect(run.code).toBe(0);
    const document = JSON.parse(run.stdout) as {
      rotation_enabled: boolean;
      actions: { reason: string }[];
      notes: unknown[];
    };
    expect(document.rotation_enabled).toBe(false);
    expect(document.actions).toEqual([
      {
        kind: "upload",
        account: "main",
        integration_id: DUE,
        integration_name: "Entra ID",
        certificate_id: null,
        fingerprint_sha256: s.next.fingerprintSha256,
        idp_key_id: null,
        reason: document.actions[0]?.reason,
      },
    ]);
    expect(document.actions[0]?.reason).toContain(`best certificate ${s.ids.expiring} expires`);
    expect(document.notes).toEqual([]);
    expect(s.bench.mutations()).toEqual([]);
  });

  test("says when rotation is off, and what it cannot do", async () => {
    const s = await setup({ enabled: false });
    await writeFile(
      join(s.bench.certsDir, "next.pem"),
      (await makeCert({ cn: "old", toDays: -1, fromDays: -90 })).pem,
    );
    const run = await s.cli("plan");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\(rotation\.enabled is false: `run` only monitors\)\nNothing to do now\.\n/);
    expect(run.stdout).toMatch(
      /^! Entra ID: rotation due but no acceptable replacement: .*next\.pem: expired at /m,
    );
  });
});

describe("rotate", () => {
  test("--cert FILE rotates now even though the integration is not due", async () => {
    const s = await setup();
    const file = join(s.bench.dir, "okta-next.pem");
    await writeFile(file, s.next.pem);
    const run = await s.cli("rotate", "--integration", HEALTHY, "--cert", file);
    expect(run.code).toBe(0);
    const newId = uploadedId(s, HEALTHY, s.next);
    expect(s.bench.mutations()).toEqual([
      {
        method: "POST",
        path: "/v3/sso/certificates",
        body: { public_certificate: s.next.pem, integration_id: HEALTHY, enabled: true },
      },
      { method: "PATCH", path: `/v3/sso/certificates/${s.ids.healthy}`, body: { enabled: false } },
    ]);
    expect(
      s.bench.emulator.log.some((e) => e.method === "GET" && e.path === `/v3/sso/certificates/${newId}`),
    ).toBe(true);
    expect(run.stdout).toMatch(/^INTEGRATION\s+STEP\s+CERTIFICATE\s+RESULT\s+DETAIL$/m);
    for (const [step, certificate] of [
      ["upload", "new"],
      ["verify", newId],
      ["disable", s.ids.healthy],
    ])
      expect(run.stdout).toMatch(new RegExp(`^Okta\\s+${step}\\s+${certificate}\\s+success\\s`, "m"));
    // Only the named integration: the due one is left for the daemon.
    expect(s.bench.certificates(DUE)).toHaveLength(1);
    expect(existsSync(join(s.bench.stateDir, "lock"))).toBe(false);
  });

  test("without --cert, the rule's source is used", async () => {
    const s = await setup();
    const run = await s.cli("rotate", "--integration", DUE, "--json");
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { steps: { kind: string; result: string }[] };
    expect(result.steps.map((step) => [step.kind, step.result])).toEqual([
      ["upload", "success"],
      ["verify", "success"],
      ["disable", "success"],
    ]);
    uploadedId(s, DUE, s.next);
  });

  test.each([
    [
      "a 1024-bit RSA certificate",
      async () => (await makeCert({ key: { kind: "rsa", bits: 1024 } })).pem,
      /RSA key of 1024 bits; at least 2048 required/,
    ],
    [
      "a file holding the private key too",
      async () => {
        const cert = await makeCert();
        return cert.pem + cert.privateKeyPem;
      },
      /holds a private key \(PRIVATE KEY\); a private key is never uploaded/,
    ],
  ])("refuses %s: exit 1 with the reason, nothing uploaded", async (_name, text, reason) => {
    const s = await setup();
    const file = join(s.bench.dir, "candidate.pem");
    await writeFile(file, await text());
    const run = await s.cli("rotate", "--integration", HEALTHY, "--cert", file);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("No step taken.");
    expect(run.stdout).toMatch(
      new RegExp(
        `^! rotation due but no acceptable replacement: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: .*${reason.source}`,
        "m",
      ),
    );
    expect(s.bench.mutations()).toEqual([]);
  });

  test("without --cert, refuses an integration no rule matches (no source): exit 2, nothing touched", async () => {
    const s = await setup();
    const run = await s.cli("rotate", "--integration", UNMATCHED);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `sendgrid-sso-certs: no rotation.integrations rule matches integration ${UNMATCHED} (Duo), so there is no source to take a certificate from: give --cert FILE\n`,
    );
    expect(s.bench.mutations()).toEqual([]);
  });

  test("--dry-run on a fresh state_dir: says what it would do, audits it, no mutating request, no journal", async () => {
    const s = await setup();
    const run = await s.cli("rotate", "--integration", DUE, "--dry-run");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Entra ID\s+upload\s+new\s+dry_run\s+dry run: would upload: /m);
    expect(s.bench.mutations()).toEqual([]);
    expect(existsSync(join(s.bench.stateDir, "journal.json"))).toBe(false);
    const audit = (await readFile(join(s.bench.stateDir, "audit.jsonl"), "utf8")).trim().split("\n");
    expect(audit.map((line) => JSON.parse(line) as Record<string, unknown>)).toMatchObject([
      {
        action: "upload",
        result: "dry_run",
        integration_id: DUE,
        fingerprint_sha256: s.next.fingerprintSha256,
      },
    ]);
  });

  test("--dry-run beside a running daemon: takes no lock and leaves its journal alone", async () => {
    const s = await setup({ overlap: "24h" });
    const daemon = await s.bench.startDaemon(s.bench.loadConfig(s.configFile));
    await daemon.tick();
    const journalFile = join(s.bench.stateDir, "journal.json");
    const before = await readFile(journalFile, "utf8");

    const dry = await s.cli("rotate", "--integration", HEALTHY, "--dry-run");
    expect(dry.code).toBe(0);
    expect(await readFile(journalFile, "utf8")).toBe(before);

    const real = await s.cli("rotate", "--integration", HEALTHY);
    expect(real.code).toBe(2);
    expect(real.stderr).toMatch(/^sendgrid-sso-certs: state dir .* is locked by pid \d+/);
  });
});

describe("rollback", () => {
  test("re-enables the certificate the last rotation disabled and disables the one it uploaded", async () => {
    const s = await setup();
    expect((await s.cli("rotate", "--integration", DUE)).code).toBe(0);
    const newId = uploadedId(s, DUE, s.next);
    s.bench.emulator.clearLog();

    const run = await s.cli("rollback", "--integration", DUE);
    expect(run.code).toBe(0);
    expect(s.bench.mutations()).toEqual([
      { method: "PATCH", path: `/v3/sso/certificates/${s.ids.expiring}`, body: { enabled: true } },
      { method: "PATCH", path: `/v3/sso/certificates/${newId}`, body: { enabled: false } },
    ]);
    expect(s.bench.certificates(DUE).map((c) => [String(c.id), c.enabled])).toEqual([
      [s.ids.expiring, true],
      [newId, false],
    ]);
    const journal = JSON.parse(await readFile(join(s.bench.stateDir, "journal.json"), "utf8")) as {
      data: { rotations: { phase: string }[]; disabled: { certificateId: string }[] };
    };
    expect(journal.data.rotations.map((r) => r.phase)).toEqual(["rolled_back"]);
    expect(journal.data.disabled.map((d) => d.certificateId)).toEqual([newId]);
    const audit = (await readFile(join(s.bench.stateDir, "audit.jsonl"), "utf8")).trim().split("\n");
    expect(audit.slice(-2).map((line) => (JSON.parse(line) as { action: string }).action)).toEqual([
      "enable",
      "disable",
    ]);
  });

  test("refused when it would leave no valid certificate: exit 1, nothing changed", async () => {
    const s = await setup();
    expect((await s.cli("rotate", "--integration", DUE)).code).toBe(0);
    // The replaced certificate is gone meanwhile: disabling the new one would lock the team out.
    s.bench.emulator.state.removeCertificate(s.ids.expiring);
    s.bench.emulator.clearLog();
    const run = await s.cli("rollback", "--integration", DUE);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^sendgrid-sso-certs: not rolling back: .* would leave no valid enabled certificate\n$/,
    );
    expect(s.bench.mutations()).toEqual([]);
  });

  test("refused without a rotation to undo", async () => {
    const s = await setup();
    const run = await s.cli("rollback", "--integration", HEALTHY);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `sendgrid-sso-certs: no rotation of integration ${HEALTHY} to roll back in the journal\n`,
    );
    expect(s.bench.mutations()).toEqual([]);
  });
});
