// Typed errors of the state_dir persistence (journal store, audit log, lock). Each has a stable `code`
// and the path it concerns, so the CLI can map it to an exit code and a person can act on the message.
// Must never hold file contents beyond what a message needs (the journal is not secret, but stays local).

import { hostname } from "node:os";

/** The errno code (`ENOENT`, `EACCES`, ...) of a Node system error, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") return error.code;
  return undefined;
}

export type StateOperation = "create" | "read" | "write";

/** A file or directory under state_dir could not be created, read or written. */
export class StateIoError extends Error {
  readonly code = "STATE_IO";
  override readonly name = "StateIoError";
  readonly operation: StateOperation;
  readonly path: string;
  /** The underlying errno code, e.g. `EACCES`, when the cause was a system error. */
  readonly errno: string | undefined;

  constructor(operation: StateOperation, subject: string, path: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`cannot ${operation} ${subject} ${path}: ${reason}`, { cause });
    this.operation = operation;
    this.path = path;
    this.errno = errnoCode(cause);
  }
}

/** save() was given data that load() would reject: refusing to write a file we could not read back. */
export class StateSchemaError extends Error {
  readonly code = "STATE_SCHEMA";
  override readonly name = "StateSchemaError";
  readonly path: string;

  constructor(subject: string, path: string, problem: string) {
    super(`refusing to save ${subject} ${path}: the data would not load back (${problem})`);
    this.path = path;
  }
}

export interface LockHolder {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: Date;
}

/** When the holder last renewed its lease, and how long a lease lasts. */
export interface LockLease {
  readonly renewedAt: Date;
  readonly leaseMs: number;
}

/** Another process holds (or is busy taking) the lock of a state_dir. */
export class LockHeldError extends Error {
  readonly code = "LOCK_HELD";
  override readonly name = "LockHeldError";
  readonly dir: string;
  /** null: the lock kept changing hands while we tried, so no single holder could be named. */
  readonly holder: LockHolder | null;

  constructor(dir: string, holder: LockHolder | null, lease?: LockLease) {
    super(lockHeldMessage(dir, holder, lease));
    this.dir = dir;
    this.holder = holder;
  }
}

function lockHeldMessage(dir: string, holder: LockHolder | null, lease: LockLease | undefined): string {
  if (holder === null) {
    return `state dir ${dir} is locked: its lock kept changing while we tried to take it; another sendgrid-sso-certs is starting with the same state_dir`;
  }
  const by = `state dir ${dir} is locked by pid ${holder.pid} on host ${holder.hostname} since ${holder.startedAt.toISOString()}`;
  if (holder.hostname === hostname())
    return `${by}; another sendgrid-sso-certs is running with the same state_dir`;
  // A pid on another host cannot be probed from here: only its lease says whether it still runs.
  const renewed = lease
    ? `; its lease was last renewed at ${lease.renewedAt.toISOString()} and is taken over once ${lease.leaseMs / 1000}s pass without renewal`
    : "";
  return `${by}; that host shares this state_dir and its process cannot be checked from here${renewed}: if it no longer runs, delete ${dir}/lock`;
}

/** The lock file no longer names this process: someone deleted it or took it over. */
export class LockLostError extends Error {
  readonly code = "LOCK_LOST";
  override readonly name = "LockLostError";
  readonly path: string;
  /** Who holds it now; null when the lock file is gone or unreadable. */
  readonly holder: LockHolder | null;

  constructor(path: string, holder: LockHolder | null) {
    const now = holder
      ? `it now names pid ${holder.pid} on host ${holder.hostname}`
      : "it was deleted or overwritten";
    super(`lost the lock ${path}: ${now}; stopping so that two processes never rotate with the same state`);
    this.path = path;
    this.holder = holder;
  }
}
