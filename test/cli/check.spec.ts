import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { GeneratedCertificate } from "../../src/certs/generate.js";
import { PARSE_CACHE_FILE } from "../../src/certs/parse-cache-file.js";
import type { Emulator } from "../../src/emulator/server.js";
import type { SeedData } from "../../src/emulator/seeds.js";
import { x509, webcrypto } from "../../src/certs/x509.js";
import { DEFAULT_CHECK_TIMEOUT_MS } from "../../src/cli/specs.js";
import { VERSION } from "../../src/version.js";
import { makeCert } from "../helpers/make-cert.js";
import { expectReportShape } from "../helpers/report-shape.js";
import { runCli } from "../helpers/run-cli.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

let dir: string;
let emulator: Emulator | undefined;
const certs: Record<"healthy" | "warning" | "critical" | "expired", GeneratedCertificate> = {} as never;

beforeAll(async () => {
  certs.healthy = await makeCert({ cn: "healthy.example.test", toDays: 200 });
  certs.warning = await makeCert({ cn: "warning.example.test", toDays: 20 });
  certs.critical = await makeCert({ cn: "critical.example.test", toDays: 3 });
  certs.expired = await makeCert({ cn: "expired.example.test", fromDays: -400, toDays: -2 });
});

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sso-check-"));
});

afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  rmSync(dir, { recursive: true, force: true });
});

/** No config file: the account comes from SENDGRID_API_KEY and SENDGRID_API_BASE_URL. */
function envFor(baseUrl: string, key = TEST_API_KEY): Record<string, string> {
  return { SENDGRID_API_KEY: key, SENDGRID_API_BASE_URL: baseUrl, SSO_CERTS__HTTP__MAX_RETRIES: "0" };
}

async function emulatorWith(data: SeedData): Promise<Emulator> {
  emulator = await startTestEmulator({ seed: { kind: "data", data } });
  return emulator;
}

const integrationWith = (name: string, ...kinds: (keyof typeof certs)[]) => ({
  name,
  certificates: kinds.map((kind) => ({ pem: certs[kind].pem })),
});

async function check(argv: string[], env: Record<string, string>) {
  return runCli(["check", ...argv], { env, cwd: dir });
}

