// The lock that keeps two processes from rotating with the same state_dir: a file `lock` that appears
// whole and exclusively, naming {pid, hostname, started_at, token}, with a lease: the holder renews the
// file's modification time every LOCK_RENEW_MS. Takes over a lock only when its holder is provably dead,
// its lease has lapsed, or the file is garbage; must never take one whose holder may be alive and
// renewing, nor delete or touch a lock that is not its own.

import { createHash, randomBytes } from "node:crypto";
import { open, utimes } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { createStateDir, StateDirError } from "../config/state-dir.js";
import { createFileExclusively, removeIfPresent, replaceFile } from "./atomic-file.js";
import { errnoCode, LockHeldError, LockLostError, StateIoError, type LockHolder } from "./errors.js";

/** How often a holder renews its lease. */
export const LOCK_RENEW_MS = 30_000;
/**
 * A lock from another host whose lease is older than this is taken over: its holder cannot be probed from
 * here, and one that has missed four renewals is gone (a rescheduled pod) or cut off from the state_dir.
 * The holder stamps the time with its own clock, so hosts sharing a state_dir need clocks that agree to
 * well within this (NTP does).
 */
export const LOCK_LEASE_MS = 120_000;

export interface Lock {
  readonly path: string;
  readonly holder: LockHolder;
  /** Throws LockLostError unless the lock file still names this lock; call before acting on the state. */
  assertHeld(): Promise<void>;
  /** assertHeld(), then renews the lease (the lock file's modification time). */
  renew(): Promise<void>;
  /** Deletes the lock file if it is still this lock's; a no-op otherwise or when called again. */
  release(): Promise<void>;
}

const LOCK_FILE = "lock";
// Each round takes the lock, meets a live holder, or loses a takeover race to a process that may die
// before taking the lock; running out of rounds means the lock keeps changing hands under us.
const MAX_ROUNDS = 5;
// Each level of claims beyond the first stands for a process that died in the middle of a takeover.
const MAX_CLAIM_DEPTH = 8;

const lockFileSchema = z.object({
  pid: z.number().int().positive(),
  hostname: z.string().min(1),
  started_at: z.iso.datetime(),
  token: z.string().min(1),
});

type Observed =
  | { readonly kind: "missing" }
  | { readonly kind: "garbage"; readonly raw: string }
  | {
      readonly kind: "lock";
      readonly raw: string;
      readonly holder: LockHolder;
      readonly token: string;
      /** The file's modification time: when its holder last renewed the lease. */
      readonly renewedAt: Date;
    };
type ObservedLock = Extract<Observed, { kind: "lock" }>;

/** Tokens of the locks this process holds: its own pid is alive, but a lock with its pid is ours only if listed. */
const heldHere = new Set<string>();

export async function acquireLock(dir: string): Promise<Lock> {
  try {
    createStateDir(dir);
  } catch (error) {
    throw new StateIoError("create", "state dir", dir, error instanceof StateDirError ? error.cause : error);
  }
  const path = join(dir, LOCK_FILE);
  const holder: LockHolder = { pid: process.pid, hostname: hostname(), startedAt: new Date() };
  const token = randomBytes(16).toString("hex");
  const content = `${JSON.stringify({
    pid: holder.pid,
    hostname: holder.hostname,
    started_at: holder.startedAt.toISOString(),
    token,
  })}\n`;
  // Registered before the file exists: another attempt in this process that reads it must see a live holder.
  heldHere.add(token);
  try {
    await takeLock(dir, path, content);
  } catch (error) {
    heldHere.delete(token);
    throw error;
  }
  return new HeldLock(path, holder, token);
}

async function takeLock(dir: string, path: string, content: string): Promise<void> {
  for (let round = 1; round <= MAX_ROUNDS; round += 1) {
    if (await writing(dir, () => createFileExclusively(path, content))) return;
    const seen = await observe(path);
    if (seen.kind === "missing") continue;
    if (seen.kind === "lock" && !isStale(seen)) throw heldBy(dir, seen);
    if (await takeOver(dir, path, seen.raw, content)) return;
  }
  throw new LockHeldError(dir, null);
}

/**
 * Replaces the stale lock `staleRaw` with ours; false when the lock changed meanwhile. A path has no
 * compare-and-swap, so only the maker of the claim file named after the stale content may re-read and
 * replace it: of several processes that found the same stale lock, exactly one does. A claim whose maker
 * died is passed by claiming it in turn. Claims are deleted only once the lock no longer holds `staleRaw`
 * (or, for our own, when we give up), so no two processes can ever both reach the replace step.
 */
