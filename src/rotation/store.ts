// A versioned JSON document in one file (the rotation journal): load() validates it, save() replaces it
// atomically, one operation at a time. Owns the envelope {schema_version, saved_at, data} and what to do
// with a damaged file: set it aside under a new name and start empty. Must never leave a half-written
// file under its path, nor delete or overwrite a damaged one.

import { link, readFile, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { z, type ZodType } from "zod";
import { replaceFile, syncDirectory } from "./atomic-file.js";
import { errnoCode, StateIoError, StateSchemaError } from "./errors.js";

export interface StoreOptions<T> {
  readonly path: string;
  /** Validates `data` as read back from JSON (so Dates arrive as ISO strings). */
  readonly schema: ZodType<T>;
  /** The schema_version this program writes and the newest it reads. A positive integer. */
  readonly version: number;
  /** The document to start from when the file is missing or damaged. */
  readonly empty: () => T;
  /** Names the file in messages, e.g. "journal". Default "state file". */
  readonly label?: string;
  /** Clock for saved_at and backup names. Default: the system clock. */
  readonly now?: () => Date;
  /** Told the outcome of every write of the file (null: written), so a full or failing disk is seen. */
  readonly onWrite?: (error: StateIoError | null) => void;
}

export type LoadOutcome<T> =
  | { readonly kind: "loaded"; readonly data: T }
  | { readonly kind: "missing"; readonly data: T }
  /** data = empty(); the damaged file was moved to backupPath, content untouched. */
  | { readonly kind: "corrupt"; readonly data: T; readonly problem: string; readonly backupPath: string };

const envelopeSchema = z.object({
  schema_version: z.number().int().positive(),
  saved_at: z.iso.datetime(),
  data: z.unknown(),
});

type Check<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly problem: string };

export class JsonStore<T> {
  readonly path: string;
  readonly #schema: ZodType<T>;
  readonly #version: number;
  readonly #empty: () => T;
  readonly #label: string;
  readonly #now: () => Date;
  readonly #onWrite: (error: StateIoError | null) => void;
  /** Settles when the last queued operation has; loads and saves run one after another, in call order. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(options: StoreOptions<T>) {
    if (!Number.isInteger(options.version) || options.version < 1) {
      throw new RangeError(`store version must be a positive integer, got ${options.version}`);
    }
    this.path = options.path;
    this.#schema = options.schema;
    this.#version = options.version;
    this.#empty = options.empty;
    this.#label = options.label ?? "state file";
    this.#now = options.now ?? (() => new Date());
    this.#onWrite = options.onWrite ?? (() => undefined);
  }

  load(): Promise<LoadOutcome<T>> {
    return this.#enqueue(() => this.#load());
  }

  /**
   * Writes `data` as it is at the time of the call (later mutations of it are not saved). Rejects with
   * StateSchemaError, writing nothing, when the saved file would not pass load(); with StateIoError when
   * the file cannot be written. A failed save does not hold up the ones queued after it.
   */
  async save(data: T): Promise<void> {
    const text = this.#encode(data);
    await this.#enqueue(async () => {
      try {
        await replaceFile(this.path, text);
      } catch (error) {
        const failure = new StateIoError("write", this.#label, this.path, error);
        this.#onWrite(failure);
        throw failure;
      }
      this.#onWrite(null);
    });
  }

  #enqueue<R>(operation: () => Promise<R>): Promise<R> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  #encode(data: T): string {
    let text: string;
    try {
      text = JSON.stringify(
        { schema_version: this.#version, saved_at: this.#now().toISOString(), data },
        null,
        2,
      );
    } catch (error) {
      throw new StateSchemaError(
        this.#label,
        this.path,
        error instanceof Error ? error.message : String(error),
      );
    }
    const check = this.#decode(text);
    if (!check.ok) throw new StateSchemaError(this.#label, this.path, check.problem);
    return `${text}\n`;
  }

  async #load(): Promise<LoadOutcome<T>> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return { kind: "missing", data: this.#empty() };
      throw new StateIoError("read", this.#label, this.path, error);
    }
    const check = this.#decode(text);
    if (check.ok) return { kind: "loaded", data: check.data };
    const backupPath = await this.#setAside();
    return {
      kind: "corrupt",
      data: this.#empty(),
      problem: `${this.#label} ${this.path} is corrupt: ${check.problem}; kept a copy at ${backupPath}`,
      backupPath,
    };
  }

  #decode(text: string): Check<T> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      return { ok: false, problem: describeJsonError(error, text) };
    }
    const envelope = envelopeSchema.safeParse(json);
    if (!envelope.success) {
      return { ok: false, problem: `not a ${this.#label} file (${describeIssues(envelope.error.issues)})` };
    }
    const version = envelope.data.schema_version;
    if (version > this.#version) {
      return {
        ok: false,
        problem: `schema_version ${version} is newer than this program understands (${this.#version}); it was written by a newer sendgrid-sso-certs`,
      };
    }
    const data = this.#schema.safeParse(envelope.data.data);
    if (!data.success) {
      return {
        ok: false,
        problem: `wrong shape (schema_version ${version}): ${describeIssues(data.error.issues)}`,
      };
    }
    return { ok: true, data: data.data };
  }

  /** Moves the damaged file to a name no other file has; link(2) refuses to overwrite an older backup. */
  async #setAside(): Promise<string> {
    const stamp = this.#now().toISOString().replaceAll(":", "-");
    for (let attempt = 1; ; attempt += 1) {
      const backupPath = `${this.path}.corrupt-${stamp}${attempt === 1 ? "" : `-${attempt}`}`;
      try {
        await link(this.path, backupPath);
        await unlink(this.path);
        await syncDirectory(dirname(this.path));
        return backupPath;
      } catch (error) {
        if (errnoCode(error) !== "EEXIST") throw new StateIoError("write", this.#label, backupPath, error);
      }
    }
  }
}

function describeJsonError(error: unknown, text: string): string {
  const message = error instanceof Error ? error.message : String(error);
  // V8 words a file that stops early either way, depending on where it stops.
  const position = /at position (\d+)/.exec(message);
  const stopsEarly =
    /end of JSON input/i.test(message) || (position !== null && Number(position[1]) >= text.trimEnd().length);
  if (stopsEarly) return `unexpected end of JSON at byte ${Buffer.byteLength(text)} (truncated)`;
  // V8 quotes the bytes around the error: a newline or NUL in them must not split or garble the log line.
  return `not JSON: ${message.replace(/\p{Cc}/gu, (c) => `\\u${c.codePointAt(0)!.toString(16).padStart(4, "0")}`)}`;
}

function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 3).map((issue) => {
    const at = issue.path.length > 0 ? issue.path.map(String).join(".") : "(top level)";
    return `${at}: ${issue.message}`;
  });
  return issues.length > 3 ? `${shown.join("; ")}; and ${issues.length - 3} more` : shown.join("; ");
}
