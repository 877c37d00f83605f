import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { DEMO_INTEGRATION_IDS } from "../../src/emulator/seeds.js";
import { makeCert } from "../helpers/make-cert.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

const OKTA = DEMO_INTEGRATION_IDS.okta;
let dir: string;
let emulator: Emulator;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "sso-admin-"));
  emulator = await startTestEmulator({ seed: { kind: "demo" } });
});

afterEach(async () => {
  await emulator.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], key = TEST_API_KEY) {
  return runCli(argv, { env: { SENDGRID_API_KEY: key, SENDGRID_API_BASE_URL: emulator.url }, cwd: dir });
}

/** Runs an admin command that must succeed, and returns its parsed JSON output. */
async function json(argv: string[]): Promise<unknown> {
  const result = await cli(argv);
  expect({ argv, code: result.code, stderr: result.stderr }).toEqual({ argv, code: 0, stderr: "" });
  return JSON.parse(result.stdout) as unknown;
}

const okta = () => emulator.state.getIntegration(OKTA)!;
const oktaCertificateId = () => String(emulator.state.certificatesOf(OKTA)[0]!.id);

describe("integrations", () => {
  it("list: every integration, completed only with --si", async () => {
    const listed = (await json(["integrations", "list", "--si"])) as Record<string, unknown>[];
    expect(listed.map((i) => i.id)).toEqual(Object.values(DEMO_INTEGRATION_IDS));
    expect(listed[0]).toMatchObject({ id: OKTA, name: "Okta", enabled: true, completed: true });
    expect(emulator.log.at(-1)?.query).toEqual({ si: "true" });

    const plain = (await json(["integrations", "list"])) as Record<string, unknown>[];
    expect(plain.map((i) => i.completed)).toEqual([null, null, null]);
  });

  it("get: one integration", async () => {
    expect(await json(["integrations", "get", OKTA])).toMatchObject({
      id: OKTA,
      name: "Okta",
      entityId: "http://www.okta.com/exk1demo0kta5s2Y4x7",
    });
  });

  it("create: sends the fields given and prints the new integration", async () => {
    const created = (await json([
      "integrations",
      "create",
      "--name",
      "Ping",
      "--entity-id",
      "https://ping.example.test/entity",
      "--signin-url",
      "https://ping.example.test/sso",
      "--signout-url",
      "https://ping.example.test/slo",
      "--enabled",
      "false",
    ])) as { id: string };
    expect(emulator.state.getIntegration(created.id)).toMatchObject({
      name: "Ping",
      enabled: false,
      entityId: "https://ping.example.test/entity",
      signinUrl: "https://ping.example.test/sso",
      signoutUrl: "https://ping.example.test/slo",
    });
    expect(created).toMatchObject({ name: "Ping", enabled: false });
  });

  it("create: refuses to run without a required field (exit 2)", async () => {
    const result = await cli(["integrations", "create", "--name", "Ping"]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe("sendgrid-sso-certs: missing --entity-id");
    expect(emulator.log).toEqual([]);
  });

  it("update: changes the fields given, sending the whole integration as the spec requires", async () => {
    const before = okta();
    const updated = await json(["integrations", "update", OKTA, "--name", "Okta EU", "--enabled", "false"]);
    expect(updated).toMatchObject({ id: OKTA, name: "Okta EU", enabled: false });
    expect(okta()).toMatchObject({ name: "Okta EU", enabled: false, entityId: before.entityId });
    expect(emulator.log.at(-1)?.body).toEqual({
      name: "Okta EU",
      enabled: false,
      signin_url: before.signinUrl,
      signout_url: before.signoutUrl,
      entity_id: before.entityId,
    });
  });

  it("update: refuses to send a request that changes nothing (exit 2, nothing sent)", async () => {
    const result = await cli(["integrations", "update", OKTA]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "sendgrid-sso-certs: integrations update: nothing to change; give at least one of --name, --enabled, --entity-id, --signin-url, --signout-url, --completed\n",
    );
    expect(emulator.log).toEqual([]);
  });

  it("create: prints the new integration with its id, though the answer has none (as in the spec)", async () => {
    const created = (await json([
      "integrations",
      "create",
      "--name",
      "Ping",
      "--entity-id",
      "https://ping.example.test/entity",
      "--signin-url",
      "https://ping.example.test/sso",
      "--signout-url",
      "https://ping.example.test/slo",
    ])) as { id: string };
    expect(emulator.state.getIntegration(created.id)?.name).toBe("Ping");
  });

  it("update: rejects an --enabled that is not true or false (exit 2, nothing sent)", async () => {
    const result = await cli(["integrations", "update", OKTA, "--enabled", "maybe"]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "sendgrid-sso-certs: --enabled takes true or false, not 'maybe'",
    );
    expect(emulator.log).toEqual([]);
  });

  it("delete: removes the integration", async () => {
    expect(await json(["integrations", "delete", OKTA])).toEqual({ ok: true });
    expect(emulator.state.getIntegration(OKTA)).toBeUndefined();
  });
});

describe("certificates", () => {
  it("list: a table of id, status, not_after, fingerprint and subject, no PEM", async () => {
    const record = emulator.state.certificatesOf(OKTA)[0]!;
    const x509 = new X509Certificate(record.pem);
    const result = await cli(["certificates", "list", "--integration", OKTA]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +STATUS +NOT AFTER +FINGERPRINT \(SHA-256\) +SUBJECT$/);
    expect(lines).toHaveLength(2);
    // The strict emulator, like the spec, does not report `enabled`.
    expect(lines[1]!.split(/ {2,}/)).toEqual([
      String(record.id),
      "not reported",
      new Date(x509.validTo).toISOString(),
      x509.fingerprint256.replaceAll(":", "").toLowerCase(),
      x509.subject.replaceAll("\n", ", "),
    ]);
    expect(result.stdout).not.toContain("BEGIN CERTIFICATE");
  });

  it("list --json and get: the certificate records of an integration", async () => {
    const id = oktaCertificateId();
    const listed = (await json(["certificates", "list", "--integration", OKTA, "--json"])) as Record<
      string,
      unknown
    >[];
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ id, integrationId: OKTA, enabled: null });
    const pem = emulator.state.getCertificate(id)!.pem;
    expect(listed[0]!.pem).toBe(pem);
    expect(listed[0]!.notAfter).toBe(new Date(new X509Certificate(pem).validTo).toISOString());
    expect(await json(["certificates", "get", id])).toEqual(listed[0]);
  });

  it("create: uploads a certificate file", async () => {
    const cert = await makeCert({ cn: "okta-next.example.test" });
    const file = join(dir, "next.pem");
    writeFileSync(file, cert.pem);
    const created = (await json([
      "certificates",
      "create",
      "--integration",
      OKTA,
      "--cert",
      file,
      "--enabled",
      "false",
    ])) as { id: string };
    expect(emulator.state.getCertificate(created.id)).toMatchObject({
      integrationId: OKTA,
      pem: cert.pem,
      enabled: false,
    });
    expect(emulator.state.certificatesOf(OKTA)).toHaveLength(2);
  });

  it("create: refuses a file that holds a private key, and sends nothing", async () => {
    const cert = await makeCert({ cn: "okta-next.example.test" });
    const file = join(dir, "bundle.pem");
    writeFileSync(file, cert.pem + cert.privateKeyPem);
    const result = await cli(["certificates", "create", "--integration", OKTA, "--cert", file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")[0]).toBe(
      `sendgrid-sso-certs: ${file} holds a private key; refusing to send it to SendGrid (upload the certificate only)`,
    );
    expect(result.stderr).not.toContain("PRIVATE KEY-----");
    expect(emulator.log).toEqual([]);
    expect(emulator.state.certificatesOf(OKTA)).toHaveLength(1);
  });

  it("create: says which file it cannot read", async () => {
    const result = await cli(["certificates", "create", "--integration", OKTA, "--cert", "missing.pem"]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe("sendgrid-sso-certs: cannot read --cert missing.pem: ENOENT");
  });

  it("update: disables a certificate", async () => {
    const id = oktaCertificateId();
    expect(await json(["certificates", "update", id, "--enabled", "false"])).toMatchObject({ id });
    expect(emulator.state.getCertificate(id)!.enabled).toBe(false);
    expect(emulator.log.at(-1)?.body).toEqual({ enabled: false });
  });

  it("delete: removes a certificate; getting it afterwards fails with one line and exit 1", async () => {
    const id = oktaCertificateId();
    expect(await json(["certificates", "delete", id])).toEqual({ ok: true });
    expect(emulator.state.getCertificate(id)).toBeUndefined();
    const gone = await cli(["certificates", "get", id]);
    expect(gone).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "sendgrid-sso-certs: GET /v3/sso/certificates/:id -> 400 Bad Request: certificate not found (field: cert_id)\n",
    });
  });

  it("an unknown id answered 404 (the variant) is one line and exit 1 as well", async () => {
    await emulator.close();
    emulator = await startTestEmulator({ seed: { kind: "demo" }, behaviour: { notFoundStatus: 404 } });
    const gone = await cli(["certificates", "update", "12345", "--enabled", "false"]);
    expect(gone).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "sendgrid-sso-certs: PATCH /v3/sso/certificates/:id -> 404 Not Found: certificate not found (field: cert_id)\n",
    });
  });

  it("update: an empty 200 (the older spec) is read back and printed", async () => {
    await emulator.close();
    emulator = await startTestEmulator({
      seed: { kind: "demo" },
      quirks: { certificatePatchAnswer: "empty" },
    });
    const id = oktaCertificateId();
    expect(await json(["certificates", "update", id, "--enabled", "false"])).toMatchObject({
      id,
      integrationId: OKTA,
    });
    expect(emulator.state.getCertificate(id)!.enabled).toBe(false);
    expect(emulator.log.map((e) => e.method)).toEqual(["PATCH", "GET"]);
  });
});

