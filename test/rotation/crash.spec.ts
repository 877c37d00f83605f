// Crash safety of a rotation: the real CLI (`run`, a cron firing every second) in a child process, killed
// with SIGKILL and restarted on the same state_dir, against an emulator in this process. First at each step
// in turn (emulator faults hold the child at the step where it is to die), then at seeded random moments
// over many rotations (CRASH_RUNS, default 50, from CRASH_SEED or a seed it draws and prints). What must
// hold: after every kill the journal loads and the integration holds at most one copy of the new
// certificate; at the end the rotation completed with exactly one copy, nothing was disabled before the
// overlap, and the emulator's history shows the integration never without a usable certificate.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { seededRandom } from "../../src/emulator/faults.js";
import type { Emulator } from "../../src/emulator/server.js";
import { journalStore } from "../../src/rotation/journal-file.js";
import { makeCert } from "../helpers/make-cert.js";
import { TEST_API_KEY, startTestEmulator } from "../helpers/start-emulator.js";
import { fewestUsable } from "./bench.js";
import {
  KillTrace,
  backstop,
  builtCli,
  crashSeed,
  journalOnDisk,
  kill,
  killChildren,
  runSeeds,
  startRun as startChild,
  terminate,
  until,
  type Running,
} from "./crash-harness.js";

const INTEGRATION = "int-okta";
const CERTIFICATE_PATH = /^\/v3\/sso\/certificates\/\d+$/;
const OVERLAP_MS = 2_000;

const cli = builtCli();

let emulator: Emulator | null = null;
let workDir = "";

afterEach(async () => {
  killChildren();
  await emulator?.close();
  emulator = null;
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

const startRun = (configFile: string): Running =>
  startChild(cli, configFile, { SENDGRID_API_KEY: TEST_API_KEY });

interface JournalOnDisk {
  readonly rotations: { phase: string; certificateId: string | null }[];
  readonly inProgress: { action: string; startedAt: string } | null;
}

const journal = (stateDir: string) => journalOnDisk<JournalOnDisk>(stateDir);

const stateDirIn = (dir: string) => join(dir, "state");

interface RotationWorld {
  readonly stateDir: string;
  readonly configFile: string;
  /** The certificate being replaced, 5 days from expiry. */
  readonly oldId: string;
  /** The replacement, in the file source. */
  readonly nextPem: string;
}

/** INTEGRATION with an expiring certificate, its replacement in a file source, and the `run` config. */
async function rotationWorld(em: Emulator, dir: string, overlap: string): Promise<RotationWorld> {
  const stateDir = stateDirIn(dir);
  const certsDir = join(dir, "certs");
  await mkdir(certsDir);
  const now = new Date();
  const old = await makeCert({ cn: "okta-old", now, fromDays: -360, toDays: 5 });
  const next = await makeCert({ cn: "okta-next", now, fromDays: -1, toDays: 730 });
  em.state.addIntegration({ id: INTEGRATION, name: "Okta" });
  const oldId = String(
    em.state.addCertificate({ integrationId: INTEGRATION, pem: old.pem, enabled: true }).id,
  );
  await writeFile(join(certsDir, "next.pem"), next.pem);
  const configFile = join(dir, "config.yaml");
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
        overlap,
        integrations: [{ match: { id: INTEGRATION }, source: { type: "file", path: certsDir } }],
      },
    }),
  );
  return { stateDir, configFile, oldId, nextPem: next.pem };
}

/** Until the journal shows the rotation retired with nothing in progress. */
function untilRetired(stateDir: string, running: Running): Promise<void> {
  return until(
    "the rotation to be retired",
    async () => {
      const current = await journal(stateDir);
      return current?.inProgress === null && current.rotations[0]?.phase === "retired";
    },
    running,
  );
}

