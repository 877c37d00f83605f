// The state_dir lock in a running daemon: checked before every rotation cycle and every step, renewed on a
// timer as a lease, and taken over from another host once that lease has lapsed. A daemon that loses its
// lock (deleted, or taken over) says so once, never rotates again, and fails /healthz so that it gets
// restarted, while a second daemon that holds the lock rotates alone.

import { mkdir, rm, stat, utimes, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import type { Daemon } from "../../src/daemon.js";
import { LockHeldError, LockLostError } from "../../src/rotation/errors.js";
import { LOCK_LEASE_MS } from "../../src/rotation/lock.js";
import { openRotation } from "../../src/rotation/setup.js";
import { sourcesFor } from "../../src/sources/registry.js";
import { targetsFor } from "../../src/scan/targets.js";
import { eventually } from "../rotation/bench.js";
import { openDueWorld, type DueWorld } from "./world.js";

const LOST = /^lost the state_dir lock: no rotation from now on; restart to take it again$/;
const CERTIFICATE_PATH = /^\/v3\/sso\/certificates\/\d+$/;

let world: DueWorld | null = null;

afterEach(async () => {
  await world?.bench.close();
  world = null;
});

async function open(): Promise<DueWorld> {
  return (world = await openDueWorld());
}

const start = (w: DueWorld): Promise<Daemon> => w.bench.startDaemon(w.bench.loadConfig(w.configFile));
const posts = (w: DueWorld) => w.bench.emulator.log.filter((e) => e.method === "POST").length;
const lockFile = (w: DueWorld) => join(w.bench.stateDir, "lock");

function otherHostLock(host: string): string {
  return JSON.stringify({ pid: 4242, hostname: host, started_at: new Date().toISOString(), token: host });
}

/** The ceiling is generous on purpose: a busy machine is slow, not wrong. */
async function until(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe("a daemon whose lock is deleted", () => {
  test("stops rotating, says so once, fails /healthz; a second daemon takes the lock and rotates alone", async () => {
    const w = await open();
    const first = await start(w);
    await rm(lockFile(w));

    await first.tick();
    await first.tick();
    expect(posts(w)).toBe(0);
    expect(w.bench.logs.matching("error", LOST)).toHaveLength(1);
    expect(first.rotation.lockLost).toBeInstanceOf(LockLostError);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(503);
    // It still monitors: the scans ran and the metrics are served.
    expect(first.monitor.ready).toBe(true);
    expect((await fetch(`${first.url}/metrics`)).status).toBe(200);

    const second = await start(w);
    await second.tick();
    expect(posts(w)).toBe(1);
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    await first.tick();
    await second.tick();
    expect(posts(w)).toBe(1);
    const [integration] = w.integrations;
    expect(w.bench.certificates(integration!.id).filter((c) => c.pem === integration!.next.pem)).toHaveLength(
      1,
    );
  });
});

describe("a daemon whose lock is taken over in the middle of a cycle", () => {
  test("finishes the step under way and takes no further one", async () => {
    const w = await open();
    w.bench.emulator.faults.next({
      match: { method: "POST", path: "/v3/sso/certificates" },
      action: { kind: "delay", ms: 500 },
    });
    const daemon = await start(w);
    const tick = daemon.tick();
    await eventually("the upload to start", () => w.bench.emulator.faults.pending === 0);
    await writeFile(lockFile(w), otherHostLock("new-node"));
    await tick;

    expect(posts(w)).toBe(1);
    // Neither the verification read nor the disable of the old certificate.
    expect(w.bench.emulator.log.filter((e) => CERTIFICATE_PATH.test(e.path))).toEqual([]);
    expect(daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "uploaded" }]);
    expect(daemon.rotation.rotator.current.inProgress).toBeNull();
    expect(w.bench.logs.matching("error", LOST)).toHaveLength(1);
    expect(w.bench.logs.matching("error", LOST)[0]).toMatchObject({
      err: { message: expect.stringContaining("it now names pid 4242 on host new-node") as string },
    });
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(503);
    await daemon.tick();
    expect(w.bench.emulator.log.filter((e) => e.method !== "GET")).toHaveLength(1);
  });
});

describe("the lease", () => {
  test("is renewed on a timer, and the renewal notices a lost lock", async () => {
    const w = await open();
    const config = w.bench.loadConfig(w.configFile);
    const { targets, close } = targetsFor(config);
    const sources = await sourcesFor(config);
    const handle = await openRotation({
      config,
      targets,
      sources,
      logger: w.bench.logs.logger(),
      clock: w.bench.clock,
      lock: true,
      lockRenewMs: 20,
    });
    try {
      const old = new Date(Date.now() - 3_600_000);
      await utimes(lockFile(w), old, old);
      await until("the lease to be renewed", async () => (await stat(lockFile(w))).mtimeMs > old.getTime());
      await handle.assertLock();

      await rm(lockFile(w));
      await eventually("the loss to be noticed", () => handle.lockLost !== null);
      await sleep(100);
      expect(w.bench.logs.matching("error", LOST)).toHaveLength(1);
      await expect(handle.assertLock()).rejects.toBeInstanceOf(LockLostError);
    } finally {
      await handle.close();
      await sources.close();
      await close();
    }
  });

  test("of another host's lock: taken over once lapsed (a rescheduled pod), refused while fresh", async () => {
    const w = await open();
    await mkdir(w.bench.stateDir);
    await writeFile(lockFile(w), otherHostLock("old-node"));
    await expect(start(w)).rejects.toBeInstanceOf(LockHeldError);
    await expect(start(w)).rejects.toThrow(
      /its lease was last renewed at .* and is taken over once 120s pass/,
    );

    const lapsed = new Date(Date.now() - LOCK_LEASE_MS - 10_000);
    await utimes(lockFile(w), lapsed, lapsed);
    const daemon = await start(w);
    await daemon.tick();
    expect(posts(w)).toBe(1);
    expect(daemon.rotation.rotator.current.rotations).toMatchObject([{ phase: "retired" }]);
    expect((await fetch(`${daemon.url}/healthz`)).status).toBe(200);
  });
});
