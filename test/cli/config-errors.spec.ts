import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/run-cli.js";

const HEADER = "sendgrid-sso-certs: invalid configuration:";
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sso-config-errors-"));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** `run --config FILE` with `yaml` as the file; every config here is invalid, so nothing starts. */
async function run(yaml: string, env: Record<string, string> = {}) {
  const file = join(dir, "config.yaml");
  writeFileSync(file, yaml);
  return runCli(["run", "--config", file], { env, cwd: dir });
}

/** The problem lines under the header, without their indentation. */
function problems(stderr: string): string[] {
  const [header, ...lines] = stderr.split("\n");
  expect(header).toBe(HEADER);
  expect(lines.pop()).toBe("");
  for (const line of lines) expect(line).toMatch(/^ {2}\S/);
  return lines.map((line) => line.slice(2));
}

describe("run with a bad configuration", () => {
  it("stops with exit 2 and one line per problem, each naming its key path, all at once", async () => {
    const result = await run(
      `accounts:
  - name: main
    api_key_env: SENDGRID_API_KEY
    base_url: not a url
thresholds: { warning: 30x, critical: 7d }
listen: "nowhere"
http: { max_concurrency: 0 }
colour: blue
`,
      { SENDGRID_API_KEY: "SG.a-valid-looking-key-000" },
    );
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(problems(result.stderr)).toEqual([
      'accounts[0].base_url: "not a url" is not a URL',
      'listen: "nowhere" is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)',
      'thresholds.warning: "30x" is not a duration (use e.g. 90s, 15m, 24h, 30d)',
      "http.max_concurrency: must be at least 1",
      "colour: unknown key (expected one of: accounts, schedule, listen, thresholds, http, state_dir, log_level, metrics, rotation, web)",
    ]);
  });

  it("names the environment variable that set a bad value", async () => {
    const result = await run(`accounts:\n  - name: main\n    api_key_env: SENDGRID_API_KEY\n`, {
      SENDGRID_API_KEY: "SG.a-valid-looking-key-000",
      LISTEN: "x",
      SSO_CERTS__THRESHOLDS__CRITICAL: "soon",
      SSO_CERTS__HTTP__MAX_RETRIES: "-1",
    });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual([
      'listen (from LISTEN): "x" is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)',
      'thresholds.critical (from SSO_CERTS__THRESHOLDS__CRITICAL): "soon" is not a duration (use e.g. 90s, 15m, 24h, 30d)',
      "http.max_retries (from SSO_CERTS__HTTP__MAX_RETRIES): must be at least 0",
    ]);
  });

  it("reports nested rotation problems with list indexes, and a missing key file", async () => {
    const result = await run(`accounts:
  - name: main
    api_key_file: ./missing-key
rotation:
  enabled: yes
  rotate_before: 120%
  integrations:
    - match: {}
      source: { type: ftp }
`);
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual([
      `accounts[0].api_key_file: file ${join(dir, "missing-key")} does not exist`,
      'rotation.enabled: expected true or false, got "yes"',
      'rotation.rotate_before: "120%" is out of range: a share of the lifetime must be 1% to 99%',
      "rotation.integrations[0].match: give exactly one of id, name",
      'rotation.integrations[0].source.type: expected one of file, metadata, okta, entra, got "ftp"',
    ]);
  });

  it("points at the line and column of a YAML syntax error, with the usual fix", async () => {
    const result = await run(`accounts:\n  - name: main\n    api_key_env: K\nschedule: */5 * * * *\n`, {
      K: "SG.a-valid-looking-key-000",
    });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual([
      `${join(dir, "config.yaml")}:4:15: Unexpected alias at node end (quote values that start with * or &, e.g. "*/5 * * * *")`,
    ]);
  });

  it("says so when the config file does not exist", async () => {
    const result = await runCli(["run", "--config", "nope.yaml"], { env: {}, cwd: dir });
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual([`config file ${join(dir, "nope.yaml")} does not exist`]);
  });

  it("reports duplicate account names", async () => {
    const result = await run(
      `accounts:\n  - { name: main, api_key_env: K }\n  - { name: main, api_key_env: K }\nlisten: nope\n`,
      { K: "SG.a-valid-looking-key-000" },
    );
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toEqual([
      'accounts[1].name: "main" is already the name of accounts[0]; names must be unique',
      'listen: "nope" is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)',
    ]);
  });
});

describe("run with a bad configuration never shows an API key", () => {
  const inline = "SG.inline-secret-value-0123456789";
  const fromEnv = "SG.env-secret-value-9876543210";

  it("hides a key pasted where a URL or a variable name belongs", async () => {
    const result = await run(
      `accounts:
  - name: main
    api_key: ${inline}
    base_url: ${inline}
  - name: eu
    api_key_env: ${fromEnv}
schedule: "not cron"
`,
      { MY_KEY: fromEnv },
    );
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(inline);
    expect(result.stdout + result.stderr).not.toContain(fromEnv);
    expect(result.stdout + result.stderr).not.toContain("inline-secret");
    expect(problems(result.stderr)).toEqual([
      "accounts[0].base_url: the value (hidden: it looks like an API key) is not a URL",
      "accounts[1].api_key_env: must be the name of an environment variable (letters, digits, _), not a key",
      'schedule: "not cron" is not a valid cron expression: expected 5 or 6 fields but got 2',
    ]);
  });

  it("hides the value of the key variable wherever else it appears", async () => {
    const result = await run(
      `accounts:\n  - name: main\n    api_key_env: MY_KEY\nstate_dir: ""\nlog_level: ${fromEnv.slice(3)}\n`,
      { MY_KEY: fromEnv.slice(3) },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(fromEnv.slice(3));
    expect(problems(result.stderr).map((line) => line.split(":")[0])).toEqual(["state_dir", "log_level"]);
  });
});
