// Every state_dir problem is one clear error naming `state_dir`, at once (exit 2 from the commands that
// write there), and what the tool creates under it is private: directories 0700, files 0600.

import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareStateDir, StateDirError } from "../../src/config/state-dir.js";
import { AuditLog } from "../../src/rotation/audit.js";
import { journalStore } from "../../src/rotation/journal-file.js";
import { acquireLock } from "../../src/rotation/lock.js";
import { EMPTY_JOURNAL } from "../../src/core/journal.js";
import { runCli } from "../helpers/run-cli.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sso-state-dir-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const mode = (path: string) => statSync(path).mode & 0o777;

function writeConfig(stateDir: string): string {
  const file = join(dir, "config.yaml");
  writeFileSync(
    file,
    `accounts:\n  - name: main\n    api_key_env: SENDGRID_API_KEY\n    base_url: http://127.0.0.1:9\nstate_dir: ${JSON.stringify(stateDir)}\nlisten: "127.0.0.1:0"\n`,
  );
  return file;
}

describe("prepareStateDir", () => {
  it("refuses a pseudo-filesystem at once instead of looping (Node's recursive mkdir spins on /proc)", () => {
    expect(() => prepareStateDir("/proc/nope/state")).toThrow(StateDirError);
    expect(() => prepareStateDir("/proc/nope/state")).toThrow(
      /^state_dir: \/proc\/nope\/state cannot be created/,
    );
  });

  it("names state_dir and the file in the way", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    expect(() => prepareStateDir(join(file, "state"))).toThrow(
      `state_dir: ${join(file, "state")} cannot be created: ${file} is not a directory`,
    );
    expect(() => prepareStateDir(file)).toThrow(`state_dir: ${file} is not a directory`);
  });

  it("creates missing directories 0700 and leaves an existing one as it is", () => {
    const state = join(dir, "a", "b");
    prepareStateDir(state);
    expect(mode(join(dir, "a"))).toBe(0o700);
    expect(mode(state)).toBe(0o700);
    expect(mode(dir)).toBe(0o700); // mkdtemp's own
    prepareStateDir(state);
  });
});

describe("state files", () => {
  it("are created 0600: the journal, the lock and the audit log", async () => {
    const state = join(dir, "state");
    const lock = await acquireLock(state);
    try {
      await journalStore(state).save(EMPTY_JOURNAL);
      await new AuditLog(join(state, "audit.jsonl")).append({
        time: new Date(),
        account: "main",
        integrationId: "1",
        certificateId: "1",
        fingerprintSha256: "aa",
        action: "upload",
        result: "success",
      });
      expect(mode(state)).toBe(0o700);
      for (const name of ["journal.json", "lock", "audit.jsonl"])
        expect(mode(join(state, name)), name).toBe(0o600);
    } finally {
      await lock.release();
    }
  });
});

describe("commands that write state_dir", () => {
  it("rotate --dry-run with state_dir /proc/nope: one line naming state_dir, exit 2, at once", async () => {
    const result = await runCli(
      ["rotate", "--integration", "1", "--dry-run", "--config", writeConfig("/proc/nope")],
      { env: { SENDGRID_API_KEY: "SG.test-key-000000000000" }, cwd: dir },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/state_dir: \/proc\/nope cannot be created/);
  });

  it("run with state_dir under a file: exit 2 naming state_dir", async () => {
    writeFileSync(join(dir, "passwd"), "");
    const result = await runCli(["run", "--config", writeConfig(join(dir, "passwd", "state"))], {
      env: { SENDGRID_API_KEY: "SG.test-key-000000000000" },
      cwd: dir,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `state_dir: ${join(dir, "passwd", "state")} cannot be created: ${join(dir, "passwd")} is not a directory`,
    );
    expect(existsSync(join(dir, "passwd"))).toBe(true);
  });
});
