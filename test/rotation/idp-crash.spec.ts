// Crash safety of an IdP key rollover (`manage_keys`): the real CLI (`run`, a scan every second) in a child
// process against the SendGrid, Okta and Graph emulators of an IdP world in this process, killed with
// SIGKILL and restarted on the same state_dir. First at each step of the rollover in turn, for each IdP
// (emulator faults hold the child at the step where it is to die: a write applied after the child is gone,
// or never answered), then at seeded random moments over many rollovers (IDP_CRASH_RUNS, default 50, from
// CRASH_SEED or a seed it draws and prints). What must hold: after every kill the journal loads, the IdP
// made at most one key through the API and SendGrid holds at most one copy of it; at the end the rollover
// is retired with exactly one key generated and one upload, the IdP signs with the new key, the old
// certificate is disabled, and the emulators' histories show no instant at which the IdP signed with a
// certificate SendGrid did not hold enabled and valid.

import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, test } from "vitest";
import { parseCertificate } from "../../src/certs/parse.js";
import { seededRandom, type FaultController, type FaultRule } from "../../src/emulator/faults.js";
import { journalStore } from "../../src/rotation/journal-file.js";
import { settleMs } from "../../src/rotation/rotator.js";
import { TEST_SP_ID } from "../helpers/start-graph-emulator.js";
import { TEST_APP_ID } from "../helpers/start-okta-emulator.js";
import {
  KillTrace,
  STEP_CEILING_MS,
  backstop,
  builtCli,
  crashSeed,
  journalOnDisk,
  kill,
  killChildren,
  runSeeds,
  startRun,
  terminate,
  until,
  type Running,
} from "./crash-harness.js";
import { INTEGRATION_OF, openIdpWorld, type IdpName, type IdpWorld } from "./idp-world.js";

// Small, no retries: a generate lost before it reached the IdP is retried only after the client's whole
// deadline plus 30 s (settleMs), and such runs must finish.
const HTTP = { timeout: "2s", max_retries: 0 } as const;
// A step may first wait out the settle time of a lost generate (32 s here), then take a step's ceiling.
const CEILING_MS = 32_000 + STEP_CEILING_MS;
const CERTIFICATE_PATH = /^\/v3\/sso\/certificates\/\d+$/;
// Long enough that a kill lands after the request arrived, short enough that the test does not drag.
const APPLIED_AFTER_DEATH_MS = 1_500;

/** The IdP writes of a rollover, as the emulators see them. */
const WRITES: Record<IdpName, Record<"generate" | "activate", { method: string; path: string }>> = {
  okta: {
    generate: { method: "POST", path: `/api/v1/apps/${TEST_APP_ID}/credentials/keys/generate` },
    activate: { method: "PUT", path: `/api/v1/apps/${TEST_APP_ID}` },
  },
  entra: {
    generate: { method: "POST", path: `/v1.0/servicePrincipals/${TEST_SP_ID}/addTokenSigningCertificate` },
    activate: { method: "PATCH", path: `/v1.0/servicePrincipals/${TEST_SP_ID}` },
  },
};

interface JournalOnDisk {
  readonly rollovers: {
    readonly integrationId: string;
    readonly phase: string;
    readonly key: { readonly id: string; readonly fingerprint: string } | null;
  }[];
  readonly inProgress: { readonly action: string; readonly integrationId: string } | null;
}

/** until() with this file's ceiling: steps here include waiting out a lost generate. */
const waitFor = (what: string, check: () => boolean | Promise<boolean>, running?: Running) =>
  until(what, check, running, CEILING_MS);

const journal = (w: IdpWorld) => journalOnDisk<JournalOnDisk>(w.stateDir);

const lastRollover = (current: JournalOnDisk | null, idp: IdpName) =>
  current?.rollovers.filter((r) => r.integrationId === INTEGRATION_OF[idp]).at(-1);

/** The integration's last rollover as the child last journaled it. */
const rolloverOnDisk = async (w: IdpWorld, idp: IdpName) => lastRollover(await journal(w), idp);

const allRetired = (current: JournalOnDisk | null, idps: readonly IdpName[]) =>
  idps.every((idp) => lastRollover(current, idp)?.phase === "retired");

const fingerprint = (pem: string | null): string | null => {
  if (pem === null) return null;
  const parsed = parseCertificate(pem);
  return parsed.ok ? parsed.certificate.fingerprintSha256 : null;
};

const emulatorOf = (w: IdpWorld, idp: IdpName) => (idp === "okta" ? w.okta : w.graph);

function openWorld(idps: readonly IdpName[]): Promise<IdpWorld> {
  return openIdpWorld({
    activeKeyDaysLeft: 5,
    okta: { manage_keys: idps.includes("okta") },
    entra: { manage_keys: idps.includes("entra"), validity_years: 2 },
    http: HTTP,
  });
}

