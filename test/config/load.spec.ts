import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_CONFIG_FILE, loadConfig, type LoadResult } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from "../../src/core/durations.js";
import { createWorkspace, expectConfig, expectProblems, type Workspace } from "../helpers/workspace.js";

const EXAMPLE_FILE = resolve(import.meta.dirname, "../../config/config.example.yaml");

let workspace: Workspace;
beforeEach(() => {
  workspace = createWorkspace();
});
afterEach(() => {
  workspace.remove();
});

function load(yaml: string, env: Record<string, string> = { SENDGRID_API_KEY: "SG.test-key" }): LoadResult {
  const file = workspace.write("config.yaml", yaml);
  return loadConfig({ file, env, cwd: workspace.root });
}

describe("the shipped example", () => {
  it("loads with SENDGRID_API_KEY set, and shows the documented defaults", () => {
    const config = expectConfig(
      loadConfig({ file: EXAMPLE_FILE, env: { SENDGRID_API_KEY: "SG.example" }, cwd: workspace.root }),
    );
    const directory = resolve(import.meta.dirname, "../../config");

    expect(config.source).toBe(EXAMPLE_FILE);
    expect(config.accounts).toHaveLength(1);
    expect(config.accounts[0]).toMatchObject({
      name: "main",
      baseUrl: "https://api.sendgrid.com",
      onBehalfOf: null,
    });
    expect(config.accounts[0]!.apiKey.describe()).toBe("env SENDGRID_API_KEY");
    expect(config.accounts[0]!.apiKey.read()).toBe("SG.example");
    expect(config.schedule).toBe("*/5 * * * *");
    expect(config.listen).toEqual({ host: "0.0.0.0", port: 9469 });
    expect(config.thresholds).toEqual({ warningMs: 30 * DAY_MS, criticalMs: 7 * DAY_MS });
    expect(config.http).toEqual({ timeoutMs: 15 * SECOND_MS, maxConcurrency: 4, maxRetries: 5 });
    expect(config.stateDir).toBe(join(directory, "data"));
    expect(config.logLevel).toBe("info");
    expect(config.metrics).toEqual({ exposeRelative: false });
    expect(config.rotation).toMatchObject({
      enabled: false,
      dryRun: false,
      rotateBefore: { kind: "duration", ms: 30 * DAY_MS },
      overlapMs: 24 * HOUR_MS,
      deleteDisabledAfterMs: null,
      maxRotationsPerCycle: 5,
    });
    expect(config.rotation.integrations.map((rule) => rule.match)).toEqual([
      { name: "Okta" },
      { name: "Entra" },
    ]);
    expect(config.rotation.integrations[0]!.source).toEqual({
      type: "file",
      path: join(directory, "certs/okta"),
    });
    expect(config.rotation.integrations[1]!.source.type).toBe("metadata");
  });

  it("gives the same settings as no file at all, apart from the account name and file-relative paths", () => {
    const env = { SENDGRID_API_KEY: "SG.example" };
    const example = expectConfig(loadConfig({ file: EXAMPLE_FILE, env, cwd: workspace.root }));
    const bare = expectConfig(loadConfig({ env, cwd: workspace.root }));
    const comparable = (config: Config) => ({
      ...config,
      accounts: [],
      stateDir: "",
      source: "",
      rotation: {},
    });
    expect(comparable(example)).toEqual(comparable(bare));
    expect({ ...example.rotation, integrations: [] }).toEqual(bare.rotation);
  });
});

