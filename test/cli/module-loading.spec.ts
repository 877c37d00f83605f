// Each command loads only what it runs. `--version`, the help texts and usage errors load no package and
// no command's code; `check` loads no emulator, demo, rotation executor, daemon, XML, Okta/Graph or
// HTTP-server code; `run` loads an IdP source's module only for a source type its configuration names,
// and neither TLS nor bcryptjs when `web` asks for neither. Asserted on the modules a real process of the
// built CLI loads (recorded by a preload, fixtures/module-log.mjs), never on time.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { VERSION } from "../../src/version.js";
import { freePort, runProcess, startProcess, waitFor, type Finished } from "../helpers/processes.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";

const PRELOAD = new URL("fixtures/module-log.mjs", import.meta.url).href;

interface Loaded {
  /** Modules of the built CLI, relative to it: `cli/main.js`, `sources/okta.js`. */
  readonly own: string[];
  /** Packages from node_modules: `undici`, `@peculiar/x509`. */
  readonly packages: string[];
  /** Files of packages, relative to node_modules: `undici/lib/dispatcher/pool.js`. */
  readonly packageFiles: string[];
  /** Node's own internal modules: `internal/deps/undici/undici`. */
  readonly internals: string[];
}

function loadedFrom(log: string): Loaded {
  const builtSrc = inject("builtSrc");
  const own = new Set<string>();
  const packages = new Set<string>();
  const packageFiles = new Set<string>();
  const internals = new Set<string>();
  for (const line of readFileSync(log, "utf8").split("\n")) {
    if (line.startsWith("node-internal:")) internals.add(line.slice("node-internal:".length));
    if (!line.startsWith("file:")) continue;
    const path = fileURLToPath(line);
    const inPackage = /[\\/]node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)[\\/](.*)$/.exec(path);
    if (inPackage) {
      const name = inPackage[1]!.replace("\\", "/");
      packages.add(name);
      packageFiles.add(`${name}/${inPackage[2]!.split(sep).join("/")}`);
    } else if (path.startsWith(builtSrc + sep)) own.add(relative(builtSrc, path).split(sep).join("/"));
  }
  return {
    own: [...own].sort(),
    packages: [...packages].sort(),
    packageFiles: [...packageFiles].sort(),
    internals: [...internals].sort(),
  };
}

let dir: string;
let emulator: Emulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "sso-module-loading-"));
  emulator = await startTestEmulator({ seed: { kind: "demo" } });
});

