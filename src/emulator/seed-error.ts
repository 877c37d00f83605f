// The error of an unusable seed, in a module of its own: the CLI maps it to exit 2 without loading the
// seed machinery (zod, certificate generation) for every command.

export interface SeedProblem {
  /** JSON path, e.g. `integrations[0].certificates[1].generate.cn`; empty for the document as a whole. */
  readonly path: string;
  readonly message: string;
}

export class InvalidSeedError extends Error {
  override readonly name = "InvalidSeedError";
  readonly code = "EMULATOR_INVALID_SEED";
  constructor(
    /** The seed file, or "seed data" for a seed given in code. */
    readonly source: string,
    readonly problems: readonly SeedProblem[],
  ) {
    super(
      `invalid seed (${source}):\n${problems.map((p) => `  ${p.path === "" ? "(document)" : p.path}: ${p.message}`).join("\n")}`,
    );
  }
}