/** A port nothing listens on: bound by the OS, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("check --json exit codes (Nagios)", () => {
  it("exits 0 OK when every integration's best certificate is healthy", async () => {
    const api = await emulatorWith({
      integrations: [integrationWith("Okta", "healthy", "critical"), integrationWith("Entra", "healthy")],
    });
    const result = await check(["--json"], envFor(api.url));
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = expectReportShape(JSON.parse(result.stdout));
    expect(report.status).toBe("ok");
    expect(report.accounts.map((a) => [a.name, a.error])).toEqual([["default", null]]);
    expect(report.accounts[0]!.integrations.map((i) => [i.name, i.status, i.certificates.length])).toEqual([
      ["Okta", "ok", 2],
      ["Entra", "ok", 1],
    ]);
  });

  it("exits 1 WARNING when a best certificate expires within the warning window", async () => {
    const api = await emulatorWith({
      integrations: [integrationWith("Okta", "healthy"), integrationWith("Entra", "warning")],
    });
    const result = await check(["--json"], envFor(api.url));
    expect(result.code).toBe(1);
    expect(expectReportShape(JSON.parse(result.stdout)).status).toBe("warning");
  });

  it.each([
    ["within the critical window", ["critical"] as const],
    ["already expired", ["expired"] as const],
    ["with no certificate at all", [] as const],
  ])("exits 2 CRITICAL when a best certificate is %s", async (_name, kinds) => {
    const api = await emulatorWith({
      integrations: [integrationWith("Okta", "warning"), integrationWith("Entra", ...kinds)],
    });
    const result = await check(["--json"], envFor(api.url));
    expect(result.code).toBe(2);
    const report = expectReportShape(JSON.parse(result.stdout));
    expect(report.status).toBe("critical");
    expect(report.accounts[0]!.integrations[1]!.status).toBe("critical");
  });

  it("exits 2 for the demo seed (one expired, one expiring in 5 days)", async () => {
    emulator = await startTestEmulator({ seed: { kind: "demo" } });
    const result = await check(["--json"], envFor(emulator.url));
    expect(result.code).toBe(2);
    expect(
      expectReportShape(JSON.parse(result.stdout)).accounts[0]!.integrations.map((i) => [i.name, i.status]),
    ).toEqual([
      ["Okta", "ok"],
      ["Entra ID", "critical"],
      ["Duo", "critical"],
    ]);
  });

  it("ignores a disabled integration: exit 0 though its certificate expired", async () => {
    const api = await emulatorWith({
      integrations: [
        integrationWith("Okta", "healthy"),
        { ...integrationWith("Old", "expired"), enabled: false },
      ],
    });
    const result = await check(["--json"], envFor(api.url));
    expect(result.code).toBe(0);
    const old = expectReportShape(JSON.parse(result.stdout)).accounts[0]!.integrations[1]!;
    expect(old).toMatchObject({ name: "Old", enabled: false, status: "critical" });
  });

  it("exits 3 UNKNOWN when the API is down, and says why", async () => {
    const result = await check(["--json"], envFor(`http://127.0.0.1:${await closedPort()}`));
    expect(result.code).toBe(3);
    const report = expectReportShape(JSON.parse(result.stdout));
    expect(report.status).toBe("unknown");
    expect(report.accounts[0]!.error).toMatch(/^connection: /);
    expect(report.accounts[0]!.integrations).toEqual([]);
    const log = JSON.parse(result.stderr.trim().split("\n")[0]!) as Record<string, unknown>;
    expect(log).toMatchObject({ level: "error", account: "default", reason: "connection" });
  });

  it("exits 3 UNKNOWN for a wrong API key, and never prints either key", async () => {
    const api = await emulatorWith({ integrations: [integrationWith("Okta", "healthy")] });
    const wrongKey = "SG.wrong-key-for-this-test";
    const result = await check(["--json"], envFor(api.url, wrongKey));
    expect(result.code).toBe(3);
    const report = expectReportShape(JSON.parse(result.stdout));
    expect(report.accounts[0]!.error).toMatch(/^http_401: /);
    expect(result.stdout + result.stderr).not.toContain(wrongKey);
    expect(result.stdout + result.stderr).not.toContain(TEST_API_KEY);
  });

  it("exits 3 UNKNOWN when the API answers 500", async () => {
    const api = await emulatorWith({ integrations: [integrationWith("Okta", "healthy")] });
    api.faults.next({ action: { kind: "status", status: 500 } });
    const result = await check(["--json"], envFor(api.url));
    expect(result.code).toBe(3);
    expect(expectReportShape(JSON.parse(result.stdout)).accounts[0]!.error).toMatch(/^http_5xx: /);
  });

  it("makes 1 + N requests", async () => {
    const api = await emulatorWith({
      integrations: [integrationWith("A", "healthy"), integrationWith("B", "healthy"), integrationWith("C")],
    });
    await check(["--json"], envFor(api.url));
    expect(api.log).toHaveLength(4);
    expect(api.log.filter((entry) => entry.path.endsWith("/certificates"))).toHaveLength(3);
  });
});

describe("check: the table", () => {
  it("prints a summary line, one row per certificate and the status, with the same exit codes", async () => {
    const api = await emulatorWith({
      integrations: [integrationWith("Okta", "healthy", "expired"), integrationWith("Entra", "warning")],
    });
    const result = await check([], envFor(api.url));
    expect(result.code).toBe(1);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toMatch(/^SENDGRID SSO WARNING - Entra: expires in (19|20)d/);
    expect(lines[1]).toBe("");
    expect(lines[2]!.split(/\s{2,}/)).toEqual([
      "ACCOUNT",
      "INTEGRATION",
      "INTEGRATION ID",
      "CERTIFICATE",
      "SUBJECT CN",
      "NOT AFTER",
      "TIME LEFT",
      "STATUS",
    ]);
    const rows = lines.filter((line) => line.startsWith("default"));
    expect(rows).toHaveLength(3);
    const cells = rows.map((row) => row.split(/\s{2,}/));
    const [okta, entra] = api.state.listIntegrations().map((i) => i.id);
    const ids = api.state
      .listIntegrations()
      .flatMap((i) => api.state.certificatesOf(i.id).map((c) => String(c.id)));
    // The integration's id beside its name: every other command takes the id.
    expect(cells.map((c) => [c[1], c[2], c[3], c[4], c[7]])).toEqual([
      ["Okta", okta, `${ids[0]} *`, "healthy.example.test", "valid"],
      ["Okta", okta, ids[1], "expired.example.test", "expired"],
      ["Entra", entra, `${ids[2]} *`, "warning.example.test", "expiring"],
    ]);
    expect(cells[1]![6]).toMatch(/^-/);
    expect(cells[0]![5]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
    expect(result.stdout).toContain("(* the integration's best certificate)");
  });

  it("says all is fine when it is", async () => {
    const api = await emulatorWith({ integrations: [integrationWith("Okta", "healthy")] });
    const result = await check([], envFor(api.url));
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe("SENDGRID SSO OK - 1 integration(s), all certificates fine");
  });

  it("names the failing account and says why in the summary when the API is down", async () => {
    const port = await closedPort();
    const result = await check([], envFor(`http://127.0.0.1:${port}`));
    expect(result.code).toBe(3);
    expect(result.stdout.split("\n")[0]).toMatch(
      new RegExp(
        `^SENDGRID SSO UNKNOWN - default: GET /v3/sso/integrations -> connection failed \\(ECONNREFUSED\\): connect ECONNREFUSED 127\\.0\\.0\\.1:${port}`,
      ),
    );
  });

  it("says the API's own words on the first line for a wrong key", async () => {
    const api = await emulatorWith({ integrations: [integrationWith("Okta", "healthy")] });
    const result = await check([], envFor(api.url, "SG.wrong-key"));
    expect(result.code).toBe(3);
    expect(result.stdout.split("\n")[0]).toMatch(
      /^SENDGRID SSO UNKNOWN - default: GET \/v3\/sso\/integrations -> 401 Unauthorized: \S/,
    );
    expect(result.stdout).not.toContain("SG.wrong-key");
  });
});

describe("check: usage and configuration", () => {
  it("exits 3 with one line per problem for a bad config file", async () => {
    const file = join(dir, "bad.yaml");
    writeFileSync(
      file,
      `accounts:
  - name: main
    api_key_env: SENDGRID_API_KEY
    base_url: not a url
thresholds: { warning: 30x, critical: 7d }
listen: "nowhere"
http: { max_concurrency: 0 }
colour: blue
`,
    );
    const result = await check(["--json", "--config", file], { SENDGRID_API_KEY: TEST_API_KEY });
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr.split("\n")).toEqual([
      "sendgrid-sso-certs: invalid configuration:",
      '  accounts[0].base_url: "not a url" is not a URL',
      '  listen: "nowhere" is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)',
      '  thresholds.warning: "30x" is not a duration (use e.g. 90s, 15m, 24h, 30d)',
      "  http.max_concurrency: must be at least 1",
      "  colour: unknown key (expected one of: accounts, schedule, listen, thresholds, http, state_dir, log_level, metrics, rotation, web)",
      "",
    ]);
  });

  it("exits 3 when no API key is configured at all", async () => {
    const result = await check(["--json"], {});
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^sendgrid-sso-certs: invalid configuration:\n {2}accounts\[0\]/);
  });

  it("prints its help and exits 0 for --help", async () => {
    const result = await check(["--help"], {});
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("Usage: sendgrid-sso-certs check [options]");
    expect(result.stdout).toContain("exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN)");
    for (const flag of ["--config FILE", "--json", "--timeout DURATION", "--log-level LEVEL", "-h, --help"]) {
      expect(result.stdout).toContain(flag);
    }
  });

  it("prints the usage and exits 2 for an unknown flag or an extra argument", async () => {
    const unknown = await check(["--frobnicate"], {});
    const help = await check(["--help"], {});
    // The command's own usage, not the program's command list.
    expect(unknown).toEqual({
      code: 2,
      stdout: "",
      stderr: `sendgrid-sso-certs: Unknown option '--frobnicate'\n\n${help.stdout}`,
    });
    expect(unknown.stderr).not.toContain("Run 'sendgrid-sso-certs --help'");
    const extra = await check(["extra"], {});
    expect(extra.code).toBe(2);
    expect(extra.stderr.split("\n")[0]).toBe("sendgrid-sso-certs: unexpected argument 'extra'");
  });

  it("rejects a --log-level it does not know as a configuration problem", async () => {
    const result = await check(["--log-level", "loud"], envFor("http://127.0.0.1:1"));
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(
      '--log-level: "loud" is not one of trace, debug, info, warn, error, fatal',
    );
  });

  it("prints the version", async () => {
    const result = await runCli(["--version"], { env: {}, cwd: dir });
    expect(result).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
  });
});

/** A self-signed certificate signed with SHA-1, which the generator (rightly) never makes. */
async function sha1Certificate(cn: string): Promise<string> {
  const algorithm = {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-1",
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  };
  const keys = await webcrypto.subtle.generateKey(algorithm, false, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509().X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${cn}`,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 200 * 86_400_000),
    signingAlgorithm: algorithm,
    keys,
  });
  return cert.toString("pem");
}

describe("check: what an operator needs at 3 a.m.", () => {
  it("gives up after --timeout against an API that accepts connections but never answers, saying why", async () => {
    const api = await emulatorWith({ integrations: [integrationWith("Okta", "healthy")] });
    api.faults.next({ action: { kind: "hang" }, times: 1_000 });
    const started = Date.now();
    const result = await check(["--timeout", "1s"], envFor(api.url));
    const elapsed = Date.now() - started;
    expect(result.code).toBe(3);
    expect(result.stdout.split("\n")[0]).toMatch(
      /^SENDGRID SSO UNKNOWN - default: GET \/v3\/sso\/integrations -> no complete answer within \d+ ms/,
    );
    // The client's own per-attempt timeout is 15 s; 1 s was asked for. A generous ceiling, not a race.
    expect(elapsed).toBeLessThan(12_000);
  });

  it("defaults to a timeout under the 10 s after which Nagios' check_nrpe gives up", async () => {
    expect(DEFAULT_CHECK_TIMEOUT_MS).toBeLessThan(10_000);
    const help = await check(["--help"], {});
    expect(help.stdout).toMatch(
      /--timeout DURATION\s+give up and say UNKNOWN after this long, retries included \(default 7s\)/,
    );
    const bad = await check(["--timeout", "soon"], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr.split("\n")[0]).toBe(
      'sendgrid-sso-certs: --timeout: "soon" is not a positive duration (e.g. 5s, 1m)',
    );
  });

  it("warns when the best certificate has an RSA key under 2048 bits", async () => {
    const weak = await makeCert({ cn: "weak.example.test", toDays: 200, key: { kind: "rsa", bits: 1024 } });
    const api = await emulatorWith({ integrations: [{ name: "Duo", certificates: [{ pem: weak.pem }] }] });
    const result = await check([], envFor(api.url));
    expect(result.code).toBe(1);
    const id = String(api.state.certificatesOf(api.state.listIntegrations()[0]!.id)[0]!.id);
    expect(result.stdout.split("\n")[0]).toBe(
      `SENDGRID SSO WARNING - Duo: weak certificate ${id}: RSA key of 1024 bits; at least 2048 required`,
    );
    expect(result.stdout).toMatch(/valid \(weak\)\n/);
  });

  it("warns when the best certificate is signed with SHA-1", async () => {
    const api = await emulatorWith({
      integrations: [{ name: "ADFS", certificates: [{ pem: await sha1Certificate("adfs.example.test") }] }],
    });
    const result = await check([], envFor(api.url));
    expect(result.code).toBe(1);
    expect(result.stdout.split("\n")[0]).toMatch(
      /^SENDGRID SSO WARNING - ADFS: weak certificate \d+: signed with SHA-1$/,
    );
  });

  it("offers --json only on commands that print JSON", async () => {
    for (const command of ["check", "plan", "rotate", "rollback"]) {
      expect((await runCli([command, "--help"], { env: {}, cwd: dir })).stdout, command).toContain("--json");
    }
    for (const command of ["run", "demo", "emulator"]) {
      const help = await runCli([command, "--help"], { env: {}, cwd: dir });
      expect(help.stdout, command).not.toContain("--json");
      const refused = await runCli([command, "--json"], { env: {}, cwd: dir });
      expect(refused.code, command).toBe(2);
      expect(refused.stderr.split("\n")[0]).toBe("sendgrid-sso-certs: Unknown option '--json'");
    }
  });
});

describe("check: the parse cache in state_dir", () => {
  it("keeps what it parsed in an existing state_dir, and never creates one", async () => {
    const api = await emulatorWith({ integrations: [integrationWith("Okta", "healthy", "warning")] });
    const first = await check(["--json"], envFor(api.url));
    expect(first.code).toBe(0);
    expect(existsSync(join(dir, "data")), "check created the default state_dir ./data").toBe(false);

    const stateDir = join(dir, "state");
    mkdirSync(stateDir);
    const env = { ...envFor(api.url), STATE_DIR: stateDir };
    const second = await check(["--json"], env);
    expect(second.code).toBe(0);
    const entries = readFileSync(join(stateDir, PARSE_CACHE_FILE), "utf8")
      .trimEnd()
      .split("\n")
      .slice(1)
      .map((line) => JSON.parse(line) as { result: { ok: boolean; certificate: { subjectCn: string } } });
    const names = entries.map((entry) => entry.result.ok && entry.result.certificate.subjectCn);
    expect(names).toEqual(expect.arrayContaining(["healthy.example.test", "warning.example.test"]));

    // A damaged cache is no reason for another answer.
    writeFileSync(join(stateDir, PARSE_CACHE_FILE), "{ damaged");
    const third = await check(["--json"], env);
    expect([third.code, third.stderr]).toEqual([0, ""]);
    const untimed = (text: string): unknown =>
      JSON.parse(text, (key, value: unknown) =>
        key.endsWith("_at") || key === "expires_in_seconds" ? undefined : value,
      );
    expect(untimed(third.stdout)).toEqual(untimed(second.stdout));
  });
});
