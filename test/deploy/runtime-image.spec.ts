// The container image without a Docker engine. The Dockerfile is parsed and held to what the deployment
// needs (Node 24, non-root, HEALTHCHECK, EXPOSE 9469, STOPSIGNAL, OCI labels). Its runtime stage is then
// reproduced in a temp directory outside the project: the run's build, `npm pack`, unpacked, `npm ci
// --omit=dev` with the project's lock file; the packed CLI prints its version, runs `check` against the
// emulator, and runs the daemon until SIGTERM while the Dockerfile's own HEALTHCHECK command probes it. A
// runtime import of a dev dependency, or a file the package forgets to ship, fails here.

import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { Emulator } from "../../src/emulator/server.js";
import { freePort, runProcess, startProcess, waitFor, type Finished } from "../helpers/processes.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import {
  execForm,
  keyValues,
  nodeProcess,
  parseDockerfile,
  runtimeEnv,
  type Instruction,
} from "./dockerfile.js";
import { npmEnv, projectFile, readProjectText } from "./files.js";

const pkg = JSON.parse(readProjectText("package.json")) as {
  version: string;
  bin: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const dockerfile = parseDockerfile(readProjectText("Dockerfile"));
const stages = Math.max(...dockerfile.map((instruction) => instruction.stage)) + 1;
const runtime = dockerfile.filter((instruction) => instruction.stage === stages - 1);
const build = dockerfile.filter((instruction) => instruction.stage === 0);
const imageEnv = runtimeEnv(dockerfile);
const imageNode = nodeProcess(dockerfile);

function only(instructions: readonly Instruction[], keyword: string): Instruction {
  const found = instructions.filter((instruction) => instruction.keyword === keyword);
  if (found.length !== 1) throw new Error(`expected one ${keyword} in the stage, found ${found.length}`);
  return found[0]!;
}

function all(instructions: readonly Instruction[], keyword: string): string {
  return instructions
    .filter((instruction) => instruction.keyword === keyword)
    .map((instruction) => instruction.args)
    .join("\n");
}

/** The HEALTHCHECK's command, exec form, with its options (--interval=...) split off. */
function healthcheckCommand(): string[] {
  const args = only(runtime, "HEALTHCHECK").args;
  const match = /^((?:--\S+\s+)*)CMD\s+(\[.*\])$/.exec(args);
  if (!match) throw new Error(`HEALTHCHECK is not "[options] CMD [exec form]": ${args}`);
  return execForm(match[2]!);
}

/** The runtime stage's `npm ci --omit=dev ...` as arguments to npm. */
function runtimeInstall(): string[] {
  const command = /\bnpm (ci --omit=dev(?: --[\w-]+(?:=\S+)?)*)/.exec(all(runtime, "RUN"))?.[1];
  if (!command) throw new Error("the runtime stage runs no `npm ci --omit=dev`");
  return command.split(" ");
}

function runHealthcheck(env: NodeJS.ProcessEnv): Promise<Finished> {
  const [command, ...args] = healthcheckCommand();
  expect(command).toBe("node");
  return runProcess(process.execPath, args, { env, timeoutMs: 60_000 });
}

describe("Dockerfile", () => {
  it("builds on node:24-slim with the dev dependencies and runs on node:24-slim without them", () => {
    expect(stages).toBe(2);
    expect(only(build, "FROM").args).toMatch(/^node:24-slim AS build$/i);
    expect(only(runtime, "FROM").args).toMatch(/^node:24-slim$/);
    expect(all(build, "RUN")).toMatch(/\bnpm ci\b(?!.*--omit)/);
    expect(all(build, "RUN")).toContain("npm run build");
    expect(all(runtime, "RUN")).toMatch(/\bnpm ci --omit=dev\b/);
    expect(all(runtime, "RUN")).not.toContain("npm run build");
    expect(all(runtime, "COPY")).toContain("--from=build");
  });

  it("runs as a non-root user with the config, state and port the deployment files expect", () => {
    expect(only(runtime, "USER").args).toBe("1000:1000");
    expect(imageEnv.get("NODE_ENV")).toBe("production");
    expect(imageEnv.get("STATE_DIR")).toBe("/var/lib/sendgrid-sso-certs");
    // Bounded young and old generations: without them V8 holds far more garbage than the daemon's data.
    expect(imageEnv.get("NODE_OPTIONS")).toMatch(/^--max-semi-space-size=\d+ --max-old-space-size=\d+$/);
    expect(only(runtime, "VOLUME").args).toBe(imageEnv.get("STATE_DIR"));
    expect(only(runtime, "EXPOSE").args).toBe("9469");
    expect(only(runtime, "STOPSIGNAL").args).toBe("SIGTERM");
    expect(execForm(only(runtime, "ENTRYPOINT").args)).toEqual([
      "node",
      "--optimize-for-size",
      "/app/dist/cli.js",
    ]);
    // glibc's per-thread arenas and dynamic trim threshold hold freed memory: bounded in the image.
    expect(imageEnv.get("MALLOC_ARENA_MAX")).toBe("2");
    expect(execForm(only(runtime, "CMD").args)).toEqual([
      "run",
      "--config",
      "/etc/sendgrid-sso-certs/config.yaml",
    ]);
    expect(`/app/${pkg.bin["sendgrid-sso-certs"]}`).toBe("/app/dist/cli.js");
  });

  it("carries the OCI labels, with the package's version and license", () => {
    const labels = keyValues(only(runtime, "LABEL").args);
    const args = keyValues(all(runtime, "ARG"));
    expect([...labels.keys()].sort()).toEqual(
      ["description", "licenses", "source", "title", "version"].map(
        (key) => `org.opencontainers.image.${key}`,
      ),
    );
    expect(labels.get("org.opencontainers.image.title")).toBe("sendgrid-sso-certs");
    expect(labels.get("org.opencontainers.image.licenses")).toBe("MIT");
    expect(labels.get("org.opencontainers.image.version")).toBe("${VERSION}");
    expect(args.get("VERSION")).toBe(pkg.version);
  });

  it("copies into the build stage what package.json ships", () => {
    const copied = all(build, "COPY");
    for (const entry of [...pkg.files, "README.md", "package-lock.json"]) {
      const source = entry === "dist" ? "src" : entry;
      expect(copied, entry).toContain(source);
    }
  });

  describe("HEALTHCHECK", () => {
    let server: Server;
    let status = 200;
    let port: number;
    beforeAll(async () => {
      server = createServer((request, response) => {
        response.writeHead(request.url === "/healthz" ? status : 404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("passes while /healthz answers 200, on the port of LISTEN", async () => {
      status = 200;
      const result = await runHealthcheck({ LISTEN: `0.0.0.0:${port}` });
      expect(result.code, result.stderr).toBe(0);
    });

    it("fails when /healthz answers 503 or nothing listens", async () => {
      status = 503;
      expect((await runHealthcheck({ LISTEN: `127.0.0.1:${port}` })).code).toBe(1);
      const closed = await freePort();
      expect((await runHealthcheck({ LISTEN: `:${closed}` })).code).toBe(1);
    });
  });
});

describe("the runtime stage, reproduced", () => {
  let dir: string;
  let app: string;
  let emulator: Emulator;
  let packed: string[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "sso-runtime-image-"));
    const stage = join(dir, "stage");
    app = join(dir, "app");
    mkdirSync(stage);
    mkdirSync(app);
    // The run's build of the current sources (global setup), as the build stage's dist/.
    cpSync(inject("builtSrc"), join(stage, "dist"), { recursive: true });
    // What the build stage has besides dist/: package.json, the README and the other "files" entries.
    for (const file of ["package.json", "README.md", ...pkg.files.filter((entry) => entry !== "dist")]) {
      cpSync(projectFile(file), join(stage, file), { recursive: true });
    }
    // The stage holds a fresh build already; package.json's prepack would build again, without tsc here.
    const pack = await runProcess("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
      cwd: stage,
      env: npmEnv(),
    });
    expect(pack.code, pack.stderr).toBe(0);
    const [result] = JSON.parse(pack.stdout) as [{ filename: string; files: { path: string }[] }];
    packed = result.files.map((file) => file.path);
    const untar = await runProcess(
      "tar",
      ["-xzf", join(dir, result.filename), "-C", app, "--strip-components=1"],
      { env: npmEnv() },
    );
    expect(untar.code, untar.stderr).toBe(0);
    cpSync(projectFile("package-lock.json"), join(app, "package-lock.json"));
    // Exactly the runtime stage's install command; the npm cache makes it quick.
    const install = await runProcess("npm", [...runtimeInstall(), "--prefer-offline"], {
      cwd: app,
      env: npmEnv({ NODE_ENV: "production" }),
      timeoutMs: 240_000,
    });
    expect(install.code, install.stdout + install.stderr).toBe(0);
    emulator = await startTestEmulator({ seed: { kind: "demo" } });
  }, 300_000);

  afterAll(async () => {
    await emulator?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A package directory in node_modules of the app or of any directory above it, as Node resolves. */
  const reachable = (name: string): boolean => {
    for (let at = join(app, "dist"); ; at = dirname(at)) {
      if (existsSync(join(at, "node_modules", name, "package.json"))) return true;
      if (dirname(at) === at) return false;
    }
  };

  // With the image's own environment and node flags, so that flags Node refuses fail here, not in
  // production.
  const cliEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
    ...imageNode.env,
    PATH: process.env.PATH,
    NODE_ENV: "production",
    SENDGRID_API_BASE_URL: emulator.url,
    SENDGRID_API_KEY: TEST_API_KEY,
    STATE_DIR: join(dir, "state"),
    ...extra,
  });

  it("packs the compiled CLI, package.json and README, and no sources or tests", () => {
    expect(packed).toEqual(
      expect.arrayContaining(["package.json", "README.md", "dist/cli.js", "dist/daemon.js"]),
    );
    expect(packed.filter((path) => /^(src|test|node_modules)\//.test(path) || path.endsWith(".ts"))).toEqual(
      [],
    );
  });

  it("has the production dependencies, and no dev dependency anywhere Node would look", () => {
    for (const name of Object.keys(pkg.dependencies)) expect(reachable(name), name).toBe(true);
    for (const name of Object.keys(pkg.devDependencies)) expect(reachable(name), name).toBe(false);
  });

  it("prints its version", async () => {
    const result = await runProcess(
      process.execPath,
      [...imageNode.nodeArgs, join(app, "dist", "cli.js"), "--version"],
      {
        cwd: app,
        env: cliEnv(),
      },
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe(`${pkg.version}\n`);
  });

  it(
    "runs check against the emulator: critical for the expiring and the expired integration",
    {
      timeout: 300_000,
    },
    async () => {
      const result = await runProcess(
        process.execPath,
        [...imageNode.nodeArgs, join(app, "dist", "cli.js"), "check", "--json"],
        {
          cwd: app,
          env: cliEnv(),
        },
      );
      expect(result.code, result.stderr).toBe(2);
      const report = JSON.parse(result.stdout) as {
        status: string;
        accounts: { integrations: { name: string; status: string }[] }[];
      };
      expect(report.status).toBe("critical");
      const statuses = Object.fromEntries(report.accounts[0]!.integrations.map((i) => [i.name, i.status]));
      expect(statuses).toEqual({ Okta: "ok", "Entra ID": "critical", Duo: "critical" });
    },
  );

  it(
    "runs the daemon healthy under the image's HEALTHCHECK and exits 0 on SIGTERM",
    {
      timeout: 300_000,
    },
    async () => {
      const listen = `127.0.0.1:${await freePort()}`;
      const env = cliEnv({ LISTEN: listen });
      const daemon = startProcess(
        process.execPath,
        [...imageNode.nodeArgs, join(app, "dist", "cli.js"), "run"],
        { cwd: app, env },
      );
      try {
        await waitFor("the HEALTHCHECK command to pass", async () => (await runHealthcheck(env)).code === 0, {
          timeoutMs: 120_000,
          diagnostics: daemon.output,
        });
        await waitFor("/readyz", async () => (await fetch(`http://${listen}/readyz`)).status === 200, {
          timeoutMs: 120_000,
          diagnostics: daemon.output,
        });
        const metrics = await (await fetch(`http://${listen}/metrics`)).text();
        expect(metrics).toContain('sendgrid_sso_integration_info{account="default"');
      } finally {
        const exit = await daemon.stop(15_000);
        expect(exit.signal, daemon.output()).toBeNull();
        expect(exit.code, daemon.output()).toBe(0);
      }
      expect(daemon.output()).toContain('"msg":"stopped"');
    },
  );
});
