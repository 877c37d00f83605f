// Crash safety of a rotation: the real CLI (`run`, a cron firing every second) in a child process, killed
// with SIGKILL at each step in turn and restarted on the same state_dir, against an emulator in this
// process. Emulator faults hold the child at the step where it is to die, so each kill lands where it
// should. What must hold at the end: the rotation completed, one upload, no disable before the overlap,
// and the emulator's history shows the integration never without a usable certificate.

import { spawn, type ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { stringify } from "yaml";
import type { Emulator } from "../../src/emulator/server.js";
import { makeCert } from "../helpers/make-cert.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { fewestUsable } from "./bench.js";
import { buildSources } from "./children.js";

const INTEGRATION = "int-okta";
const CERTIFICATE_PATH = /^\/v3\/sso\/certificates\/\d+$/;
const OVERLAP_MS = 2_000;

let buildDir = "";
let cli = "";

beforeAll(async () => {
  buildDir = await mkdtemp(join(tmpdir(), "crash-build-"));
  const built = await buildSources(buildDir);
  // The version is read from the package.json beside the built tree.
  await copyFile(
    fileURLToPath(new URL("../../package.json", import.meta.url)),
    join(buildDir, "package.json"),
  );
  cli = join(built, "cli.js");
}, 120_000);

afterAll(async () => {
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

interface Running {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
let emulator: Emulator | null = null;
let workDir = "";

afterEach(async () => {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
  await emulator?.close();
  emulator = null;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function startRun(configFile: string): Running {
  const child = spawn(process.execPath, [cli, "run", "--config", configFile], {
    env: { PATH: process.env.PATH ?? "", SENDGRID_API_KEY: TEST_API_KEY },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      children.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  running?: Running,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(
        `timed out waiting for ${what}${running ? `; child output:\n${running.output()}` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function kill(running: Running): Promise<void> {
  running.child.kill("SIGKILL");
  await running.exited;
}

interface JournalOnDisk {
  readonly rotations: { phase: string; certificateId: string | null }[];
  readonly inProgress: { action: string; startedAt: string } | null;
}

async function journal(stateDir: string): Promise<JournalOnDisk | null> {
  try {
    const text = await readFile(join(stateDir, "journal.json"), "utf8");
    return (JSON.parse(text) as { data: JournalOnDisk }).data;
  } catch {
    return null;
  }
}

describe("a rotation killed with SIGKILL at each step in turn", () => {
  test("completes after the restarts: one upload, no early disable, never without a usable certificate", async () => {
    const em = (emulator = await startTestEmulator());
    workDir = await mkdtemp(join(tmpdir(), "crash-"));
    const stateDir = join(workDir, "state");
    const certsDir = join(workDir, "certs");
    await mkdir(certsDir);
    const now = new Date();
    const old = await makeCert({ cn: "okta-old", now, fromDays: -360, toDays: 5 });
    const next = await makeCert({ cn: "okta-next", now, fromDays: -1, toDays: 730 });
    em.state.addIntegration({ id: INTEGRATION, name: "Okta" });
    const oldId = String(
      em.state.addCertificate({ integrationId: INTEGRATION, pem: old.pem, enabled: true }).id,
    );
    await writeFile(join(certsDir, "next.pem"), next.pem);
    const configFile = join(workDir, "config.yaml");
    await writeFile(
      configFile,
      stringify({
        accounts: [{ name: "main", api_key_env: "SENDGRID_API_KEY", base_url: em.url }],
        schedule: "*/1 * * * * *",
        listen: "127.0.0.1:0",
        state_dir: stateDir,
        http: { timeout: "10s", max_retries: 0 },
        rotation: {
          enabled: true,
          overlap: `${OVERLAP_MS / 1000}s`,
          integrations: [{ match: { id: INTEGRATION }, source: { type: "file", path: certsDir } }],
        },
      }),
    );
    const posts = () => em.log.filter((e) => e.method === "POST");
    // A queued fault is spent the moment its request arrives: the request is then in SendGrid's hands.
    const arrived = () => em.faults.pending === 0;
    const stepOnDisk = async () => (await journal(stateDir))?.inProgress?.action;

    // 1. Killed during the upload: SendGrid applies it after the process is gone.
    em.faults.next({
      match: { method: "POST", path: "/v3/sso/certificates" },
      action: { kind: "delay", ms: 1_500 },
    });
    let run = startRun(configFile);
    await until("the upload request to arrive", arrived, run);
    await kill(run);
    expect(await stepOnDisk()).toBe("upload");
    await until("SendGrid to apply the upload", () => posts().length === 1);
    expect(em.state.certificatesOf(INTEGRATION).filter((c) => c.pem === next.pem)).toHaveLength(1);

    // 2. Killed after the upload, while verifying.
    em.faults.next({ match: { method: "GET", path: CERTIFICATE_PATH }, action: { kind: "hang" } });
    run = startRun(configFile);
    await until("the verification request to arrive", arrived, run);
    await kill(run);
    expect(await stepOnDisk()).toBe("verify");

    // 3. Killed after verifying, while disabling (SendGrid never answers the request).
    em.faults.next({ match: { method: "PATCH", path: CERTIFICATE_PATH }, action: { kind: "hang" } });
    run = startRun(configFile);
    await until("the disable request to arrive", arrived, run);
    await kill(run);
    expect(await stepOnDisk()).toBe("disable");
    expect(em.state.certificatesOf(INTEGRATION).every((c) => c.enabled)).toBe(true);

    // 4. Killed during the disable: SendGrid applies it after the process is gone.
    em.faults.next({
      match: { method: "PATCH", path: CERTIFICATE_PATH },
      action: { kind: "delay", ms: 1_500 },
    });
    run = startRun(configFile);
    await until("the disable request to arrive", arrived, run);
    await kill(run);
    expect(await stepOnDisk()).toBe("disable");
    await until("SendGrid to apply the disable", () =>
      em.log.some((e) => e.method === "PATCH" && e.outcome === "answered"),
    );

    // 5. The last run finishes the rotation and stops cleanly.
    run = startRun(configFile);
    await until(
      "the rotation to be retired",
      async () => {
        const current = await journal(stateDir);
        return current?.inProgress === null && current.rotations[0]?.phase === "retired";
      },
      run,
    );
    run.child.kill("SIGTERM");
    expect(await run.exited).toBe(0);
    expect(em.faults.pending).toBe(0);

    const uploaded = em.state.certificatesOf(INTEGRATION).filter((c) => c.pem === next.pem);
    expect(uploaded).toHaveLength(1);
    const newId = String(uploaded[0]!.id);
    expect(posts()).toHaveLength(1);
    expect(em.state.certificatesOf(INTEGRATION).map((c) => [String(c.id), c.enabled])).toEqual([
      [oldId, false],
      [newId, true],
    ]);
    const patches = em.log.filter((e) => e.method === "PATCH");
    expect(patches.map((e) => [e.path, e.body])).toEqual(
      patches.map(() => [`/v3/sso/certificates/${oldId}`, { enabled: false }]),
    );
    // Not disabled early: the first disable request came at least the overlap after the verification read.
    const verifiedRead = em.log.find(
      (e) => e.method === "GET" && e.path === `/v3/sso/certificates/${newId}` && e.outcome === "answered",
    );
    expect(verifiedRead).toBeDefined();
    expect(patches[0]!.time.getTime() - verifiedRead!.time.getTime()).toBeGreaterThanOrEqual(OVERLAP_MS);
    expect(fewestUsable(em, INTEGRATION, new Date())).toBe(1);
    expect(
      em.state.history.filter((h) => h.kind === "certificate").map((h) => `${h.method} ${h.change}`),
    ).toEqual(["POST created", "PATCH updated"]);
  }, 120_000);
});
