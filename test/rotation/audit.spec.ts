import { appendFile, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditLog, type AuditRecord } from "../../src/rotation/audit.js";
import { StateIoError } from "../../src/rotation/errors.js";

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "audit-spec-"));
  file = join(dir, "audit.jsonl");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const FINGERPRINT = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

function record(n: number, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    time: new Date(Date.UTC(2025, 0, 1, 0, 0, n)),
    account: "prod",
    integrationId: `int-${n}`,
    certificateId: `cert-${n}`,
    fingerprintSha256: FINGERPRINT,
    action: "upload",
    result: "success",
    ...overrides,
  };
}

describe("AuditLog", () => {
  it("reads back what was appended, oldest first, across instances", async () => {
    const written: AuditRecord[] = [
      record(1),
      record(2, { action: "verify", result: "failure", message: "fingerprint differs" }),
      record(3, { action: "disable", result: "dry_run", certificateId: null, fingerprintSha256: null }),
    ];
    const log = new AuditLog(file);
    for (const r of written) await log.append(r);

    expect(await new AuditLog(file).read()).toEqual(written);
  });

  it("writes one snake_case JSON object per line", async () => {
    await new AuditLog(file).append(record(1, { message: "uploaded" }));
    const text = await readFile(file, "utf8");
    expect(text.endsWith("\n")).toBe(true);
    expect(text.split("\n")).toHaveLength(2);
    expect(JSON.parse(text) as unknown).toEqual({
      time: "2025-01-01T00:00:01.000Z",
      account: "prod",
      integration_id: "int-1",
      certificate_id: "cert-1",
      fingerprint_sha256: FINGERPRINT,
      action: "upload",
      result: "success",
      message: "uploaded",
    });
  });

  it("reads an absent log as empty", async () => {
    expect(await new AuditLog(file).read()).toEqual([]);
  });

  it("returns only the newest `limit` records", async () => {
    const log = new AuditLog(file);
    for (let n = 1; n <= 5; n += 1) await log.append(record(n));
    expect((await log.read({ limit: 2 })).map((r) => r.integrationId)).toEqual(["int-4", "int-5"]);
    expect(await log.read({ limit: 10 })).toHaveLength(5);
    expect(await log.read({ limit: 0 })).toEqual([]);
  });

  it("keeps call order for appends started together", async () => {
    const log = new AuditLog(file);
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append(record(i))));
    expect((await log.read()).map((r) => r.integrationId)).toEqual(
      Array.from({ length: 40 }, (_, i) => `int-${i}`),
    );
  });

  it("skips a torn last line left by a crash, and the next process does not glue onto it", async () => {
    await new AuditLog(file).append(record(1));
    await new AuditLog(file).append(record(2));
    const torn = '{"time":"2025-01-01T00:00:03.000Z","account":"pr';
    await appendFile(file, torn);

    expect((await new AuditLog(file).read()).map((r) => r.integrationId)).toEqual(["int-1", "int-2"]);

    // A restarted process appends: the torn bytes must stay on a line of their own.
    const restarted = new AuditLog(file);
    await restarted.append(record(4));
    await restarted.append(record(5));
    expect((await restarted.read()).map((r) => r.integrationId)).toEqual([
      "int-1",
      "int-2",
      "int-4",
      "int-5",
    ]);
    const lines = (await readFile(file, "utf8")).split("\n");
    expect(lines[2]).toBe(torn);
    expect(lines).toHaveLength(6);
  });

  it("skips a complete line it does not understand and keeps reading past it", async () => {
    const log = new AuditLog(file);
    await log.append(record(1));
    await appendFile(file, `${JSON.stringify({ time: "2025-01-01T00:00:02.000Z", action: "rollback" })}\n`);
    await log.append(record(3));
    expect((await log.read()).map((r) => r.integrationId)).toEqual(["int-1", "int-3"]);
  });

  it("rejects with StateIoError naming the path when the log cannot be written, then recovers", async () => {
    const nested = join(dir, "missing-dir", "audit.jsonl");
    const log = new AuditLog(nested);
    const failure = log.append(record(1));
    await expect(failure).rejects.toThrow(StateIoError);
    await expect(failure).rejects.toThrow(`cannot write audit log ${nested}: ENOENT`);

    await mkdir(join(dir, "missing-dir"));
    await log.append(record(2));
    expect((await log.read()).map((r) => r.integrationId)).toEqual(["int-2"]);
  });

  it("rejects a record whose time is not a date, writing nothing", async () => {
    const log = new AuditLog(file);
    await expect(log.append(record(1, { time: new Date(Number.NaN) }))).rejects.toThrow(RangeError);
    expect(await log.read()).toEqual([]);
  });
});