describe("problems", () => {
  it("reports every problem at once, one line each, naming the key path", () => {
    const problems = expectProblems(
      load(
        [
          "accounts:",
          "  - name: main",
          "    api_key_env: SENDGRID_API_KEY",
          "  - name: second",
          "    api_key_env: OTHER_KEY",
          "    api_key_file: ./key",
          'listen: "localhost:70000"',
          "thresholds: { warning: 30x, critical: 7d }",
          "http: { max_retries: -1, timeout: 15 }",
          "log_level: verbose",
          "rotation:",
          "  enabeld: true",
          "  rotate_before: 120%",
          "  integrations:",
          "    - match: { id: 1, name: Okta }",
          "      source: { type: ftp }",
        ].join("\n"),
        {},
      ),
    );
    expect(problems).toEqual([
      "accounts[0].api_key_env: environment variable SENDGRID_API_KEY is not set",
      "accounts[1]: give exactly one of api_key_env, api_key_file, api_key",
      'listen: "localhost:70000": port must be 0 to 65535',
      'thresholds.warning: "30x" is not a duration (use e.g. 90s, 15m, 24h, 30d)',
      "http.timeout: expected a duration (use e.g. 90s, 15m, 24h, 30d), got 15",
      "http.max_retries: must be at least 0",
      'log_level: expected one of trace, debug, info, warn, error, fatal, got "verbose"',
      'rotation.rotate_before: "120%" is out of range: a share of the lifetime must be 1% to 99%',
      "rotation.integrations[0].match: give exactly one of id, name",
      'rotation.integrations[0].source.type: expected one of file, metadata, okta, entra, got "ftp"',
      "rotation.enabeld: unknown key (did you mean enabled?)",
    ]);
  });

  it("names unknown keys at any depth, with a suggestion when one is close", () => {
    const problems = expectProblems(
      load(
        [
          "schedul: '* * * * *'",
          "accounts: [{ name: a, api_key_env: SENDGRID_API_KEY, regoin: eu }]",
          "http: { max_retry: 3 }",
          "metrics: { something_else: true }",
        ].join("\n"),
      ),
    );
    expect(problems).toEqual([
      "accounts[0].regoin: unknown key (did you mean region?)",
      "http.max_retry: unknown key (did you mean max_retries?)",
      "metrics.something_else: unknown key (expected one of: expose_relative)",
      "schedul: unknown key (did you mean schedule?)",
    ]);
  });

  it("reports a YAML syntax error with its file, line and column", () => {
    const problems = expectProblems(load("thresholds:\n  warning: 30d\n critical: 7d\n"));
    expect(problems).toEqual([
      `${join(workspace.root, "config.yaml")}:3:1: All mapping items must start at the same column`,
    ]);
  });

  it("explains an unquoted cron expression, once per line", () => {
    const problems = expectProblems(load("log_level: info\nschedule: */5 * * * *\n"));
    expect(problems).toEqual([
      `${join(workspace.root, "config.yaml")}:2:15: Unexpected alias at node end (quote values that start with * or &, e.g. "*/5 * * * *")`,
    ]);
  });

  it("reports duplicate keys, unresolved aliases and a document that is not a mapping", () => {
    expect(expectProblems(load("log_level: info\nlog_level: debug\n"))[0]).toMatch(
      /:2:1: Map keys must be unique$/,
    );
    expect(expectProblems(load("log_level: *level\n"))[0]).toMatch(/config\.yaml: Unresolved alias/);
    expect(expectProblems(load("- a\n- b\n"))).toEqual(["(top level): expected a mapping, got a list"]);
  });

  it("reads an empty file, and empty keys, as their defaults", () => {
    const config = expectConfig(load(""));
    expect(config.accounts.map((account) => account.name)).toEqual(["default"]);
    const emptied = expectConfig(load("accounts:\nthresholds:\nrotation:\n  # enabled: true\nlog_level:\n"));
    expect(emptied.accounts.map((account) => account.name)).toEqual(["default"]);
    expect(emptied.thresholds).toEqual(config.thresholds);
    expect(emptied.rotation).toEqual(config.rotation);
    expect(emptied.logLevel).toBe("info");
  });

  it("reports a missing --config file instead of falling back", () => {
    const file = join(workspace.root, "missing.yaml");
    const result = loadConfig({ file: "missing.yaml", env: { SENDGRID_API_KEY: "x" }, cwd: workspace.root });
    expect(result).toEqual({ ok: false, problems: [`config file ${file} does not exist`], source: file });
  });

  it("checks cross-field rules: names, thresholds order, rule accounts, ambiguous rules", () => {
    expect(
      expectProblems(
        load(
          "accounts:\n  - { name: a, api_key_env: SENDGRID_API_KEY }\n  - { name: a, api_key_env: SENDGRID_API_KEY }\n",
        ),
      ),
    ).toEqual(['accounts[1].name: "a" is already the name of accounts[0]; names must be unique']);
    expect(expectProblems(load("thresholds: { warning: 7d, critical: 30d }"))).toEqual([
      "thresholds.warning: must be longer than thresholds.critical (7d is not longer than 30d)",
    ]);
    const rules = [
      "rotation:",
      "  integrations:",
      "    - { account: nobody, match: { id: '1' }, source: { type: file, path: a } }",
      "    - { match: { name: X }, source: { type: file, path: a } }",
      "    - { match: { name: X }, source: { type: file, path: b } }",
    ].join("\n");
    expect(expectProblems(load(rules))).toEqual([
      "rotation.integrations[2].match: matches the same integrations as rotation.integrations[1]; a rule must be unambiguous",
    ]);
    expect(expectProblems(load(rules.split("\n").slice(0, 4).join("\n")))).toEqual([
      'rotation.integrations[0].account: no account is named "nobody" (accounts: default)',
    ]);
  });

  it("checks values: schedule, listen, URLs, names, region, durations", () => {
    const problems = expectProblems(
      load(
        [
          "accounts:",
          "  - name: 'has space'",
          "    api_key_env: SENDGRID_API_KEY",
          "    base_url: ftp://example.com",
          "    region: mars",
          "  - name: b",
          "    api_key_env: SENDGRID_API_KEY",
          "    base_url: https://user:pw@example.com",
          "schedule: '61 * * * *'",
          "listen: localhost",
          "http: { timeout: 1d, max_concurrency: 1.5 }",
          "rotation:",
          "  delete_disabled_after: forever",
          "  overlap: -1h",
          "  integrations:",
          "    - { match: { id: '1' }, source: { type: metadata, url: 'not a url' } }",
        ].join("\n"),
      ),
    );
    expect(problems).toEqual([
      "accounts[0].name: may only contain letters, digits, _, . and -",
      'accounts[0].base_url: "ftp://example.com" is not an http(s) URL',
      'accounts[0].region: expected one of global, eu, got "mars"',
      "accounts[1].base_url: must not contain a user name or password (they would end up in logs)",
      'schedule: "61 * * * *" is not a valid cron expression: 61 is a invalid expression for minute',
      'listen: "localhost" is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)',
      "http.max_concurrency: expected a whole number, got 1.5",
      'rotation.overlap: "-1h" is not a duration: negative durations are not allowed (use e.g. 90s, 15m, 24h, 30d)',
      'rotation.delete_disabled_after: "forever" is not a duration (use e.g. 90s, 15m, 24h, 30d)',
      'rotation.integrations[0].source.url: "not a url" is not a URL',
    ]);
  });

  it("says which keys are required", () => {
    expect(expectProblems(load("accounts: [{ api_key_env: SENDGRID_API_KEY }]"))).toEqual([
      "accounts[0].name: is required",
    ]);
    expect(expectProblems(load("accounts: []"))).toEqual(["accounts: give at least one account"]);
    expect(expectProblems(load("listen: 9469"))).toEqual([
      'listen: expected host:port in quotes, e.g. "0.0.0.0:9469", got 9469',
    ]);
    expect(expectProblems(load("rotation: { integrations: [{ match: { id: '1' } }] }"))).toEqual([
      "rotation.integrations[0].source: is required",
    ]);
  });
});

