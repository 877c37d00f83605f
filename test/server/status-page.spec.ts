// The status page's rotation table, rendered from plain data: a rotation says which step it waits for
// and, with the rotation settings, when; a retired rotation stays listed until what it replaced is
// deleted; an active IdP rollover is listed with its key.

import { describe, expect, test } from "vitest";
import { EMPTY_JOURNAL, type Journal } from "../../src/core/journal.js";
import { renderStatusPage, type StatusPageInput } from "../../src/server/status-page.js";
import { DAY, HOUR, rolloverRecord, rotationConfig, rotationRecord, rule } from "../core/plan-fixtures.js";

const NOW = new Date("2026-11-30T12:00:00.000Z");

function page(journal: Journal, rotation?: StatusPageInput["rotation"]): string {
  return renderStatusPage({
    now: NOW,
    version: "test",
    evaluation: null,
    stats: [],
    failures: [],
    scanning: false,
    history: [],
    journal,
    ...(rotation ? { rotation } : {}),
  });
}

const record = (phase: "verified" | "retired") =>
  rotationRecord({
    integrationId: "1",
    fingerprint: "ab".repeat(32),
    pem: "",
    notAfter: new Date(NOW.getTime() + 700 * DAY),
    phase,
    certificateId: "11",
    verifiedAt: new Date(NOW.getTime() - HOUR),
    replaces: [{ certificateId: "10", fingerprint: "cd".repeat(32) }],
  });

describe("the rotation table", () => {
  test("a retired rotation stays until its delete, which is due delete_disabled_after after the disable", () => {
    const disabledAt = new Date(NOW.getTime() - 2 * HOUR);
    const journal: Journal = {
      ...EMPTY_JOURNAL,
      rotations: [record("retired")],
      disabled: [
        {
          account: "main",
          integrationId: "1",
          certificateId: "10",
          fingerprint: "cd".repeat(32),
          at: disabledAt,
        },
      ],
    };
    const settings = rotationConfig([rule({ id: "1" }, { type: "file", path: "/certs" })], {
      deleteDisabledAfterMs: DAY,
    });
    expect(page(journal, settings)).toMatch(/next: delete at <time datetime="2026-12-01T10:00:00Z"/);
    // Without the settings it cannot say when, and once deleted (no disabled record) it is done.
    expect(page(journal)).not.toContain("next: delete");
    expect(page({ ...journal, disabled: [] }, settings)).not.toContain("<h2>Rotations</h2>");
  });

  test("a verified rotation waits for the overlap: without the settings it says so, with them it says when", () => {
    const journal: Journal = { ...EMPTY_JOURNAL, rotations: [record("verified")] };
    expect(page(journal)).toContain("next: disable after the overlap");
  });

  test("an IdP rollover under way is listed with its new key and the one it replaces", () => {
    const journal: Journal = {
      ...EMPTY_JOURNAL,
      rollovers: [
        rolloverRecord({
          integrationId: "1",
          phase: "activating",
          previousKeyId: "k1",
          key: { id: "k2", fingerprint: "ef".repeat(32), notAfter: new Date(NOW.getTime() + 700 * DAY) },
        }),
      ],
    };
    const html = page(journal);
    expect(html).toContain("<h2>IdP key rollovers</h2>");
    expect(html).toContain("okta: activating");
    expect(html).toMatch(/key <code>k2<\/code>.*was <code>k1<\/code>/);
  });
});