describe("teammates", () => {
  it("create and update an SSO teammate", async () => {
    const created = await json([
      "teammates",
      "create",
      "--email",
      "ada@example.test",
      "--first-name",
      "Ada",
      "--last-name",
      "Lovelace",
      "--scopes",
      "mail.send, alerts.read",
    ]);
    expect(created).toMatchObject({
      email: "ada@example.test",
      firstName: "Ada",
      lastName: "Lovelace",
      isAdmin: false,
      isSso: true,
    });
    // SendGrid adds scopes of its own.
    expect((created as { scopes: string[] }).scopes.slice(0, 2)).toEqual(["mail.send", "alerts.read"]);
    expect(emulator.state.teammates.get("ada@example.test")).toMatchObject({ firstName: "Ada" });

    const updated = await json([
      "teammates",
      "update",
      "ada@example.test",
      "--first-name",
      "Augusta",
      "--admin",
      "true",
    ]);
    expect(updated).toMatchObject({ email: "ada@example.test", firstName: "Augusta", isAdmin: true });
    // The spec requires both names on PATCH: the last name was read, not dropped.
    expect(emulator.log.at(-1)?.body).toMatchObject({ first_name: "Augusta", last_name: "Lovelace" });
    expect(emulator.state.teammates.get("ada@example.test")).toMatchObject({
      firstName: "Augusta",
      lastName: "Lovelace",
      isAdmin: true,
    });
  });

  it.each([
    [
      ["--admin", "true", "--persona", "developer"],
      "--admin true gives every scope; it cannot be combined with --persona",
    ],
    [
      ["--admin", "true", "--scopes", "mail.send"],
      "--admin true gives every scope; it cannot be combined with --scopes",
    ],
    [["--persona", "developer", "--scopes", "mail.send"], "give either --persona or --scopes, not both"],
  ])("create %j is refused before sending anything", async (flags, message) => {
    const names = ["--email", "ada@example.test", "--first-name", "Ada", "--last-name", "Lovelace"];
    const result = await cli(["teammates", "create", ...names, ...flags]);
    expect(result).toEqual({ code: 2, stdout: "", stderr: `sendgrid-sso-certs: ${message}\n` });
    expect(emulator.log).toEqual([]);
  });

  it("refuses an unknown persona before sending anything", async () => {
    const result = await cli(["teammates", "update", "ada@example.test", "--persona", "wizard"]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "sendgrid-sso-certs: --persona must be accountant, developer, marketer or observer, not 'wizard'",
    );
    expect(emulator.log).toEqual([]);
  });
});

