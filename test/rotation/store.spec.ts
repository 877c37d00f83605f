import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { StateIoError, StateSchemaError } from "../../src/rotation/errors.js";
import { JsonStore, type StoreOptions } from "../../src/rotation/store.js";
import { CHILD_CEILING_MS, startChild } from "./children.js";

const NOW = new Date("2025-03-04T05:06:07.089Z");
const BACKUP_STAMP = "2025-03-04T05-06-07.089Z";

const journalSchema = z.object({
  entries: z.array(
    z.object({
      integrationId: z.string(),
      at: z.iso.datetime().transform((text) => new Date(text)),
      step: z.enum(["upload", "verify"]),
    }),
  ),
});
type Journal = z.infer<typeof journalSchema>;
const emptyJournal = (): Journal => ({ entries: [] });
const someJournal: Journal = {
  entries: [
    { integrationId: "okta-1", at: new Date("2025-01-01T00:00:00.000Z"), step: "upload" },
    { integrationId: "okta-1", at: new Date("2025-01-01T00:00:05.000Z"), step: "verify" },
  ],
};

let dir: string;
let file: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "store-spec-"));
  file = join(dir, "journal.json");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function journalStore(overrides: Partial<StoreOptions<Journal>> = {}): JsonStore<Journal> {
  return new JsonStore({
    path: file,
    schema: journalSchema,
    version: 1,
    empty: emptyJournal,
    label: "journal",
    now: () => NOW,
    ...overrides,
  });
}

describe("JsonStore round trip", () => {
  it("loads in a fresh instance what was saved, Dates included, inside the versioned envelope", async () => {
    await journalStore().save(someJournal);

    const outcome = await journalStore().load();
    expect(outcome).toEqual({ kind: "loaded", data: someJournal });
    const onDisk = JSON.parse(await readFile(file, "utf8")) as unknown;
    expect(onDisk).toEqual({
      schema_version: 1,
      saved_at: NOW.toISOString(),
      data: {
        entries: [
          { integrationId: "okta-1", at: "2025-01-01T00:00:00.000Z", step: "upload" },
          { integrationId: "okta-1", at: "2025-01-01T00:00:05.000Z", step: "verify" },
        ],
      },
    });
  });

  it("reports a missing file as missing with empty() data, and creates nothing", async () => {
    const outcome = await journalStore().load();
    expect(outcome).toEqual({ kind: "missing", data: { entries: [] } });
    expect(await readdir(dir)).toEqual([]);
  });

  it("leaves only the file itself behind: no temp files", async () => {
    const store = journalStore();
    for (let i = 0; i < 5; i += 1) await store.save(someJournal);
    expect(await readdir(dir)).toEqual(["journal.json"]);
  });

  it("reads a file of an older schema_version whose data still fits the schema", async () => {
    await journalStore({ version: 1 }).save(someJournal);
    const outcome = await journalStore({ version: 2 }).load();
    expect(outcome).toEqual({ kind: "loaded", data: someJournal });
  });

  it("saves the data as it was when save() was called, not as mutated afterwards", async () => {
    const data: Journal = { entries: [...someJournal.entries] };
    const saving = journalStore().save(data);
    data.entries.pop();
    await saving;
    expect((await journalStore().load()).data).toEqual(someJournal);
  });
});

