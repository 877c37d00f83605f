// A throw-away directory for tests that need files (configs, certificates, keys, tokens): files are
// written relative to it, and it is removed after.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { LoadResult } from "../../src/config/load.js";
import type { Config } from "../../src/config/types.js";

export interface Workspace {
  readonly root: string;
  /** Writes `text` at `relative` (creating directories) and returns the absolute path. */
  write(relative: string, text: string): string;
  remove(): void;
}

export function createWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), "sso-test-"));
  return {
    root,
    write(relative, text) {
      const path = join(root, relative);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, text);
      return path;
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The config of a load that must succeed; otherwise fails the test with every problem. */
export function expectConfig(result: LoadResult): Config {
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.problems.join("\n")}`);
  return result.config;
}

/** The problems of a load that must fail. */
export function expectProblems(result: LoadResult): readonly string[] {
  if (result.ok) throw new Error("expected problems, got a valid config");
  return result.problems;
}