describe("resolved values", () => {
  it("resolves regions, base URLs, subusers, listen forms and rotation settings", () => {
    const config = expectConfig(
      load(
        [
          "accounts:",
          "  - { name: eu.sub-1, api_key_env: SENDGRID_API_KEY, region: eu, on_behalf_of: marketing }",
          "  - { name: proxy, api_key_env: SENDGRID_API_KEY, base_url: 'http://127.0.0.1:8080/sendgrid/' }",
          "listen: '[::1]:0'",
          "log_level: DEBUG",
          "metrics: { expose_relative: true }",
          "rotation:",
          "  enabled: true",
          "  dry_run: true",
          "  rotate_before: 33%",
          "  overlap: 0s",
          "  delete_disabled_after: 2w",
          "  max_rotations_per_cycle: 1",
          "  integrations:",
          "    - { account: proxy, match: { id: 42 }, source: { type: file, path: /certs }, rotate_before: 10d, overlap: 1h30m }",
          "    - { match: { name: Entra }, source: { type: metadata, url: 'https://idp.example/md.xml?x=1' } }",
        ].join("\n"),
      ),
    );
    expect(config.accounts.map(({ name, baseUrl, onBehalfOf }) => ({ name, baseUrl, onBehalfOf }))).toEqual([
      { name: "eu.sub-1", baseUrl: "https://api.eu.sendgrid.com", onBehalfOf: "marketing" },
      { name: "proxy", baseUrl: "http://127.0.0.1:8080/sendgrid", onBehalfOf: null },
    ]);
    expect(config.listen).toEqual({ host: "::1", port: 0 });
    expect(config.logLevel).toBe("debug");
    expect(config.metrics.exposeRelative).toBe(true);
    expect(config.rotation).toEqual({
      enabled: true,
      dryRun: true,
      rotateBefore: { kind: "percent", percent: 33 },
      overlapMs: 0,
      deleteDisabledAfterMs: 14 * DAY_MS,
      maxRotationsPerCycle: 1,
      integrations: [
        {
          account: "proxy",
          match: { id: "42" },
          source: { type: "file", path: "/certs" },
          rotateBefore: { kind: "duration", ms: 10 * DAY_MS },
          overlapMs: HOUR_MS + 30 * MINUTE_MS,
        },
        {
          account: null,
          match: { name: "Entra" },
          source: {
            type: "metadata",
            url: "https://idp.example/md.xml?x=1",
            entityId: null,
            requireSignature: false,
            signingCertificateFile: null,
          },
          rotateBefore: { kind: "percent", percent: 33 },
          overlapMs: 0,
        },
      ],
    });
  });

  it.each([
    [":9469", { host: "0.0.0.0", port: 9469 }],
    ["127.0.0.1:1", { host: "127.0.0.1", port: 1 }],
    ["metrics.internal:65535", { host: "metrics.internal", port: 65535 }],
    ["[::]:9469", { host: "::", port: 9469 }],
  ])("reads listen %j", (listen, expected) => {
    expect(expectConfig(load(`listen: "${listen}"`)).listen).toEqual(expected);
  });

  it("resolves paths written in the file against the file's directory", () => {
    workspace.write("conf/secrets/key", "SG.from-file\n");
    const file = workspace.write(
      "conf/app/config.yaml",
      [
        "state_dir: ./state",
        "accounts: [{ name: a, api_key_file: ../secrets/key }]",
        "rotation: { integrations: [{ match: { name: X }, source: { type: file, path: certs/x } }] }",
      ].join("\n"),
    );
    const config = expectConfig(loadConfig({ file, env: {}, cwd: workspace.root }));
    expect(config.stateDir).toBe(join(workspace.root, "conf/app/state"));
    expect(config.accounts[0]!.apiKey.describe()).toBe(`file ${join(workspace.root, "conf/secrets/key")}`);
    expect(config.accounts[0]!.apiKey.read()).toBe("SG.from-file");
    expect(config.rotation.integrations[0]!.source).toEqual({
      type: "file",
      path: join(workspace.root, "conf/app/certs/x"),
    });
  });

  it("resolves defaults and environment paths against the working directory", () => {
    const file = workspace.write("conf/config.yaml", "log_level: info\n");
    const env = { SENDGRID_API_KEY: "x" };
    expect(expectConfig(loadConfig({ file, env, cwd: workspace.root })).stateDir).toBe(
      join(workspace.root, "data"),
    );
    const fromEnv = loadConfig({ file, env: { ...env, STATE_DIR: "var/state" }, cwd: workspace.root });
    expect(expectConfig(fromEnv).stateDir).toBe(join(workspace.root, "var/state"));
  });
});

