// A full or failing state_dir is counted and shown, not only logged: every failed write of the journal
// reaches the store's observer (and so sendgrid_sso_state_write_errors_total, the last-write gauge and
// /readyz through src/rotation/setup.ts), and the next successful write clears it.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EMPTY_JOURNAL } from "../../src/core/journal.js";
import { Metrics } from "../../src/metrics/registry.js";
import { StateIoError } from "../../src/rotation/errors.js";
import { journalStore } from "../../src/rotation/journal-file.js";
import { parsePrometheusText } from "../helpers/prom-text.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sso-state-writes-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("state_dir writes", () => {
  it("are reported to the metrics, failed and successful", async () => {
    const metrics = new Metrics({
      accounts: ["main"],
      source: { evaluation: () => null, scanStats: () => [] },
      now: () => new Date(),
      exposeRelative: false,
      version: "test",
      processMetrics: false,
    });
    const seen: (StateIoError | null)[] = [];
    const store = journalStore(dir, undefined, (error) => {
      seen.push(error);
      metrics.stateWrite(error === null);
    });
    // A directory where the journal should be: the rename onto it fails, as a write on a broken disk.
    mkdirSync(join(dir, "journal.json"));
    writeFileSync(join(dir, "journal.json", "occupied"), "");
    await expect(store.save(EMPTY_JOURNAL)).rejects.toThrow(StateIoError);
    expect(seen).toEqual([expect.any(StateIoError)]);
    let exposition = parsePrometheusText(await metrics.render());
    expect(exposition.value("sendgrid_sso_state_write_errors_total", {})).toBe(1);
    expect(exposition.value("sendgrid_sso_state_last_write_success", {})).toBe(0);

    rmSync(join(dir, "journal.json"), { recursive: true });
    await store.save(EMPTY_JOURNAL);
    expect(seen.at(-1)).toBeNull();
    exposition = parsePrometheusText(await metrics.render());
    expect(exposition.value("sendgrid_sso_state_write_errors_total", {})).toBe(1);
    expect(exposition.value("sendgrid_sso_state_last_write_success", {})).toBe(1);
  });
});
