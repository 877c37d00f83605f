// A throw-away directory for config tests: files are written relative to it, and it is removed after.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export interface Workspace {
  readonly root: string;
  /** Writes `text` at `relative` (creating directories) and returns the absolute path. */
  write(relative: string, text: string): string;
  remove(): void;
}

export function createWorkspace(): Workspace {
  const root = mkdtempSync(join(tmpdir(), "sso-config-"));
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