describe("environment overrides", () => {
  const file = [
    "accounts:",
    "  - { name: a, api_key_env: SENDGRID_API_KEY, base_url: 'https://a.example' }",
    "  - { name: b, api_key_env: SENDGRID_API_KEY, region: eu }",
    "schedule: '0 * * * *'",
    "rotation: { enabled: false }",
  ].join("\n");

  it("lets the environment win over the file, with typed generic values", () => {
    const config = expectConfig(
      load(file, {
        SENDGRID_API_KEY: "SG.k",
        SENDGRID_API_BASE_URL: "http://127.0.0.1:3000/",
        SCHEDULE: "*/10 * * * * *",
        LISTEN: ":9100",
        STATE_DIR: "/var/lib/sso",
        LOG_LEVEL: "warn",
        SSO_CERTS__ROTATION__ENABLED: "true",
        SSO_CERTS__THRESHOLDS__WARNING: "20d",
        SSO_CERTS__HTTP__MAX_RETRIES: "3",
        SSO_CERTS__ACCOUNTS__1__ON_BEHALF_OF: "sub",
        SSO_CERTS__ACCOUNTS__1__BASE_URL: "https://b.example",
        SSO_CERTS__ROTATION__INTEGRATIONS: "[{match: {id: 7}, source: {type: file, path: certs}}]",
        SSO_CERTS__LOG_LEVEL: "",
      }),
    );
    expect(config.accounts.map((account) => [account.baseUrl, account.onBehalfOf])).toEqual([
      ["http://127.0.0.1:3000", null],
      ["https://b.example", "sub"],
    ]);
    expect(config.schedule).toBe("*/10 * * * * *");
    expect(config.listen).toEqual({ host: "0.0.0.0", port: 9100 });
    expect(config.stateDir).toBe("/var/lib/sso");
    expect(config.logLevel).toBe("warn");
    expect(config.rotation.enabled).toBe(true);
    expect(config.thresholds.warningMs).toBe(20 * DAY_MS);
    expect(config.http.maxRetries).toBe(3);
    expect(config.rotation.integrations[0]).toMatchObject({
      match: { id: "7" },
      source: { type: "file", path: join(workspace.root, "certs") },
    });
  });

  it("names the variable in problems, including one that names no key", () => {
    const problems = expectProblems(
      load(file, {
        SENDGRID_API_KEY: "SG.k",
        LISTEN: "nowhere",
        SSO_CERTS__ROTATION__ENABLED: "maybe",
        SSO_CERTS__ROTATION__ENABELD: "true",
        SSO_CERTS__THRESHOLDS__WARNING: "20 days",
        SSO_CERTS__NO__SUCH__KEY: "1",
        SSO_CERTS__SCHEDULE__MINUTE: "5",
        SSO_CERTS__ACCOUNTS__5__NAME: "x",
        SSO_CERTS__ROTATION____ENABLED: "true",
        SSO_CERTS__ROTATION__INTEGRATIONS: "[{match: ",
      }),
    );
    expect(problems).toEqual([
      "SSO_CERTS__ROTATION____ENABLED: empty level in the name (use SSO_CERTS__SECTION__KEY)",
      "rotation.integrations (from SSO_CERTS__ROTATION__INTEGRATIONS): is not valid YAML: Flow map in block collection must be sufficiently indented and end with a }",
      "schedule.minute (from SSO_CERTS__SCHEDULE__MINUTE): schedule is not a mapping",
      "accounts[5].name (from SSO_CERTS__ACCOUNTS__5__NAME): accounts has 2 item(s), so there is no [5]",
      'listen (from LISTEN): "nowhere" is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)',
      'thresholds.warning (from SSO_CERTS__THRESHOLDS__WARNING): "20 days" is not a duration (use e.g. 90s, 15m, 24h, 30d)',
      'rotation.enabled (from SSO_CERTS__ROTATION__ENABLED): expected true or false, got "maybe"',
      "rotation.enabeld (from SSO_CERTS__ROTATION__ENABELD): unknown key (did you mean enabled?)",
      "no (from SSO_CERTS__NO__SUCH__KEY): unknown key (expected one of: accounts, schedule, listen, thresholds, http, state_dir, log_level, metrics, rotation, web)",
    ]);
  });

  it("overrides the default account when there is no file", () => {
    const config = expectConfig(
      loadConfig({
        env: { SENDGRID_API_KEY: "SG.k", SSO_CERTS__ACCOUNTS__0__ON_BEHALF_OF: "sub" },
        cwd: workspace.root,
      }),
    );
    expect(config.accounts.map((account) => [account.name, account.onBehalfOf])).toEqual([
      ["default", "sub"],
    ]);
  });
});

