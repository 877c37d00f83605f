import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LockHeldError, LockLostError, StateIoError } from "../../src/rotation/errors.js";
import { acquireLock, LOCK_LEASE_MS, type Lock } from "../../src/rotation/lock.js";
import { withoutRoot } from "../helpers/without-root.js";
import { startChild, type Child } from "./children.js";

let dir: string;
const locks: Lock[] = [];
const children: ChildProcess[] = [];

beforeEach(async () => {
  dir = join(await mkdtemp(join(tmpdir(), "lock-spec-")), "state");
});
afterEach(async () => {
  for (const lock of locks.splice(0)) await lock.release();
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await once(child, "exit");
    }
  }
  await rm(join(dir, ".."), { recursive: true, force: true });
});

async function acquire(stateDir = dir): Promise<Lock> {
  const lock = await acquireLock(stateDir);
  locks.push(lock);
  return lock;
}

const lockPath = (): string => join(dir, "lock");

async function writeLock(content: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(lockPath(), content);
}

function lockOf(pid: number, host = hostname(), token = "someone-else"): string {
  return JSON.stringify({ pid, hostname: host, started_at: "2025-02-03T04:05:06.000Z", token });
}

/** A process that stays alive until the test ends. */
async function liveProcess(): Promise<number> {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  children.push(child);
  await once(child, "spawn");
  if (child.pid === undefined) throw new Error("no pid");
  return child.pid;
}

