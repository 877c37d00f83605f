// A Dockerfile as a list of instructions, for tests that hold the image to what the deployment files and
// the runtime need. Joins continuation lines and drops comments; knows nothing about what instructions mean
// beyond the stage they belong to and the JSON (exec) form of their arguments.

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ... */
  readonly keyword: string;
  readonly args: string;
  /** 0 for the first FROM's stage, 1 for the next, ... */
  readonly stage: number;
}

export function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let stage = -1;
  let pending = "";
  for (const line of text.split("\n")) {
    if (/^\s*#/.test(line)) continue;
    const continued = /\\\s*$/.test(line);
    pending += (continued ? line.replace(/\\\s*$/, "") : line).trim() + " ";
    if (continued) continue;
    const match = /^(\w+)\s+(.*)$/.exec(pending.trim());
    pending = "";
    if (!match) continue;
    const keyword = match[1]!.toUpperCase();
    if (keyword === "FROM") stage++;
    instructions.push({ keyword, args: match[2]!.trim(), stage });
  }
  return instructions;
}

/** The arguments of an exec-form instruction (`["node", "x"]`); throws for the shell form. */
export function execForm(args: string): string[] {
  if (!args.startsWith("[")) throw new Error(`not in exec (JSON) form: ${args}`);
  return JSON.parse(args) as string[];
}

/** `KEY=value KEY2="value 2"` pairs of ENV, LABEL or ARG. */
export function keyValues(args: string): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const match of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = match[2]!;
    pairs.set(match[1]!, raw.startsWith('"') ? (JSON.parse(raw) as string) : raw);
  }
  return pairs;
}

/** The environment of the image that runs: every ENV of the last stage, merged. */
export function runtimeEnv(instructions: readonly Instruction[]): Map<string, string> {
  const last = Math.max(...instructions.map((instruction) => instruction.stage));
  return keyValues(
    instructions
      .filter((instruction) => instruction.stage === last && instruction.keyword === "ENV")
      .map((instruction) => instruction.args)
      .join("\n"),
  );
}

/**
 * How the image starts node, for running the CLI outside it as it runs inside: the runtime environment
 * that shapes the process (NODE_OPTIONS, glibc's MALLOC_* settings) and the ENTRYPOINT's node flags,
 * those between `node` and the script.
 */
export function nodeProcess(instructions: readonly Instruction[]): {
  env: Record<string, string>;
  nodeArgs: string[];
} {
  const entrypoint = instructions.filter((instruction) => instruction.keyword === "ENTRYPOINT").at(-1);
  if (!entrypoint) throw new Error("the Dockerfile has no ENTRYPOINT");
  return {
    env: Object.fromEntries(
      [...runtimeEnv(instructions)].filter(([name]) => /^(NODE_OPTIONS|MALLOC_)/.test(name)),
    ),
    nodeArgs: execForm(entrypoint.args).slice(1, -1),
  };
}