describe("a rotation killed with SIGKILL at each step in turn", () => {
  // Waits: four kills, two for what SendGrid does after them, the rotation's end and the last stop.
  test(
    "completes after the restarts: one upload, no early disable, never without a usable certificate",
    async () => {
      const em = (emulator = await startTestEmulator());
      workDir = await mkdtemp(join(tmpdir(), "crash-"));
      const { stateDir, configFile, oldId, nextPem } = await rotationWorld(
        em,
        workDir,
        `${OVERLAP_MS / 1000}s`,
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
      expect(em.state.certificatesOf(INTEGRATION).filter((c) => c.pem === nextPem)).toHaveLength(1);

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
      await untilRetired(stateDir, run);
      expect(await terminate(run)).toBe(0);
      expect(em.faults.pending).toBe(0);

      const uploaded = em.state.certificatesOf(INTEGRATION).filter((c) => c.pem === nextPem);
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
      // One upload, then only disables (of the old certificate, as `patches` shows). The API does not report
      // `enabled`, so the disable SendGrid applied after the last kill was never journaled: the last run sends
      // it again, which changes nothing.
      const changes = em.state.history
        .filter((h) => h.kind === "certificate")
        .map((h) => `${h.method} ${h.change}`);
      expect(changes[0]).toBe("POST created");
      expect(new Set(changes.slice(1))).toEqual(new Set(["PATCH updated"]));
    },
    backstop(8),
  );
});

const CRASH_RUNS = Number(process.env.CRASH_RUNS ?? 50);
const CRASH_SEED = crashSeed();
// Runs in flight at once: each spends most of its time waiting for a child to start or a request to end.
const PARALLEL_RUNS = 4;
// Share of runs killed a second time after the first restart.
const SECOND_KILL = 0.3;
// Share of kills aimed at a step: once the journal shows the step in progress, the kill comes within
// STEP_LATENCIES emulator latencies, before, while or just after SendGrid handles the request. The
// others come at any moment within MOMENT_LATENCIES after the child's first request, steps or not.
const AIMED_KILL = 0.7;
const STEP_LATENCIES = 1.5;
const MOMENT_LATENCIES = 10;
const STEPS = ["upload", "verify", "disable"] as const;
// Waits of one run with a ceiling each: one per kill, the last child's scan, the rotation's end, its stop.
const WAITS_PER_RUN = 5;

/** Where each kill landed: the step the journal had in progress just before it, "none" between steps. */
const killedAt = new Map<string, number>();

/** One rotation killed once or twice at random moments, then left to finish; throws naming the seed. */
async function crashRun(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const em = await startTestEmulator({ seedRandom: seed });
  const dir = await mkdtemp(join(tmpdir(), `crash-${seed}-`));
  const trace = new KillTrace();
  let running: Running | null = null;
  try {
    const latencyMs = 20 + Math.floor(random() * 60);
    em.faults.set({ latencyMs });
    const { stateDir, configFile, oldId, nextPem } = await rotationWorld(em, dir, "0s");
    const copies = () => em.state.certificatesOf(INTEGRATION).filter((c) => c.pem === nextPem).length;
    const store = journalStore(stateDir);

    const kills = random() < SECOND_KILL ? 2 : 1;
    for (let k = 1; k <= kills; k++) {
      const seen = em.log.length;
      const aim = random() < AIMED_KILL ? STEPS[Math.floor(random() * STEPS.length)]! : null;
      const run = (running = startRun(configFile));
      if (aim) {
        // A step the rotation is past already never comes: then the kill lands after it is done.
        await until(
          `the ${aim} step or the end of the rotation`,
          async () => {
            const current = await journal(stateDir);
            return current?.inProgress?.action === aim || current?.rotations[0]?.phase === "retired";
          },
          run,
        );
      } else {
        await until("the child's first request", () => em.log.length > seen, run);
      }
      const delay = Math.floor(random() * (aim ? STEP_LATENCIES : MOMENT_LATENCIES) * latencyMs);
      await sleep(delay);
      const step = (await journal(stateDir))?.inProgress?.action ?? "none";
      killedAt.set(step, (killedAt.get(step) ?? 0) + 1);
      trace.add(
        `kill ${k} ${aim ? `aimed at ${aim}` : "at a moment"}, +${delay} ms of ${latencyMs} ms latency (step on disk: ${step})`,
      );
      await kill(run);
      const loaded = await store.load();
      expect(loaded.kind, `journal after kill ${k}`).not.toBe("corrupt");
      expect(copies(), `copies after kill ${k}`).toBeLessThanOrEqual(1);
    }
    const run = (running = startRun(configFile));
    // Its SIGTERM handler is in place once it has scanned.
    await until("the last child to scan", () => run.output().includes('"msg":"scan complete"'), run);
    await untilRetired(stateDir, run);
    expect(await terminate(run)).toBe(0);

    expect((await store.load()).kind).toBe("loaded");
    expect(copies()).toBe(1);
    expect(
      em.state.certificatesOf(INTEGRATION).map((c) => [String(c.id), c.enabled, c.pem === nextPem]),
    ).toEqual([
      [oldId, false, false],
      [expect.any(String), true, true],
    ]);
    expect(fewestUsable(em, INTEGRATION, new Date())).toBe(1);
  } catch (error) {
    throw await trace.failure(seed, `CRASH_SEED=${seed} CRASH_RUNS=1`, error, running, stateDirIn(dir));
  } finally {
    if (running) await kill(running);
    await em.close();
    await rm(dir, { recursive: true, force: true });
  }
}

describe("rotations killed with SIGKILL at seeded random moments", () => {
  test(
    `${CRASH_RUNS} runs from seed ${CRASH_SEED}: the journal always loads, one copy, never locked out`,
    async () => {
      const seeds = Array.from({ length: CRASH_RUNS }, (_, i) => CRASH_SEED + i);
      const failures = await runSeeds(seeds, PARALLEL_RUNS, crashRun);
      console.info(`crash runs from seed ${CRASH_SEED}: kills by step`, Object.fromEntries(killedAt));
      expect(failures).toEqual([]);
    },
    backstop(Math.ceil(CRASH_RUNS / PARALLEL_RUNS) * WAITS_PER_RUN),
  );
});