afterAll(async () => {
  await emulator?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The CLI's process with the module log on: its arguments after `node --import <preload> cli.js`. */
function cliArgs(args: readonly string[]): string[] {
  return ["--import", PRELOAD, join(inject("builtSrc"), "cli.js"), ...args];
}

const environment = (log: string) => ({
  MODULE_LOG: log,
  SENDGRID_API_KEY: TEST_API_KEY,
  SENDGRID_API_BASE_URL: emulator.url,
  OKTA_API_TOKEN: "00test-okta-token",
});

async function runCli(name: string, args: readonly string[]): Promise<Finished & Loaded> {
  const log = join(dir, `${name}.log`);
  const finished = await runProcess(process.execPath, cliArgs(args), { cwd: dir, env: environment(log) });
  return { ...finished, ...loadedFrom(log) };
}

/** Own modules under these prefixes, and these packages, that were loaded. */
function loadedOf(loaded: Loaded, own: readonly string[], packages: readonly string[]): string[] {
  return [
    ...loaded.own.filter((path) => own.some((prefix) => path.startsWith(prefix))),
    ...loaded.packages.filter((name) => packages.includes(name)),
  ];
}

describe("--version, help and usage errors", () => {
  it.each([
    ["--version", ["--version"], 0],
    ["--help", ["--help"], 0],
    ["a command's --help", ["check", "--help"], 0],
    ["a group's --help", ["integrations", "--help"], 0],
    ["an unknown option", ["check", "--bogus"], 2],
    ["a missing option value", ["rotate", "--integration"], 2],
    ["an unknown command", ["nope"], 2],
  ])("%s loads no package and no command's code", async (name, args, code) => {
    const result = await runCli(name.replaceAll(/\W+/g, "-"), args);
    expect(result.code, result.stderr).toBe(code);
    if (args[0] === "--version") expect(result.stdout).toBe(`${VERSION}\n`);
    expect(result.own).toContain("cli/main.js");
    expect(result.packages).toEqual([]);
    expect(result.own.filter((path) => path.startsWith("cli/commands/"))).toEqual([]);
  });
});

describe("check", () => {
  it("loads the scan and nothing of the emulator, demo, rotation, daemon, XML, IdP clients or auth", async () => {
    const result = await runCli("check", ["check"]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stdout).toMatch(/^SENDGRID SSO CRITICAL - /);
    // The log sees what check needs, ES modules and CommonJS packages alike.
    expect(result.own).toEqual(expect.arrayContaining(["cli/commands/check.js", "scan/inventory.js"]));
    expect(result.packages).toEqual(expect.arrayContaining(["undici", "pino"]));
    const unwanted = loadedOf(
      result,
      [
        "emulator/server.js",
        "emulator/seeds.js",
        "cli/commands/demo",
        "cli/commands/emulator.js",
        "cli/commands/rotation.js",
        "cli/commands/run.js",
        "rotation/rotator.js",
        "rotation/setup.js",
        "daemon.js",
        "server/http.js",
        "server/auth.js",
        "server/tls.js",
        "metrics/",
        "sources/metadata.js",
        "sources/okta.js",
        "sources/entra.js",
        "okta/",
        "graph/",
        "certs/generate.js",
      ],
      ["xml-crypto", "fast-xml-parser", "@xmldom/xmldom", "xpath", "bcryptjs", "prom-client", "pino-pretty"],
    );
    expect(unwanted).toEqual([]);
    expectPoolAlone(result);
  });
});

/** undici's Pool from its file, not undici's index with fetch, which makes Node load its own undici. */
function expectPoolAlone(loaded: Loaded): void {
  expect(loaded.packageFiles).toContain("undici/lib/dispatcher/pool.js");
  expect(loaded.packageFiles).not.toContain("undici/index.js");
  // Its global dispatcher (an Agent made on load) only for the metadata source.
  expect(loaded.packageFiles).not.toContain("undici/lib/global.js");
  expect(loaded.internals).toContain("internal/modules/cjs/loader");
  expect(loaded.internals.filter((name) => name.includes("undici"))).toEqual([]);
}

describe("run", () => {
  /** A daemon with these rotation rules, until its first scan is done and its pages served once. */
  async function daemonWith(name: string, rules: string): Promise<Loaded> {
    const port = await freePort();
    const config = join(dir, `${name}.yaml`);
    writeFileSync(
      config,
      `accounts:
  - name: main
    api_key_env: SENDGRID_API_KEY
    base_url: ${emulator.url}
listen: "127.0.0.1:${port}"
http: { max_retries: 0 }
state_dir: ${join(dir, `${name}-state`)}
rotation:
  enabled: true
  integrations:
${rules}`,
    );
    const log = join(dir, `${name}.log`);
    const daemon = startProcess(process.execPath, cliArgs(["run", "--config", config]), {
      cwd: dir,
      env: environment(log),
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      await waitFor("the first scan", async () => (await fetch(`${url}/readyz`)).ok, {
        timeoutMs: 60_000,
        diagnostics: daemon.output,
      });
      for (const path of ["/", "/metrics"]) expect((await fetch(url + path)).status).toBe(200);
    } finally {
      const finished = await daemon.stop(10_000);
      expect(finished.code, daemon.output()).toBe(0);
    }
    return loadedFrom(log);
  }

  const IDP_SOURCES = ["sources/metadata.js", "sources/okta.js", "sources/entra.js", "okta/", "graph/"];
  const XML = ["xml-crypto", "fast-xml-parser", "@xmldom/xmldom", "xpath"];

  it("with file rules and no web settings: no IdP source, XML, TLS, bcryptjs, emulator or other command", async () => {
    const loaded = await daemonWith(
      "run-file",
      `    - match: { name: "Entra ID" }\n      source: { type: file, path: ${join(dir, "certs")} }\n`,
    );
    expect(loaded.own).toEqual(
      expect.arrayContaining(["daemon.js", "sources/registry.js", "sources/file.js", "server/http.js"]),
    );
    expect(loaded.packages).toEqual(expect.arrayContaining(["undici", "prom-client", "pino"]));
    const unwanted = loadedOf(
      loaded,
      [...IDP_SOURCES, "server/tls.js", "emulator/server.js", "emulator/seeds.js", "cli/commands/check.js"],
      [...XML, "bcryptjs", "pino-pretty"],
    );
    expect(unwanted).toEqual([]);
    expectPoolAlone(loaded);
  });

  it("with metadata and okta rules: those two sources' modules, not entra's", async () => {
    const loaded = await daemonWith(
      "run-idp",
      `    - match: { name: "Okta" }
      source: { type: metadata, url: "https://127.0.0.1:9/metadata.xml" }
    - match: { name: "Duo" }
      source: { type: okta, org_url: "https://127.0.0.1:9", app_id: 0oa1b2c3d4e5f6g7h8i9, api_token_env: OKTA_API_TOKEN }
`,
    );
    expect(loaded.own).toEqual(expect.arrayContaining(["sources/metadata.js", "sources/okta.js"]));
    expect(loaded.packages).toEqual(expect.arrayContaining(["fast-xml-parser"]));
    expect(loadedOf(loaded, ["sources/entra.js", "graph/"], [])).toEqual([]);
  });
});
