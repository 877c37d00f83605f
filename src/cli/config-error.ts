// The configuration error of every command, in a module of its own: the entry point maps it to an exit
// code without loading the configuration loader (yaml, zod) for `--version`, `--help` or a usage error.

/** A configuration that cannot be used: each line names the key path. Exit 2, or 3 for `check`. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}