describe("without a config file", () => {
  it("builds one account from SENDGRID_API_KEY and SENDGRID_API_BASE_URL", () => {
    const env: Record<string, string | undefined> = {
      SENDGRID_API_KEY: " SG.from-env\n",
      SENDGRID_API_BASE_URL: "http://localhost:3000",
    };
    const config = expectConfig(loadConfig({ env, cwd: workspace.root }));
    expect(config.source).toBe("environment");
    expect(config.accounts).toHaveLength(1);
    expect(config.accounts[0]).toMatchObject({
      name: "default",
      baseUrl: "http://localhost:3000",
      onBehalfOf: null,
    });
    expect(config.accounts[0]!.apiKey.read()).toBe("SG.from-env");
    expect(config.stateDir).toBe(join(workspace.root, "data"));

    env.SENDGRID_API_KEY = "SG.rotated";
    expect(config.accounts[0]!.apiKey.read()).toBe("SG.rotated");
  });

  it("says the key is missing", () => {
    expect(loadConfig({ env: {}, cwd: workspace.root })).toEqual({
      ok: false,
      problems: ["accounts[0].api_key_env: environment variable SENDGRID_API_KEY is not set"],
      source: "environment",
    });
    expect(expectProblems(loadConfig({ env: { SENDGRID_API_KEY: " " }, cwd: workspace.root }))).toEqual([
      "accounts[0].api_key_env: environment variable SENDGRID_API_KEY is empty",
    ]);
  });

  it("uses config/config.yaml under the working directory when present", () => {
    const file = workspace.write(DEFAULT_CONFIG_FILE, "log_level: error\n");
    const config = expectConfig(
      loadConfig({ file: null, env: { SENDGRID_API_KEY: "x" }, cwd: workspace.root }),
    );
    expect(config.source).toBe(file);
    expect(config.logLevel).toBe("error");
  });
});