describe("JsonStore with a damaged file", () => {
  const valid = JSON.stringify({
    schema_version: 1,
    saved_at: NOW.toISOString(),
    data: { entries: [{ integrationId: "okta-1", at: "2025-01-01T00:00:00.000Z", step: "upload" }] },
  });
  const truncated = valid.slice(0, 57);
  const cases: { name: string; content: string; problem: string }[] = [
    { name: "garbage", content: "this is not { json", problem: "not JSON: " },
    {
      name: "truncated",
      content: truncated,
      problem: `unexpected end of JSON at byte ${Buffer.byteLength(truncated)} (truncated)`,
    },
    { name: "empty", content: "", problem: "unexpected end of JSON at byte 0 (truncated)" },
    {
      name: "not an envelope",
      content: JSON.stringify({ entries: [] }),
      problem: "not a journal file (schema_version: ",
    },
    {
      name: "wrong data shape",
      content: JSON.stringify({
        schema_version: 1,
        saved_at: NOW.toISOString(),
        data: { entries: [{ step: 7 }] },
      }),
      problem: "wrong shape (schema_version 1): entries.0.integrationId: ",
    },
    {
      name: "future schema_version",
      content: valid.replace('"schema_version":1', '"schema_version":2'),
      problem: "schema_version 2 is newer than this program understands (1)",
    },
  ];

  it.each(cases)("$name: corrupt, empty data, the bytes kept in a backup", async ({ content, problem }) => {
    await writeFile(file, content);

    const outcome = await journalStore().load();

    const backupPath = `${file}.corrupt-${BACKUP_STAMP}`;
    expect(outcome).toEqual({
      kind: "corrupt",
      data: { entries: [] },
      problem: expect.stringContaining(problem) as string,
      backupPath,
    });
    if (outcome.kind !== "corrupt") throw new Error("unreachable");
    expect(outcome.problem.startsWith(`journal ${file} is corrupt: `)).toBe(true);
    expect(outcome.problem.endsWith(`; kept a copy at ${backupPath}`)).toBe(true);
    expect(await readFile(backupPath, "utf8")).toBe(content);
    expect(await readdir(dir)).toEqual([`journal.json.corrupt-${BACKUP_STAMP}`]);
  });

  it("names every truncation of a saved file a truncation, with its length in bytes", async () => {
    const store = journalStore();
    await store.save(someJournal);
    const whole = await readFile(file, "utf8");
    const cut = whole.trimEnd();
    for (let length = 0; length < cut.length; length += 1) {
      await writeFile(file, cut.slice(0, length));
      const outcome = await store.load();
      if (outcome.kind !== "corrupt") throw new Error(`a ${length}-byte prefix loaded as ${outcome.kind}`);
      expect(outcome.problem).toContain(`is corrupt: unexpected end of JSON at byte ${length} (truncated);`);
      await rm(outcome.backupPath);
    }
  });

  it("starts over cleanly after a corrupt file: the next save loads", async () => {
    await writeFile(file, "{");
    const store = journalStore();
    expect((await store.load()).kind).toBe("corrupt");
    await store.save(someJournal);
    expect(await store.load()).toEqual({ kind: "loaded", data: someJournal });
  });

  it("never overwrites an earlier backup taken at the same instant", async () => {
    const store = journalStore();
    await writeFile(file, "first damage");
    const first = await store.load();
    await writeFile(file, "second damage");
    const second = await store.load();

    if (first.kind !== "corrupt" || second.kind !== "corrupt") throw new Error("expected two corrupt loads");
    expect(second.backupPath).toBe(`${first.backupPath}-2`);
    expect(await readFile(first.backupPath, "utf8")).toBe("first damage");
    expect(await readFile(second.backupPath, "utf8")).toBe("second damage");
  });
});