/** What SendGrid held of each managed integration before the rollover: everything else is new. */
function initialIds(w: IdpWorld, idps: readonly IdpName[]): Map<IdpName, Set<number>> {
  return new Map(
    idps.map((idp) => [idp, new Set(w.sendgrid.state.certificatesOf(INTEGRATION_OF[idp]).map((c) => c.id))]),
  );
}

/** After any kill: the journal loads, at most one key generated, at most one copy of it in SendGrid. */
async function checkAfterKill(w: IdpWorld, initial: Map<IdpName, Set<number>>, label: string): Promise<void> {
  const loaded = await journalStore(w.stateDir).load();
  expect(loaded.kind, `journal after ${label}`).not.toBe("corrupt");
  for (const [idp, ids] of initial) {
    expect(w.keysGenerated(idp), `${idp} keys generated after ${label}`).toBeLessThanOrEqual(1);
    const added = w.sendgrid.state.certificatesOf(INTEGRATION_OF[idp]).filter((c) => !ids.has(c.id));
    expect(added.length, `${idp} new certificates in SendGrid after ${label}`).toBeLessThanOrEqual(1);
  }
}

/** Until every managed integration's rollover is retired and no step is in progress. */
function untilRetired(w: IdpWorld, idps: readonly IdpName[], running: Running): Promise<void> {
  return waitFor(
    `the rollover of ${idps.join(" and ")} to be retired`,
    async () => {
      const current = await journal(w);
      return current?.inProgress === null && allRetired(current, idps);
    },
    running,
  );
}

/** The end state: retired, one key, one upload, the IdP on the new key, the old one disabled, no lockout. */
async function checkCompleted(
  w: IdpWorld,
  idps: readonly IdpName[],
  initial: Map<IdpName, Set<number>>,
): Promise<void> {
  expect((await journalStore(w.stateDir).load()).kind).toBe("loaded");
  const posts = w.sendgrid.log.filter((e) => e.method === "POST" && e.path === "/v3/sso/certificates");
  expect(posts, "uploads").toHaveLength(idps.length);
  for (const idp of idps) {
    const integration = INTEGRATION_OF[idp];
    const rollover = await rolloverOnDisk(w, idp);
    expect(rollover?.phase, `${idp} rollover`).toBe("retired");
    expect(w.keysGenerated(idp), `${idp} keys generated`).toBe(1);
    expect(
      posts.filter((p) => (p.body as { integration_id?: string }).integration_id === integration),
    ).toHaveLength(1);
    const newFingerprint = rollover!.key!.fingerprint;
    expect(fingerprint(w.signingPem(idp)), `${idp} signs with`).toBe(newFingerprint);
    expect(
      w.sendgrid.state
        .certificatesOf(integration)
        .map((c) => [initial.get(idp)!.has(c.id) ? "old" : fingerprint(c.pem), c.enabled]),
    ).toEqual([
      ["old", false],
      [newFingerprint, true],
    ]);
  }
  expect(w.lockouts()).toEqual({ okta: [], entra: [] });
}

const cli = builtCli();

afterAll(() => {
  killChildren();
});