describe("API keys", () => {
  const secrets = [
    "SG.inline-secret",
    "SG.pasted-into-env-field",
    "SG.pasted-into-file-field",
    "SG.second-source",
    "987654321",
    "SG.typo-key",
    "SG.env-secret",
    "SG.env-override-secret",
  ];

  it("never appear in a problem, whatever the mistake", () => {
    const result = load(
      [
        "accounts:",
        "  - { name: a, api_key: SG.inline-secret, region: mars }",
        "  - { name: b, api_key_env: SG.pasted-into-env-field }",
        "  - { name: c, api_key_file: SG.pasted-into-file-field }",
        "  - { name: d, api_key: SG.second-source, api_key_env: SENDGRID_API_KEY }",
        "  - { name: e, api_key: 987654321 }",
        "  - { name: f, apikey: SG.typo-key }",
        "  - { name: g, api_key_env: SENDGRID_API_KEY, base_url: 'SG.env-secret' }",
        "  - { name: h, api_key_env: SENDGRID_API_KEY }",
      ].join("\n"),
      { SENDGRID_API_KEY: "SG.env-secret", SSO_CERTS__ACCOUNTS__7__API_KEY: "[SG.env-override-secret]" },
    );
    const problems = expectProblems(result);
    expect(problems).toEqual([
      'accounts[0].region: expected one of global, eu, got "mars"',
      "accounts[1].api_key_env: must be the name of an environment variable (letters, digits, _), not a key",
      "accounts[2].api_key_file: looks like an API key, not a file path",
      "accounts[3]: give exactly one of api_key_env, api_key_file, api_key",
      "accounts[4].api_key: expected a string, got a number",
      "accounts[5].apikey: unknown key (did you mean api_key?)",
      "accounts[6].base_url: the value (hidden: it looks like an API key) is not a URL",
      "accounts[7].api_key (from SSO_CERTS__ACCOUNTS__7__API_KEY): expected a string, got a list",
    ]);
    for (const secret of secrets) expect(problems.join("\n")).not.toContain(secret);
  });

  it("are scrubbed from problems even when they do not look like SendGrid keys", () => {
    workspace.write("key.txt", "file-key-without-prefix\n");
    const problems = expectProblems(
      load(
        [
          "accounts:",
          "  - { name: a, api_key_env: SENDGRID_API_KEY, base_url: plain-key-without-prefix }",
          "  - { name: b, api_key_file: key.txt }",
          "listen: file-key-without-prefix",
        ].join("\n"),
        { SENDGRID_API_KEY: "plain-key-without-prefix" },
      ),
    );
    expect(problems).toEqual([
      'accounts[0].base_url: "[redacted]" is not a URL',
      'listen: "[redacted]" is not host:port (use e.g. 0.0.0.0:9469, :9469 or [::1]:9469)',
    ]);
  });

  it("never appear in a YAML syntax error", () => {
    const problems = expectProblems(load('accounts:\n  - name: a\n    api_key: "SG.unterminated-secret\n'));
    expect(problems.join("\n")).not.toContain("SG.unterminated");
    expect(problems[0]).toMatch(/config\.yaml:\d+:\d+: Missing closing "quote$/);
  });

  it("are allowed inline, with a warning that names no value", () => {
    const result = load("accounts: [{ name: a, api_key: ' SG.inline ' }]");
    expect(result.ok && result.warnings).toEqual([
      "accounts[0].api_key: the API key is written in the config file; prefer api_key_env or api_key_file",
    ]);
    const config = expectConfig(result);
    expect(config.accounts[0]!.apiKey.read()).toBe("SG.inline");
    expect(config.accounts[0]!.apiKey.describe()).not.toContain("SG.inline");
    expect(JSON.stringify(config)).not.toContain("SG.inline");
  });

  it("come from the file named by api_key_file, which must exist and not be empty", () => {
    workspace.write("empty-key", "\n");
    const problems = expectProblems(
      load(
        [
          "accounts:",
          "  - { name: a, api_key_file: missing-key }",
          "  - { name: b, api_key_file: empty-key }",
          "  - { name: c, api_key_file: . }",
        ].join("\n"),
      ),
    );
    expect(problems).toEqual([
      `accounts[0].api_key_file: file ${join(workspace.root, "missing-key")} does not exist`,
      `accounts[1].api_key_file: file ${join(workspace.root, "empty-key")} is empty`,
      `accounts[2].api_key_file: file ${workspace.root} is a directory`,
    ]);
  });
});