describe("admin commands: failures and help", () => {
  it("prints one line and exits 1 for a wrong API key, without the key", async () => {
    const wrong = "SG.definitely-the-wrong-key";
    const result = await cli(["integrations", "list"], wrong);
    expect(result).toEqual({
      code: 1,
      stdout: "",
      stderr: "sendgrid-sso-certs: GET /v3/sso/integrations -> 401 Unauthorized: authorization required\n",
    });
    expect(result.stderr).not.toContain(wrong);
  });

  it("names an unknown --account", async () => {
    const result = await cli(["integrations", "list", "--account", "eu"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--account: no account named "eu" (have: default)');
  });

  it("prints help for the emulator command", async () => {
    const result = await cli(["emulator", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe("Usage: sendgrid-sso-certs emulator [options]");
    for (const flag of ["--port N", "--host HOST", "--seed demo|empty|FILE"])
      expect(result.stdout).toContain(flag);
  });

  it("lists every admin command in the program help", async () => {
    const result = await runCli(["--help"], { env: {}, cwd: dir });
    expect(result.code).toBe(0);
    for (const command of [
      "integrations list",
      "integrations get",
      "integrations create",
      "integrations update",
      "integrations delete",
      "certificates list",
      "certificates get",
      "certificates create",
      "certificates update",
      "certificates delete",
      "teammates create",
      "teammates update",
    ]) {
      expect(result.stdout).toMatch(new RegExp(`^ {2}${command} `, "m"));
    }
  });

  it("exits 2 for an unknown command", async () => {
    const result = await runCli(["integrations", "explode"], { env: {}, cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe("sendgrid-sso-certs: unknown command 'integrations explode'");
  });
});