describe.concurrent("an IdP key rollover killed with SIGKILL at each step in turn", () => {
  test.concurrent.for(["okta", "entra"] as const)(
    "%s: completes after the restarts with one key, one upload and no lockout instant",
    // Nine kills, five waits for what the emulators do after them, the rollover's end and the last stop.
    { timeout: backstop(16, CEILING_MS) },
    async (idp, { onTestFinished }) => {
      const w = await openWorld([idp]);
      let run: Running | null = null;
      onTestFinished(async () => {
        if (run) await kill(run);
        await w.close();
      });
      const configFile = await w.writeRunConfig();
      const initial = initialIds(w, [idp]);
      const idpFaults = emulatorOf(w, idp).faults;
      const oldSigning = fingerprint(w.signingPem(idp));
      const stepOnDisk = async () => (await journal(w))?.inProgress?.action;
      const phaseOnDisk = async () => (await rolloverOnDisk(w, idp))?.phase;
      /** Queues `rule`, starts a child and kills it once the request the rule strikes has arrived. */
      const killWhenStruck = async (what: string, faults: FaultController, rule: FaultRule) => {
        faults.next(rule);
        const current = (run = startRun(cli, configFile, w.env));
        // A queued fault is spent the moment its request arrives: the request is then in the emulator's hands.
        await waitFor(`the ${what} request to arrive`, () => faults.pending === 0, current);
        await kill(current);
        await checkAfterKill(w, initial, `the kill during the ${what}`);
      };

      // 1. Killed during the generate, which the IdP never answers nor applies.
      await killWhenStruck("generate", idpFaults, { match: WRITES[idp].generate, action: { kind: "hang" } });
      expect([await stepOnDisk(), await phaseOnDisk(), w.keysGenerated(idp)]).toEqual([
        "generate",
        "generating",
        0,
      ]);

      // 2. No key shows: the next run generates again once the lost one cannot show any more (settleMs
      //    after the first); killed while the IdP holds the request, which it applies after the process is gone.
      await killWhenStruck("second generate", idpFaults, {
        match: WRITES[idp].generate,
        action: { kind: "delay", ms: APPLIED_AFTER_DEATH_MS },
      });
      expect([await stepOnDisk(), await phaseOnDisk()]).toEqual(["generate", "generating"]);
      await waitFor("the IdP to apply the generate", () => w.keysGenerated(idp) === 1);
      // Logged when answered: the first at once (hung), the second after its delay.
      const generates = () =>
        emulatorOf(w, idp).log.filter(
          (e) => e.method === WRITES[idp].generate.method && e.path === WRITES[idp].generate.path,
        );
      await waitFor("the second generate to be logged", () => generates().length === 2);
      const [first, second] = generates().map((e) => e.time.getTime());
      // Journaled a moment before the first request left: a second of slack for that.
      expect(second! - first!).toBeGreaterThanOrEqual(settleMs(await w.writeConfig()) - 1_000);

      // 3. The key is found by listing; killed during its upload, which SendGrid applies afterwards.
      await killWhenStruck("upload", w.sendgrid.faults, {
        match: { method: "POST", path: "/v3/sso/certificates" },
        action: { kind: "delay", ms: APPLIED_AFTER_DEATH_MS },
      });
      expect([await stepOnDisk(), await phaseOnDisk()]).toEqual(["upload", "generated"]);
      await waitFor("SendGrid to apply the upload", () => w.sendgrid.log.some((e) => e.method === "POST"));

      // 4. Killed while verifying.
      await killWhenStruck("verify", w.sendgrid.faults, {
        match: { method: "GET", path: CERTIFICATE_PATH },
        action: { kind: "hang" },
      });
      expect(await stepOnDisk()).toBe("verify");

      // 5. Killed during the activation, which the IdP never answers nor applies.
      await killWhenStruck("activate", idpFaults, { match: WRITES[idp].activate, action: { kind: "hang" } });
      expect([await stepOnDisk(), await phaseOnDisk()]).toEqual(["activate", "activating"]);
      expect(fingerprint(w.signingPem(idp))).toBe(oldSigning);

      // 6. Read back, the activation did not happen: activated again; killed while the IdP holds the request,
      //    which it applies after the process is gone.
      await killWhenStruck("second activate", idpFaults, {
        match: WRITES[idp].activate,
        action: { kind: "delay", ms: APPLIED_AFTER_DEATH_MS },
      });
      expect([await stepOnDisk(), await phaseOnDisk()]).toEqual(["activate", "activating"]);
      await waitFor("the IdP to apply the activation", () => fingerprint(w.signingPem(idp)) !== oldSigning);

      // 7. Killed while reading the IdP back (every IdP answer slowed so the kill lands in the confirm).
      idpFaults.set({ latencyMs: 500 });
      const confirming = (run = startRun(cli, configFile, w.env));
      await waitFor("the confirm step", async () => (await stepOnDisk()) === "confirm", confirming);
      await kill(confirming);
      idpFaults.set({});
      await checkAfterKill(w, initial, "the kill during the confirm");
      expect(await phaseOnDisk()).toBe("activating");

      // 8. Killed while disabling the old certificate: once never answered, once applied afterwards.
      await killWhenStruck("disable", w.sendgrid.faults, {
        match: { method: "PATCH", path: CERTIFICATE_PATH },
        action: { kind: "hang" },
      });
      // The mirror disables what the IdP no longer signs with as soon as the IdP's read shows it, which may
      // come before the confirm step in the same plan: the rollover may still be `activating` here.
      expect(await stepOnDisk()).toBe("disable");
      expect(fingerprint(w.signingPem(idp))).not.toBe(oldSigning);
      expect(w.sendgrid.state.certificatesOf(INTEGRATION_OF[idp]).every((c) => c.enabled)).toBe(true);
      await killWhenStruck("second disable", w.sendgrid.faults, {
        match: { method: "PATCH", path: CERTIFICATE_PATH },
        action: { kind: "delay", ms: APPLIED_AFTER_DEATH_MS },
      });
      expect(await stepOnDisk()).toBe("disable");
      await waitFor("SendGrid to apply the disable", () =>
        w.sendgrid.log.some((e) => e.method === "PATCH" && e.outcome === "answered"),
      );

      // 9. The last run finishes the rollover and stops cleanly.
      const last = (run = startRun(cli, configFile, w.env));
      await untilRetired(w, [idp], last);
      expect(await terminate(last)).toBe(0);
      expect([w.sendgrid.faults.pending, idpFaults.pending]).toEqual([0, 0]);
      await checkCompleted(w, [idp], initial);
    },
  );
});

