// A damaged journal.json met by a daemon in the middle of a rotation (uploaded and verified, the old
// certificate still inside its overlap). test/rotation/faults.spec.ts covers one truncation; these are
// the other ways a file goes bad: empty, binary garbage, valid JSON of the wrong shape, a newer
// schema_version, and cuts at seeded random lengths. Each time start-up says so in one error line naming
// the file and the copy it kept, and the rebuilt journal neither uploads the certificate again nor
// disables the old one on a record it no longer has.

import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { seededRandom } from "../../src/emulator/faults.js";
import { journalStore, JOURNAL_FILE } from "../../src/rotation/journal-file.js";
import { DAY, fewestUsable } from "../rotation/bench.js";
import { openDueWorld, type DueWorld } from "./world.js";

const CUT_SEED = 20_251_128;

let world: DueWorld | null = null;

afterEach(async () => {
  await world?.bench.close();
  world = null;
});

type Damage = (whole: string) => string | Buffer;

const random = seededRandom(CUT_SEED);
const cuts: [string, Damage][] = Array.from({ length: 3 }, () => {
  const share = random();
  return [
    `cut at ${(share * 100).toFixed(1)}% of its length`,
    (whole: string) => whole.slice(0, Math.floor(share * whole.trimEnd().length)),
  ];
});

describe.each<[string, Damage]>([
  ["empty", () => ""],
  ["binary garbage", () => Buffer.from([0x00, 0xff, 0x7b, 0x22, 0xfe, 0x0a, 0x00])],
  ["valid JSON of the wrong shape", (whole) => whole.replace('"rotations"', '"rotation"')],
  ["written by a newer version", (whole) => whole.replace('"schema_version": 1', '"schema_version": 99')],
  ...cuts,
])("a journal that is %s", (_name, damage) => {
  test("is named in one error line, kept aside, and rebuilt from SendGrid without acting on a guess", async () => {
    const w = (world = await openDueWorld({ config: { rotation: { overlap: "24h" } } }));
    const { bench } = w;
    const [integration] = w.integrations;
    const journalPath = join(bench.stateDir, JOURNAL_FILE);
    const first = await bench.startDaemon(bench.loadConfig(w.configFile));
    await first.tick();
    expect(first.rotation.rotator.current.rotations).toMatchObject([{ phase: "verified" }]);
    await first.stop(1_000);

    const damaged = damage(await readFile(journalPath, "utf8"));
    await writeFile(journalPath, damaged);
    const second = await bench.startDaemon(bench.loadConfig(w.configFile));

    const problems = bench.logs.entries.filter((e) => /corrupt/.test(e.msg));
    expect(problems).toHaveLength(1);
    const backups = (await readdir(bench.stateDir)).filter((name) =>
      name.startsWith(`${JOURNAL_FILE}.corrupt-`),
    );
    expect(backups).toHaveLength(1);
    const backupPath = join(bench.stateDir, backups[0]!);
    expect(problems[0]).toMatchObject({ level: "error" });
    expect(problems[0]!.msg).toMatch(
      new RegExp(`^journal ${journalPath} is corrupt: .+; kept a copy at ${backupPath}$`),
    );
    expect(await readFile(backupPath)).toEqual(Buffer.from(damaged));

    await second.tick();
    bench.clock.advance(2 * DAY);
    await second.tick();
    expect(bench.emulator.log.filter((e) => e.method === "POST")).toHaveLength(1);
    expect(bench.certificates(integration!.id).filter((c) => c.pem === integration!.next.pem)).toHaveLength(
      1,
    );
    // Its record of the rotation is gone: the old certificate is not retired on a guess.
    expect(bench.certificates(integration!.id).every((c) => c.enabled)).toBe(true);
    expect(bench.mutations().filter((m) => m.method !== "POST")).toEqual([]);
    expect(fewestUsable(bench.emulator, integration!.id, bench.clock.now())).toBe(2);
    // The journal written since is whole again.
    expect((await journalStore(bench.stateDir).load()).kind).toBe("loaded");
  });
});
