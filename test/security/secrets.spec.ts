// The API key goes nowhere: the suite's main scenarios run with a recognisable key, and the key (as is,
// URL-encoded, base64, hex) must not appear in any log line, stdout/stderr, /metrics, status page,
// inventory, error message or file under state_dir, including when the API echoes it back in an error.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import type { Daemon } from "../../src/daemon.js";
import { runCli, type CliRun } from "../helpers/run-cli.js";
import { parsePrometheusText } from "../helpers/prom-text.js";
import { leakCheckKey, Outputs } from "./leaks.js";
import { EXPIRING, openWorld, type World } from "./world.js";

let world: World | null = null;

afterEach(async () => {
  await world?.close();
  world = null;
});

/** Everything a person or a scraper can read from the daemon's server. */
async function readEndpoints(daemon: Daemon, outputs: Outputs, label: string): Promise<void> {
  for (const path of ["/metrics", "/", "/api/v1/inventory", "/readyz", "/healthz"]) {
    const response = await fetch(`${daemon.url}${path}`);
    outputs.add(`${label} GET ${path}`, await response.text());
  }
  outputs.add(`${label} monitor failures`, JSON.stringify(daemon.monitor.failures()));
}

async function scanSucceeded(daemon: Daemon): Promise<number> {
  const text = await (await fetch(`${daemon.url}/metrics`)).text();
  return parsePrometheusText(text).value("sendgrid_sso_scrape_success", { account: "main" });
}

function record(outputs: Outputs, label: string, run: CliRun): CliRun {
  outputs.add(`${label} stdout`, run.stdout);
  outputs.add(`${label} stderr`, run.stderr);
  return run;
}

describe("the leak detector", () => {
  it("finds a key as is, URL-encoded and base64-encoded inside other text", () => {
    const key = leakCheckKey("probe");
    for (const text of [
      `error: ${key}`,
      `Authorization: Basic ${Buffer.from(`apikey:${key}`).toString("base64")}`,
      `x=${Buffer.from(`ab${key}`).toString("base64url")}`,
      `q=${encodeURIComponent(`Bearer ${key}`)}`,
      `hex ${Buffer.from(key).toString("hex")}`,
      `truncated ${key.slice(20)}`,
    ]) {
      const outputs = new Outputs();
      outputs.add("probe", text);
      expect(() => outputs.expectFreeOf(key), text).toThrow();
    }
  });
});