/** The pid of a process that has exited and been reaped. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  if (child.pid === undefined) throw new Error("no pid");
  return child.pid;
}

async function expectOurs(lock: Lock): Promise<void> {
  const onDisk = JSON.parse(await readFile(lockPath(), "utf8")) as Record<string, unknown>;
  expect(onDisk).toMatchObject({
    pid: process.pid,
    hostname: hostname(),
    started_at: lock.holder.startedAt.toISOString(),
  });
  await lock.assertHeld();
}

describe("acquireLock", () => {
  it("creates the state dir and a lock naming this process", async () => {
    const lock = await acquire();
    expect(lock.path).toBe(lockPath());
    expect(lock.holder).toMatchObject({ pid: process.pid, hostname: hostname() });
    await expectOurs(lock);
    expect(await readdir(dir)).toEqual(["lock"]);
  });

  it("refuses while another lock of this same process is held", async () => {
    await acquire();
    await expect(acquireLock(dir)).rejects.toThrow(LockHeldError);
  });

  it("refuses a lock held by a live process on this host, leaving it untouched", async () => {
    const pid = await liveProcess();
    await writeLock(lockOf(pid));

    const attempt = acquireLock(dir);
    await expect(attempt).rejects.toThrow(LockHeldError);
    await expect(attempt).rejects.toThrow(
      `state dir ${dir} is locked by pid ${pid} on host ${hostname()} since 2025-02-03T04:05:06.000Z; another sendgrid-sso-certs is running with the same state_dir`,
    );
    await expect(attempt).rejects.toMatchObject({
      code: "LOCK_HELD",
      dir,
      holder: { pid, hostname: hostname(), startedAt: new Date("2025-02-03T04:05:06.000Z") },
    });
    expect(await readFile(lockPath(), "utf8")).toBe(lockOf(pid));
  });

  it("refuses a lock from another host, whose process it cannot check, while its lease is fresh", async () => {
    await writeLock(lockOf(1, "some-other-host"));
    const renewed = new Date(Date.now() - LOCK_LEASE_MS / 2);
    await utimes(lockPath(), renewed, renewed);
    const attempt = acquireLock(dir);
    await expect(attempt).rejects.toThrow(LockHeldError);
    await expect(attempt).rejects.toThrow(
      `on host some-other-host since 2025-02-03T04:05:06.000Z; that host`,
    );
    await expect(attempt).rejects.toThrow(
      `its lease was last renewed at ${renewed.toISOString()} and is taken over once 120s pass without renewal`,
    );
    await expect(attempt).rejects.toThrow(`if it no longer runs, delete ${dir}/lock`);
    expect(await readFile(lockPath(), "utf8")).toBe(lockOf(1, "some-other-host"));
  });

  it("takes over a lock from another host whose lease has lapsed (a pod rescheduled onto a new node)", async () => {
    await writeLock(lockOf(1, "old-node"));
    const lapsed = new Date(Date.now() - LOCK_LEASE_MS - 5_000);
    await utimes(lockPath(), lapsed, lapsed);
    await expectOurs(await acquire());
    expect(await readdir(dir)).toEqual(["lock"]);
  });

  it("passes a lapsed claim from another host, and stops at a fresh one", async () => {
    const stale = lockOf(1, "old-node");
    await writeLock(stale);
    const lapsed = new Date(Date.now() - LOCK_LEASE_MS - 5_000);
    await utimes(lockPath(), lapsed, lapsed);
    const claim = `${lockPath()}.takeover-${createHash("sha256").update(stale).digest("hex").slice(0, 32)}`;
    await writeFile(claim, lockOf(2, "claiming-node", "claimer"));

    await expect(acquireLock(dir)).rejects.toMatchObject({
      code: "LOCK_HELD",
      holder: { hostname: "claiming-node" },
    });
    expect(await readFile(lockPath(), "utf8")).toBe(stale);

    await utimes(claim, lapsed, lapsed);
    await expectOurs(await acquire());
    expect(await readdir(dir)).toEqual(["lock"]);
  });

  it("takes over a lock whose holder has died", async () => {
    await writeLock(lockOf(await deadPid()));
    const lock = await acquire();
    await expectOurs(lock);
    expect(await readdir(dir)).toEqual(["lock"]);
  });

  it("takes over a lock left by an earlier process that had this same pid (a restarted container)", async () => {
    await writeLock(lockOf(process.pid));
    await expectOurs(await acquire());
  });

  it.each([
    ["empty", ""],
    ["not JSON", "garbage\n"],
    ["pid 0, which would signal our own process group", lockOf(0)],
    ["pid -1, which would signal every process", lockOf(-1)],
    ["no token", JSON.stringify({ pid: 1, hostname: hostname(), started_at: "2025-02-03T04:05:06.000Z" })],
  ])("takes over a garbage lock file: %s", async (_name, content) => {
    await writeLock(content);
    await expectOurs(await acquire());
    expect(await readdir(dir)).toEqual(["lock"]);
  });

  // A takeover first claims the stale lock with a file named after its content; these two tests plant
  // such a claim, as a process that was killed in the middle of a takeover (or is in one) leaves it.
  const claimFor = (staleContent: string): string =>
    `${lockPath()}.takeover-${createHash("sha256").update(staleContent).digest("hex").slice(0, 32)}`;

  it("takes over even when a process died in the middle of taking over the same stale lock", async () => {
    const stale = lockOf(await deadPid());
    await writeLock(stale);
    await writeFile(claimFor(stale), lockOf(await deadPid(), hostname(), "dead-claimer"));

    await expectOurs(await acquire());
    expect(await readdir(dir)).toEqual(["lock"]);
  });

  it("refuses while a live process is taking over the stale lock, naming that process", async () => {
    const stale = lockOf(await deadPid());
    await writeLock(stale);
    const claimer = await liveProcess();
    await writeFile(claimFor(stale), lockOf(claimer, hostname(), "live-claimer"));

    await expect(acquireLock(dir)).rejects.toMatchObject({ code: "LOCK_HELD", holder: { pid: claimer } });
    expect(await readFile(lockPath(), "utf8")).toBe(stale);
  });

  it("lets exactly one of many concurrent attempts take over a stale lock", async () => {
    await writeLock(lockOf(await deadPid()));
    const attempts = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(dir)));

    const won = attempts.flatMap((a) => (a.status === "fulfilled" ? [a.value] : []));
    locks.push(...won);
    expect(won).toHaveLength(1);
    for (const attempt of attempts) {
      if (attempt.status === "rejected") expect(attempt.reason).toBeInstanceOf(LockHeldError);
    }
    await expectOurs(won[0] as Lock);
  });

  it("says which path it cannot create", async () => {
    await mkdir(join(dir, ".."), { recursive: true });
    const blocker = join(dir, "..", "a-file");
    await writeFile(blocker, "");
    const stateDir = join(blocker, "state");

    const attempt = acquireLock(stateDir);
    await expect(attempt).rejects.toThrow(StateIoError);
    await expect(attempt).rejects.toThrow(`cannot create state dir ${stateDir}: ENOTDIR`);
    await expect(attempt).rejects.toMatchObject({ operation: "create", path: stateDir, errno: "ENOTDIR" });
  });

  it("says which state dir it cannot write", async () => {
    await mkdir(dir, { recursive: true });
    // Read-only for everyone, and reachable by the ordinary user a root run acts as.
    await chmod(join(dir, ".."), 0o711);
    await chmod(dir, 0o555);
    try {
      const attempt = withoutRoot(() => acquireLock(dir));
      await expect(attempt).rejects.toThrow(`cannot write state dir ${dir}: EACCES`);
      await expect(attempt).rejects.toMatchObject({ operation: "write", path: dir, errno: "EACCES" });
      expect(await readdir(dir)).toEqual([]);
    } finally {
      await chmod(dir, 0o700);
    }
  });
});

describe("Lock.release and assertHeld", () => {
  it("release deletes our lock, is idempotent, and frees the dir for the next process", async () => {
    const lock = await acquireLock(dir);
    await lock.release();
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    await expectOurs(await acquire());
  });

  it("release keeps a lock that is no longer ours, and assertHeld reports who has it", async () => {
    const lock = await acquire();
    const pid = await liveProcess();
    await writeFile(lockPath(), lockOf(pid));

    await expect(lock.assertHeld()).rejects.toThrow(LockLostError);
    await expect(lock.assertHeld()).rejects.toMatchObject({ code: "LOCK_LOST", holder: { pid } });
    await lock.release();
    expect(await readFile(lockPath(), "utf8")).toBe(lockOf(pid));
  });

  it("renew moves the lease forward while the lock is ours", async () => {
    const lock = await acquire();
    const old = new Date(Date.now() - 3_600_000);
    await utimes(lockPath(), old, old);
    await lock.renew();
    expect((await stat(lockPath())).mtimeMs).toBeGreaterThan(Date.now() - 60_000);
    await expectOurs(lock);
  });

  it("renew fails with LockLostError, touching nothing, once the lock is gone or someone else's", async () => {
    const lock = await acquire();
    await rm(lockPath());
    await expect(lock.renew()).rejects.toThrow(LockLostError);
    await expect(readdir(dir)).resolves.toEqual([]);

    await writeLock(lockOf(1, "new-node"));
    const theirs = new Date(Date.now() - 3_600_000);
    await utimes(lockPath(), theirs, theirs);
    await expect(lock.renew()).rejects.toMatchObject({ code: "LOCK_LOST", holder: { hostname: "new-node" } });
    expect(Math.round((await stat(lockPath())).mtimeMs)).toBe(theirs.getTime());
  });

  it("assertHeld fails once the lock file is gone", async () => {
    const lock = await acquire();
    await rm(lockPath());
    await expect(lock.assertHeld()).rejects.toThrow(
      `lost the lock ${lockPath()}: it was deleted or overwritten`,
    );
  });
});

describe("acquireLock across processes", () => {
  const racers: Child[] = [];

  afterEach(async () => {
    for (const racer of racers.splice(0)) {
      racer.process.kill("SIGKILL");
      await racer.closed;
    }
  });

  it("lets exactly one of several processes take over a stale lock at once", async () => {
    await writeLock(lockOf(await deadPid()));
    for (let i = 0; i < 4; i += 1) racers.push(startChild("lock-race.mjs", [dir]));
    await Promise.all(racers.map((racer) => racer.waitForLine((line) => line === "ready")));

    for (const racer of racers) racer.process.stdin?.write("go\n");
    const results = await Promise.all(racers.map((racer) => racer.waitForLine((line) => line !== "ready")));

    expect(results.filter((result) => result === "won")).toHaveLength(1);
    expect(results.filter((result) => result !== "won")).toEqual(["LOCK_HELD", "LOCK_HELD", "LOCK_HELD"]);
    const winner = racers[results.indexOf("won")];
    const onDisk = JSON.parse(await readFile(lockPath(), "utf8")) as { pid: number };
    expect(onDisk.pid).toBe(winner?.process.pid);
  });
});
