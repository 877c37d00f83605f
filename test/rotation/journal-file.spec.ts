// The journal file across releases: one written before IdP rollovers existed still loads (no rollovers),
// and a rollover in every phase survives a save and a load unchanged.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { EMPTY_JOURNAL, ROLLOVER_PHASES, type RolloverRecord } from "../../src/core/journal.js";
import { JOURNAL_FILE, journalStore } from "../../src/rotation/journal-file.js";

let dir = "";

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "journal-file-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test("a journal from before IdP rollovers loads, with none", async () => {
  const saved = {
    schema_version: 1,
    saved_at: "2026-11-01T00:00:00.000Z",
    data: { rotations: [], disabled: [], unpublished: [], backoff: [], inProgress: null },
  };
  await writeFile(join(dir, JOURNAL_FILE), JSON.stringify(saved));
  const outcome = await journalStore(dir).load();
  expect(outcome.kind).toBe("loaded");
  expect(outcome.data).toEqual(EMPTY_JOURNAL);
});

test("rollovers in every phase, with an IdP step in progress, survive a save and a load", async () => {
  const at = new Date("2026-11-30T07:00:00.000Z");
  const base: RolloverRecord = {
    id: "main/int-okta/rollover/2026-11-30T07:00:00.000Z",
    account: "main",
    integrationId: "int-okta",
    source: "okta",
    phase: "generating",
    intent: { requestedAt: at, validityYears: 2, subject: "CN=Okta", knownKeyIds: ["k1"] },
    key: null,
    previousKeyId: "k1",
    replaces: [{ certificateId: "10", fingerprint: "ab".repeat(32) }],
    startedAt: at,
    activatedAt: null,
    confirmedAt: null,
    retiredAt: null,
    note: null,
  };
  const journal = {
    ...EMPTY_JOURNAL,
    rollovers: ROLLOVER_PHASES.map((phase, i) => ({
      ...base,
      id: `${base.id}#${i}`,
      source: i % 2 === 0 ? ("okta" as const) : ("entra" as const),
      phase,
      key: phase === "generating" ? null : { id: `k${i + 2}`, fingerprint: "cd".repeat(32), notAfter: at },
    })),
    inProgress: {
      action: "activate" as const,
      account: "main",
      integrationId: "int-okta",
      certificateId: null,
      rotationId: `${base.id}#2`,
      startedAt: at,
    },
  };
  const store = journalStore(dir);
  await store.save(journal);
  const outcome = await journalStore(dir).load();
  expect(outcome.kind).toBe("loaded");
  expect(outcome.data).toEqual(journal);
});
