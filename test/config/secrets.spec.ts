import { chmodSync, renameSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { envSecret, fileSecret, inlineSecret, SecretUnavailableError } from "../../src/config/secrets.js";
import { withoutRoot } from "../helpers/without-root.js";
import { createWorkspace, type Workspace } from "../helpers/workspace.js";

let workspace: Workspace;
beforeEach(() => {
  workspace = createWorkspace();
});
afterEach(() => {
  workspace.remove();
});

function unavailable(read: () => string): SecretUnavailableError {
  try {
    read();
  } catch (error) {
    if (error instanceof SecretUnavailableError) return error;
    throw error;
  }
  throw new Error("expected SecretUnavailableError");
}

describe("fileSecret", () => {
  it("trims the trailing newline and re-reads the file when a new one is renamed into place", () => {
    const path = workspace.write("key", "SG.first\n");
    const secret = fileSecret(path);
    expect(secret.describe()).toBe(`file ${path}`);
    expect(secret.read()).toBe("SG.first");
    expect(secret.read()).toBe("SG.first");

    // How Kubernetes updates a mounted secret: a new file swapped in by rename.
    const next = workspace.write("key.next", "SG.second\r\n");
    renameSync(next, path);
    expect(secret.read()).toBe("SG.second");
  });

  it("re-reads a file rewritten in place", () => {
    const path = workspace.write("key", "SG.aaaa\n");
    const secret = fileSecret(path);
    expect(secret.read()).toBe("SG.aaaa");
    writeFileSync(path, "SG.bbbb\n");
    // Same size, same inode: force a distinct mtime so the change cannot fall inside one timestamp tick.
    const later = new Date(Date.now() + 60_000);
    utimesSync(path, later, later);
    expect(secret.read()).toBe("SG.bbbb");
  });

  it("throws SecretUnavailableError without the value when the file goes away or empties", () => {
    const path = workspace.write("key", "SG.gone-soon\n");
    const secret = fileSecret(path);
    expect(secret.read()).toBe("SG.gone-soon");

    writeFileSync(path, "  \n\n");
    const empty = unavailable(() => secret.read());
    expect(empty.message).toBe(`file ${path} is empty`);
    expect(empty.source).toBe(`file ${path}`);

    rmSync(path);
    const gone = unavailable(() => secret.read());
    expect(gone.message).toBe(`file ${path} does not exist`);
    expect(gone.code).toBe("ERR_SECRET_UNAVAILABLE");
    expect(`${gone.message} ${gone.stack ?? ""}`).not.toContain("SG.gone-soon");
  });

  it("says when the path is a directory or unreadable", () => {
    expect(unavailable(() => fileSecret(workspace.root).read()).message).toBe(
      `file ${workspace.root} is a directory`,
    );
    const path = workspace.write("locked", "SG.locked\n");
    chmodSync(path, 0o000);
    // Reachable by the ordinary user a root run reads it as: the stat passes, the read is refused.
    chmodSync(workspace.root, 0o711);
    expect(unavailable(() => withoutRoot(() => fileSecret(path).read())).message).toBe(
      `file ${path} is not readable (permission denied)`,
    );
  });
});

describe("envSecret", () => {
  it("reads the variable at every call and trims it", () => {
    const env: Record<string, string | undefined> = { KEY: "SG.one\n" };
    const secret = envSecret("KEY", env);
    expect(secret.describe()).toBe("env KEY");
    expect(secret.read()).toBe("SG.one");
    env.KEY = "SG.two";
    expect(secret.read()).toBe("SG.two");
    delete env.KEY;
    expect(unavailable(() => secret.read()).message).toBe("environment variable KEY is not set");
    env.KEY = "";
    expect(unavailable(() => secret.read()).message).toBe("environment variable KEY is empty");
  });
});

describe("every source", () => {
  it("serialises and describes itself without the value", () => {
    const path = workspace.write("key", "SG.file-value\n");
    const sources = [
      envSecret("KEY", { KEY: "SG.env-value" }),
      fileSecret(path),
      inlineSecret(" SG.inline-value "),
    ];
    expect(sources.map((source) => source.read())).toEqual([
      "SG.env-value",
      "SG.file-value",
      "SG.inline-value",
    ]);
    const shown = JSON.stringify(sources) + sources.map((source) => source.describe()).join(" ");
    expect(shown).not.toMatch(/SG\./);
    expect(JSON.stringify(sources)).toBe(`["env KEY","file ${path}","api_key in the configuration"]`);
  });
});
