// Finds an executable on PATH, for tests that drive real tools (promtool, prometheus, alertmanager) and
// skip, saying why, where they are not installed. CI installs them, so there they never skip.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";

export function findBinary(...names: readonly string[]): string | null {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? "").split(delimiter)) {
      if (dir === "") continue;
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not in this directory.
      }
    }
  }
  return null;
}
