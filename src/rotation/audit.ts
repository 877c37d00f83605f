// The append-only audit log (JSON Lines) of every change made, tried or dry-run on SendGrid. Each record
// is one O_APPEND write followed by fsync. Never rewrites, truncates or reorders the file; a line torn by
// a crash is skipped when read and never glued to the next record.

import { open, readFile, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { STATE_FILE_MODE, syncDirectory } from "./atomic-file.js";
import { errnoCode, StateIoError } from "./errors.js";

export const AUDIT_ACTIONS = [
  "upload",
  "verify",
  "disable",
  "enable",
  "delete",
  "generate",
  "activate",
  "confirm",
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
export const AUDIT_RESULTS = ["success", "failure", "dry_run"] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

export interface AuditRecord {
  readonly time: Date;
  readonly account: string;
  readonly integrationId: string;
  readonly certificateId: string | null;
  readonly fingerprintSha256: string | null;
  readonly action: AuditAction;
  readonly result: AuditResult;
  readonly message?: string;
}

const lineSchema = z.object({
  time: z.iso.datetime(),
  account: z.string(),
  integration_id: z.string(),
  certificate_id: z.string().nullable(),
  fingerprint_sha256: z.string().nullable(),
  action: z.enum(AUDIT_ACTIONS),
  result: z.enum(AUDIT_RESULTS),
  message: z.string().optional(),
});
type AuditLine = z.infer<typeof lineSchema>;

const NEWLINE = 0x0a;
const LABEL = "audit log";

export class AuditLog {
  readonly path: string;
  /** Appends and reads run one after another, in call order. */
  #tail: Promise<unknown> = Promise.resolve();
  /** Whether this process has seen the file end on a line boundary (it does after each of our appends). */
  #tailChecked = false;

  constructor(path: string) {
    this.path = path;
  }

  async append(record: AuditRecord): Promise<void> {
    const line = `${JSON.stringify(toLine(record))}\n`;
    await this.#enqueue(async () => {
      try {
        await this.#write(line);
      } catch (error) {
        throw new StateIoError("write", LABEL, this.path, error);
      }
    });
  }

  /** Records oldest first; with `limit`, only the newest `limit` of them. Lines that do not parse are skipped. */
  read(options: { readonly limit?: number } = {}): Promise<AuditRecord[]> {
    return this.#enqueue(async () => {
      let text: string;
      try {
        text = await readFile(this.path, "utf8");
      } catch (error) {
        if (errnoCode(error) === "ENOENT") return [];
        throw new StateIoError("read", LABEL, this.path, error);
      }
      const records = text.split("\n").flatMap((line) => {
        const record = parseLine(line);
        return record ? [record] : [];
      });
      const { limit } = options;
      if (limit === undefined) return records;
      return limit > 0 ? records.slice(-limit) : [];
    });
  }

  #enqueue<R>(operation: () => Promise<R>): Promise<R> {
    const result = this.#tail.then(operation);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #write(line: string): Promise<void> {
    const handle = await open(this.path, "a+", STATE_FILE_MODE);
    let isNewFile = false;
    try {
      let text = line;
      if (!this.#tailChecked) {
        const { size } = await handle.stat();
        isNewFile = size === 0;
        // A crash mid-append can leave a line without its newline; start on a fresh line so the torn
        // bytes stay a line of their own (skipped on read) instead of spoiling this record.
        if (!isNewFile && !(await endsWithNewline(handle, size))) text = `\n${line}`;
      }
      // Until this write is known complete, a failure (say ENOSPC) may have left a torn line behind.
      this.#tailChecked = false;
      await handle.writeFile(text, "utf8");
      await handle.sync();
      this.#tailChecked = true;
    } finally {
      await handle.close();
    }
    if (isNewFile) await syncDirectory(dirname(this.path));
  }
}

async function endsWithNewline(handle: FileHandle, size: number): Promise<boolean> {
  const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
  return buffer[0] === NEWLINE;
}

function toLine(record: AuditRecord): AuditLine {
  return {
    time: record.time.toISOString(),
    account: record.account,
    integration_id: record.integrationId,
    certificate_id: record.certificateId,
    fingerprint_sha256: record.fingerprintSha256,
    action: record.action,
    result: record.result,
    ...(record.message === undefined ? {} : { message: record.message }),
  };
}

function parseLine(line: string): AuditRecord | null {
  if (line.trim() === "") return null;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return null;
  }
  const parsed = lineSchema.safeParse(json);
  if (!parsed.success) return null;
  const l = parsed.data;
  return {
    time: new Date(l.time),
    account: l.account,
    integrationId: l.integration_id,
    certificateId: l.certificate_id,
    fingerprintSha256: l.fingerprint_sha256,
    action: l.action,
    result: l.result,
    ...(l.message === undefined ? {} : { message: l.message }),
  };
}