async function takeOver(dir: string, path: string, staleRaw: string, content: string): Promise<boolean> {
  const passed: string[] = [];
  let claim = claimPath(path, staleRaw);
  for (let depth = 0; depth < MAX_CLAIM_DEPTH; depth += 1) {
    if (await writing(dir, () => createFileExclusively(claim, content))) {
      let movedOn = false;
      let replaced = false;
      try {
        const current = await observe(path);
        // The same content may have been renewed since we found its lease lapsed: then it is alive.
        if (
          current.kind !== "missing" &&
          current.raw === staleRaw &&
          (current.kind !== "lock" || isStale(current))
        ) {
          await writing(dir, () => replaceFile(path, content));
          replaced = true;
        }
        movedOn = true;
      } finally {
        // Once the lock no longer holds staleRaw every claim on it is spent; after a failure before that,
        // only our own claim may go (the dead makers' ones must keep blocking their level).
        for (const file of movedOn ? [...passed, claim] : [claim])
          await writing(dir, () => removeIfPresent(file));
      }
      return replaced;
    }
    const seen = await observe(claim);
    if (seen.kind === "missing") continue;
    if (seen.kind === "lock" && !isStale(seen)) throw heldBy(dir, seen);
    passed.push(claim);
    claim = claimPath(path, `${claim}\n${seen.raw}`);
  }
  return false;
}

function claimPath(path: string, identity: string): string {
  return `${path}.takeover-${createHash("sha256").update(identity).digest("hex").slice(0, 32)}`;
}

async function writing<R>(dir: string, operation: () => Promise<R>): Promise<R> {
  try {
    return await operation();
  } catch (error) {
    throw new StateIoError("write", "state dir", dir, error);
  }
}

class HeldLock implements Lock {
  readonly path: string;
  readonly holder: LockHolder;
  readonly #token: string;

  constructor(path: string, holder: LockHolder, token: string) {
    this.path = path;
    this.holder = holder;
    this.#token = token;
  }

  async assertHeld(): Promise<void> {
    const seen = await observe(this.path);
    if (seen.kind === "lock" && seen.token === this.#token) return;
    throw new LockLostError(this.path, seen.kind === "lock" ? seen.holder : null);
  }

  async renew(): Promise<void> {
    await this.assertHeld();
    const now = new Date();
    try {
      // Taken over between the check and here: the touch lands on the new holder's file, which only
      // renews its lease early; the next check finds the loss.
      await utimes(this.path, now, now);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") throw new LockLostError(this.path, null);
      throw new StateIoError("write", "lock", this.path, error);
    }
  }

  async release(): Promise<void> {
    const seen = await observe(this.path);
    if (seen.kind === "lock" && seen.token === this.#token) {
      try {
        await removeIfPresent(this.path);
      } catch (error) {
        throw new StateIoError("write", "lock", this.path, error);
      }
    }
    heldHere.delete(this.#token);
  }
}

async function observe(path: string): Promise<Observed> {
  let raw: string;
  let renewedAt: Date;
  try {
    // One handle for content and time, so both belong to the same file even if it is replaced meanwhile.
    const handle = await open(path, "r");
    try {
      raw = await handle.readFile("utf8");
      renewedAt = (await handle.stat()).mtime;
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { kind: "missing" };
    throw new StateIoError("read", "lock", path, error);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    return { kind: "garbage", raw };
  }
  const parsed = lockFileSchema.safeParse(json);
  if (!parsed.success) return { kind: "garbage", raw };
  const { pid, hostname: host, started_at, token } = parsed.data;
  return {
    kind: "lock",
    raw,
    holder: { pid, hostname: host, startedAt: new Date(started_at) },
    token,
    renewedAt,
  };
}

function heldBy(dir: string, seen: ObservedLock): LockHeldError {
  return new LockHeldError(dir, seen.holder, { renewedAt: seen.renewedAt, leaseMs: LOCK_LEASE_MS });
}

function isStale(seen: ObservedLock): boolean {
  // A pid on another host cannot be probed from here: only a lapsed lease says it is gone.
  if (seen.holder.hostname !== hostname()) return Date.now() - seen.renewedAt.getTime() > LOCK_LEASE_MS;
  return isProvablyDead(seen.holder, seen.token);
}

function isProvablyDead(holder: LockHolder, token: string): boolean {
  // Our own pid with a token we do not hold: a previous life of this pid (containers restart as pid 1).
  if (holder.pid === process.pid) return !heldHere.has(token);
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errnoCode(error) === "ESRCH";
  }
}
