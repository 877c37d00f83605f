// The npm package as someone installs it: `npm pack` from a fresh clone (no dist/) builds it first, the
// tarball carries the LICENSE package.json names and source maps that hold their sources, and
// `npm i -g` of the tarball gives a `sendgrid-sso-certs` command that works.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { runProcess } from "../helpers/processes.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { PROJECT_ROOT, npmEnv, projectFile, readProjectText } from "./files.js";

const pkg = JSON.parse(readProjectText("package.json")) as { license: string; version: string };

describe("the npm package", () => {
  let dir: string;
  let prefix: string;
  let packed: string[];
  let tarball: string;
  let emulator: Emulator | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sso-package-"));
    const clone = join(dir, "clone");
    prefix = join(dir, "global");
    // A fresh clone: what git tracks or would track, nothing built. node_modules stands for `npm ci`.
    const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], {
      cwd: PROJECT_ROOT,
      encoding: "utf8",
    })
      .split("\0")
      .filter((file) => file !== "" && existsSync(projectFile(file)));
    for (const file of files) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      cpSync(projectFile(file), join(clone, file));
    }
    expect(existsSync(join(clone, "dist"))).toBe(false);
    symlinkSync(projectFile("node_modules"), join(clone, "node_modules"), "dir");

    const pack = await runProcess("npm", ["pack", "--json", "--pack-destination", dir], {
      cwd: clone,
      env: npmEnv(),
      timeoutMs: 240_000,
    });
    expect(pack.code, pack.stdout + pack.stderr).toBe(0);
    const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf("["))) as [
      { filename: string; files: { path: string }[] },
    ];
    packed = result.files.map((file) => file.path);
    tarball = join(dir, result.filename);

    const install = await runProcess(
      "npm",
      ["install", "--global", "--prefix", prefix, "--prefer-offline", "--no-audit", "--no-fund", tarball],
      { env: npmEnv(), timeoutMs: 240_000 },
    );
    expect(install.code, install.stdout + install.stderr).toBe(0);
    emulator = await startTestEmulator({ seed: { kind: "demo" } });
  }, 600_000);

  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("builds dist/ before packing (prepack), so the tarball holds the CLI", () => {
    expect(packed).toEqual(expect.arrayContaining(["package.json", "README.md", "LICENSE", "dist/cli.js"]));
    expect(packed.filter((path) => /^(src|test)\//.test(path))).toEqual([]);
  });

  it("ships a LICENSE that is the license package.json names", () => {
    expect(pkg.license).toBe("MIT");
    expect(readProjectText("LICENSE")).toMatch(/^MIT License\n/);
    expect(readProjectText("LICENSE")).toContain("Permission is hereby granted, free of charge");
  });

  it("ships each source map with the sources it points at", () => {
    const maps = packed.filter((path) => path.endsWith(".js.map"));
    expect(maps.length).toBeGreaterThan(10);
    const map = JSON.parse(
      readFileSync(join(prefix, "lib/node_modules/sendgrid-sso-certs/dist/cli.js.map"), "utf8"),
    ) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sourcesContent?.length).toBe(map.sources.length);
    expect(map.sourcesContent?.[0]).toContain("main(process.argv.slice(2)");
  });

  it("installs globally from the tarball as a working sendgrid-sso-certs command", async () => {
    const bin = join(prefix, "bin", "sendgrid-sso-certs");
    const env = {
      PATH: process.env.PATH,
      SENDGRID_API_KEY: TEST_API_KEY,
      SENDGRID_API_BASE_URL: emulator!.url,
      STATE_DIR: join(dir, "state"),
    };
    const version = await runProcess(bin, ["--version"], { env, cwd: dir });
    expect(version.stdout).toBe(`${pkg.version}\n`);
    const check = await runProcess(bin, ["check"], { env, cwd: dir });
    // The demo seed: Duo expired, "Entra ID" expiring in 5 days.
    expect(check.code, check.stderr).toBe(2);
    expect(check.stdout).toMatch(/^SENDGRID SSO CRITICAL - /);
  });
});