const IDP_CRASH_RUNS = Number(process.env.IDP_CRASH_RUNS ?? 50);
const CRASH_SEED = crashSeed();
// Runs in flight at once: each spends most of its time waiting for a child to start or a request to end.
const PARALLEL_RUNS = 4;
// Which IdPs a run rolls over: one of these, drawn from its seed.
const IDP_SETS: readonly (readonly IdpName[])[] = [["okta"], ["entra"], ["okta", "entra"]];
// Share of runs killed a second time after the first restart.
const SECOND_KILL = 0.3;
// Share of kills aimed at a step: once the journal shows the step in progress, the kill comes within
// STEP_LATENCIES emulator latencies, before, while or just after the emulator handles the request. The
// others come at any moment within MOMENT_LATENCIES after the child's first request, steps or not.
const AIMED_KILL = 0.7;
const STEP_LATENCIES = 1.5;
const MOMENT_LATENCIES = 20;
const STEPS = ["generate", "upload", "verify", "activate", "confirm", "disable"] as const;
// Waits of one run with a ceiling each: one per kill, the last child's scan, the rollover's end, its stop.
const WAITS_PER_RUN = 5;

/** Where each kill landed: the step the journal had in progress just before it, "none" between steps. */
const killedAt = new Map<string, number>();

/** One rollover killed once or twice at random moments, then left to finish; throws naming the seed. */
async function crashRun(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const idps = IDP_SETS[Math.floor(random() * IDP_SETS.length)]!;
  const w = await openWorld(idps);
  const trace = new KillTrace();
  trace.add(`rolling over ${idps.join(" and ")}`);
  let running: Running | null = null;
  try {
    const latencyMs = 20 + Math.floor(random() * 60);
    for (const emulator of [w.sendgrid, w.okta, w.graph]) emulator.faults.set({ latencyMs });
    const configFile = await w.writeRunConfig();
    const initial = initialIds(w, idps);
    const requests = () => w.sendgrid.log.length + w.okta.log.length + w.graph.log.length;

    const kills = random() < SECOND_KILL ? 2 : 1;
    for (let k = 1; k <= kills; k++) {
      const seen = requests();
      const aim = random() < AIMED_KILL ? STEPS[Math.floor(random() * STEPS.length)]! : null;
      const run = (running = startRun(cli, configFile, w.env));
      if (aim) {
        // A step the rollover is past already never comes: then the kill lands after it is done.
        await waitFor(
          `the ${aim} step or the end of the rollover`,
          async () => {
            const current = await journal(w);
            return current?.inProgress?.action === aim || allRetired(current, idps);
          },
          run,
        );
      } else {
        await waitFor("the child's first request", () => requests() > seen, run);
      }
      const delay = Math.floor(random() * (aim ? STEP_LATENCIES : MOMENT_LATENCIES) * latencyMs);
      await sleep(delay);
      const step = (await journal(w))?.inProgress?.action ?? "none";
      killedAt.set(step, (killedAt.get(step) ?? 0) + 1);
      trace.add(
        `kill ${k} ${aim ? `aimed at ${aim}` : "at a moment"}, +${delay} ms of ${latencyMs} ms latency (step on disk: ${step})`,
      );
      await kill(run);
      await checkAfterKill(w, initial, `kill ${k}`);
    }
    const run = (running = startRun(cli, configFile, w.env));
    // Its SIGTERM handler is in place once it has scanned.
    await waitFor("the last child to scan", () => run.output().includes('"msg":"scan complete"'), run);
    await untilRetired(w, idps, run);
    expect(await terminate(run)).toBe(0);
    await checkCompleted(w, idps, initial);
  } catch (error) {
    throw await trace.failure(seed, `CRASH_SEED=${seed} IDP_CRASH_RUNS=1`, error, running, w.stateDir);
  } finally {
    if (running) await kill(running);
    await w.close();
  }
}

// Concurrent with the step-by-step tests, which spend most of their time waiting out a lost generate.
describe.concurrent("IdP key rollovers killed with SIGKILL at seeded random moments", () => {
  test.concurrent(
    `${IDP_CRASH_RUNS} runs from seed ${CRASH_SEED}: the journal always loads, one key, one upload, no lockout`,
    async () => {
      const seeds = Array.from({ length: IDP_CRASH_RUNS }, (_, i) => CRASH_SEED + i);
      const failures = await runSeeds(seeds, PARALLEL_RUNS, crashRun);
      console.info(`IdP crash runs from seed ${CRASH_SEED}: kills by step`, Object.fromEntries(killedAt));
      expect(failures).toEqual([]);
    },
    backstop(Math.ceil(IDP_CRASH_RUNS / PARALLEL_RUNS) * WAITS_PER_RUN, CEILING_MS),
  );
});