describe("a recognisable API key", () => {
  it("appears nowhere while the daemon scans, meets API failures, rotates a certificate and gets a new key", async () => {
    const key = leakCheckKey("daemon");
    const newKey = leakCheckKey("rotated");
    const wrongKey = leakCheckKey("wrong");
    world = await openWorld(key);
    const outputs = new Outputs();
    const daemon = await world.startDaemon();

    // A healthy scan that rotates the expiring integration's certificate.
    await daemon.tick();
    expect(await scanSucceeded(daemon)).toBe(1);
    const uploaded = world.emulator.state
      .certificatesOf(EXPIRING)
      .find((c) => c.pem === world!.replacement.pem);
    expect(uploaded?.enabled).toBe(true);
    await readEndpoints(daemon, outputs, "after rotation");

    // SendGrid refuses the key: 401 on every request.
    world.emulator.setApiKey(wrongKey);
    await daemon.tick();
    expect(await scanSucceeded(daemon)).toBe(0);
    await readEndpoints(daemon, outputs, "after 401");
    world.emulator.setApiKey(key);

    // Storms of 5xx and 429, some of them echoing the key back in their body, as a careless proxy might.
    const echo = { errors: [{ message: `invalid key ${key}`, field: "authorization", help: null }] };
    world.emulator.faults.next({ action: { kind: "status", status: 500, body: echo }, times: 3 });
    world.emulator.faults.next({
      action: { kind: "status", status: 502, body: `<html><body>bad gateway for ${key}</body></html>` },
      times: 3,
    });
    world.emulator.faults.next({
      action: { kind: "status", status: 429, body: echo, headers: { "X-RateLimit-Reset": "1" } },
    });
    await daemon.tick();
    world.emulator.faults.set({ errorRate: 0.3 });
    for (let i = 0; i < 3; i++) await daemon.tick();
    world.emulator.faults.reset();
    world.emulator.faults.next({ action: { kind: "status", status: 400, body: echo }, times: 5 });
    await daemon.tick();
    world.emulator.faults.reset();
    await readEndpoints(daemon, outputs, "after storms");
    expect(world.logs.join("")).toMatch(/"level":"(warn|error)"/);

    // The key itself is rotated: new key at SendGrid and in the mounted secret.
    world.emulator.setApiKey(newKey);
    world.writeKey(newKey);
    await daemon.tick();
    expect(await scanSucceeded(daemon)).toBe(1);
    await readEndpoints(daemon, outputs, "after key rotation");

    await daemon.stop(1_000);
    world.logs.forEach((line, index) => outputs.add(`log line ${index}`, line));
    outputs.addFilesUnder(world.stateDir, "state_dir");
    expect(outputs.places).toEqual(
      expect.arrayContaining(["state_dir/journal.json", "state_dir/audit.jsonl"]),
    );
    outputs.expectFreeOf(key, newKey, wrongKey);
  });

  it("appears nowhere in what check, plan, rotate and the admin commands print, from any key source", async () => {
    const key = leakCheckKey("cli");
    const wrongKey = leakCheckKey("wrong");
    world = await openWorld(key);
    const outputs = new Outputs();
    const w = world;
    const fromFile = (argv: string[]) => runCli([...argv, "--config", w.configFile], { env: {}, cwd: w.dir });
    const fromEnv = (argv: string[], env: Record<string, string> = {}) =>
      runCli(argv, {
        env: { SENDGRID_API_KEY: key, SENDGRID_API_BASE_URL: w.emulator.url, ...env },
        cwd: w.stateDir.replace(/state$/, "certs"),
      });

    // CRITICAL: the expiring integration has 5 days left.
    expect(record(outputs, "check", await fromFile(["check"])).code).toBe(2);
    record(outputs, "check --json", await fromFile(["check", "--json"]));
    record(outputs, "check debug", await fromFile(["check", "--log-level", "debug"]));
    record(outputs, "check trace env", await fromEnv(["check", "--json", "--log-level", "trace"]));
    record(outputs, "plan", await fromFile(["plan"]));
    record(outputs, "plan --json", await fromFile(["plan", "--json", "--log-level", "trace"]));
    record(outputs, "rotate dry", await fromFile(["rotate", "--integration", EXPIRING, "--dry-run"]));
    const rotate = record(
      outputs,
      "rotate",
      await fromFile(["rotate", "--integration", EXPIRING, "--log-level", "trace"]),
    );
    expect(rotate.code).toBe(0);
    record(
      outputs,
      "rollback",
      await fromFile(["rollback", "--integration", EXPIRING, "--log-level", "trace"]),
    );
    record(outputs, "integrations list", await fromEnv(["integrations", "list", "--si"]));
    record(outputs, "certificates list", await fromEnv(["certificates", "list", "--integration", EXPIRING]));
    record(outputs, "integrations get 404", await fromEnv(["integrations", "get", "no-such-id"]));
    const wrong = record(
      outputs,
      "check wrong key",
      await fromEnv(["check"], { SENDGRID_API_KEY: wrongKey }),
    );
    expect(wrong.code).toBe(3);
    expect(wrong.stderr).toMatch(/401|unauthori[sz]ed|authenticat/i);
    w.emulator.faults.next({
      action: { kind: "status", status: 500, body: { errors: [{ message: `bad key ${key}`, field: null }] } },
      times: 20,
    });
    expect(record(outputs, "check 500", await fromFile(["check", "--json"])).code).toBe(3);
    w.emulator.faults.reset();

    // The key written inline in the config: allowed with a warning that must not quote it.
    const inline = join(w.dir, "inline.yaml");
    writeFileSync(
      inline,
      `accounts:\n  - name: main\n    api_key: "${key}"\n    base_url: ${w.emulator.url}\n`,
    );
    const inlined = record(
      outputs,
      "inline",
      await runCli(["check", "--config", inline], { env: {}, cwd: w.dir }),
    );
    expect(inlined.stderr).toContain("the API key is written in the config file");

    outputs.addFilesUnder(w.stateDir, "state_dir");
    expect(outputs.places).toEqual(expect.arrayContaining(["state_dir/audit.jsonl"]));
    outputs.expectFreeOf(key, wrongKey);
  });

  it("appears nowhere in the problems of a config that holds it in odd places", async () => {
    const key = leakCheckKey("config");
    world = await openWorld(key);
    const outputs = new Outputs();
    const file = join(world.dir, "bad.yaml");
    const variants: Record<string, string> = {
      everywhere: [
        "accounts:",
        `  - name: "${key}"`,
        `    api_key_env: "${key}"`,
        `    base_url: "https://${key}@api.example/"`,
        `  - name: second`,
        `    api_key_file: "${key}"`,
        `  - name: third`,
        `    api_key: "${key}"`,
        `    region: "${key}"`,
        `    on_behalf_of: 12`,
        `schedule: "${key}"`,
        `listen: "${key}"`,
        `thresholds: { warning: "${key}", critical: [${key}] }`,
        `log_level: "${key}"`,
        `"${key}": true`,
        "rotation:",
        `  rotate_before: "${key}"`,
        "  integrations:",
        `    - match: { name: "${key}", id: "${key}" }`,
        `      account: "${key}"`,
        `      source: { type: "${key}", path: "${key}" }`,
        "web:",
        `  basic_auth_users: { prometheus: "${key}", "${key}": 1 }`,
        `  bearer_token_file: "${key}"`,
        `  tls_server_config: { cert_file: "${key}", key_file: x, min_version: "${key}" }`,
      ].join("\n"),
      "broken yaml": `accounts:\n  - name: main\n    api_key: "${key}\nschedule: [${key}`,
      alias: `accounts:\n  - name: main\n    api_key: ${key}\nschedule: *${key}`,
    };
    for (const [label, yaml] of Object.entries(variants)) {
      writeFileSync(file, yaml);
      const loaded = loadConfig({ file, env: { SENDGRID_API_KEY: key }, cwd: world.dir });
      expect(loaded.ok, label).toBe(false);
      if (!loaded.ok) outputs.add(`${label} problems`, loaded.problems.join("\n"));
      const run = record(
        outputs,
        label,
        await runCli(["check", "--config", file], { env: {}, cwd: world.dir }),
      );
      expect(run.code, label).toBe(3);
      expect(run.stderr, label).toContain("invalid configuration");
    }
    // From environment variables, where the key may land in any override.
    const env = {
      SENDGRID_API_KEY: key,
      LISTEN: key,
      SCHEDULE: key,
      SSO_CERTS__THRESHOLDS__WARNING: key,
      SSO_CERTS__WEB__BASIC_AUTH_USERS: `{admin: ${key}}`,
    };
    record(outputs, "env", await runCli(["check"], { env, cwd: join(world.dir, "certs") }));
    outputs.expectFreeOf(key);
  });
});