describe("JsonStore save failures", () => {
  it("refuses data that would not load back (NaN becomes null in JSON), keeping the old file", async () => {
    const store = new JsonStore({
      path: file,
      schema: z.object({ count: z.number() }),
      version: 1,
      empty: () => ({ count: 0 }),
      label: "journal",
    });
    await store.save({ count: 1 });
    const before = await readFile(file, "utf8");

    await expect(store.save({ count: Number.NaN })).rejects.toThrow(StateSchemaError);
    await expect(store.save({ count: Number.NaN })).rejects.toThrow(
      `refusing to save journal ${file}: the data would not load back (wrong shape (schema_version 1): count: `,
    );
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("refuses data JSON cannot encode", async () => {
    const store = new JsonStore({
      path: file,
      schema: z.object({ big: z.unknown() }),
      version: 1,
      empty: () => ({ big: 0 }),
    });
    await expect(store.save({ big: 10n })).rejects.toThrow(StateSchemaError);
    expect(await readdir(dir)).toEqual([]);
  });

  it("rejects with StateIoError naming the path when the file cannot be written, then recovers", async () => {
    const nested = join(dir, "not-yet", "journal.json");
    const store = journalStore({ path: nested });

    const failure = store.save(someJournal);
    await expect(failure).rejects.toThrow(StateIoError);
    await expect(failure).rejects.toThrow(`cannot write journal ${nested}: ENOENT`);
    await expect(failure).rejects.toMatchObject({ code: "STATE_IO", errno: "ENOENT", path: nested });

    await mkdir(join(dir, "not-yet"));
    await store.save(someJournal);
    expect(await store.load()).toEqual({ kind: "loaded", data: someJournal });
    expect(await readdir(join(dir, "not-yet"))).toEqual(["journal.json"]);
  });

  it("rejects with StateIoError when the path cannot be read", async () => {
    await mkdir(file);
    await expect(journalStore().load()).rejects.toMatchObject({
      code: "STATE_IO",
      operation: "read",
      errno: "EISDIR",
      path: file,
    });
  });
});

describe("JsonStore concurrency in one process", () => {
  const counterSchema = z.object({ seq: z.number().int() });
  const counterStore = (): JsonStore<{ seq: number }> =>
    new JsonStore({ path: file, schema: counterSchema, version: 1, empty: () => ({ seq: 0 }) });
  const seqOnDisk = (): number =>
    counterSchema.parse((JSON.parse(readFileSync(file, "utf8")) as { data: unknown }).data).seq;

  it("runs saves one at a time in call order: when save k resolves, the file holds k", async () => {
    const store = counterStore();
    const seen: number[] = [];
    const saves = Array.from({ length: 30 }, (_, i) =>
      store.save({ seq: i + 1 }).then(() => {
        seen.push(seqOnDisk());
      }),
    );
    await Promise.all(saves);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect((await store.load()).data).toEqual({ seq: 30 });
    expect(await readdir(dir)).toEqual(["journal.json"]);
  });

  it("a load queued behind a save sees that save", async () => {
    const store = counterStore();
    const saving = store.save({ seq: 7 });
    const loading = store.load();
    await saving;
    expect(await loading).toEqual({ kind: "loaded", data: { seq: 7 } });
  });
});

describe("JsonStore under SIGKILL", () => {
  const KILL_ROUNDS = 32;
  const SEED = 0x5eed_2025;
  const documentSchema = z
    .object({ seq: z.number().int(), payload: z.string(), digest: z.string() })
    .nullable();

  // Each round waits for its child within CHILD_CEILING_MS; load only makes rounds slower.
  it(
    `leaves the old or the new document, never a broken one (${KILL_ROUNDS} kills, seed ${SEED})`,
    async () => {
      const random = mulberry32(SEED);
      const reader = new JsonStore({ path: file, schema: documentSchema, version: 1, empty: () => null });
      let onDisk = 0;

      for (let round = 0; round < KILL_ROUNDS; round += 1) {
        const child = startChild("save-loop.mjs", [file]);
        try {
          expect(await child.waitForLine((line) => line.startsWith("ready "))).toBe(`ready ${onDisk}`);
          await sleep(Math.floor(random() * 40));
        } finally {
          child.process.kill("SIGKILL");
          await child.closed;
        }

        const acknowledged = child.lines
          .filter((line) => line.startsWith("saved "))
          .map((line) => Number(line.slice("saved ".length)));
        // Every save that resolved is on disk; at most the one in flight got further.
        const floor = acknowledged.length > 0 ? Math.max(...acknowledged) : onDisk;

        const outcome = await reader.load();
        if (floor === 0 && outcome.kind === "missing") continue;
        expect(outcome.kind, `round ${round}`).toBe("loaded");
        const document = outcome.data;
        if (document === null) throw new Error(`round ${round}: empty document`);
        expect([floor, floor + 1], `round ${round}`).toContain(document.seq);
        expect(createHash("sha256").update(document.payload).digest("hex")).toBe(document.digest);
        onDisk = document.seq;
      }

      const left = await readdir(dir);
      expect(left.filter((name) => name.includes(".corrupt-"))).toEqual([]);
      expect(onDisk).toBeGreaterThan(0);
      // Guards the test itself: a kill between a save's temp write and its rename leaves the temp file
      // behind, and some kills must have landed there for the test to prove anything.
      expect(left.filter((name) => name.endsWith(".tmp")).length).toBeGreaterThan(0);
    },
    KILL_ROUNDS * CHILD_CEILING_MS,
  );
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A small seeded PRNG so the kill points of a run can be reproduced. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
