// Command-line parsing on node:util parseArgs: one table of commands, generated --help, and usage
// errors (unknown command, flag or missing argument) as a typed error the entry point maps to exit 2.

import { parseArgs, type ParseArgsConfig } from "node:util";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly description: string;
  /** Shown in help: `--cert FILE`. */
  readonly value?: string;
  readonly short?: string;
}

export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

export interface CommandSpec<Context> {
  /** One or two words: `check`, `integrations list`. */
  readonly name: string;
  readonly summary: string;
  readonly positionals?: readonly { readonly name: string; readonly required: boolean }[];
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Loads the command's own module (a dynamic import: help and usage never load it) and runs it. */
  run(args: ParsedArgs, context: Context): Promise<number>;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}

/**
 * A refusal that is not a usage error (an integration not found, a request that would be a no-op): one
 * line, exit 2, and no usage text, since the command was typed correctly.
 */
export class RefusedError extends Error {
  override readonly name = "RefusedError";
}

/** Declared by the commands whose output has a JSON form, and only by those. */
export const JSON_OPTION: Readonly<Record<string, OptionSpec>> = {
  json: { type: "boolean", description: "print JSON instead of a table" },
};

export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  config: {
    type: "string",
    value: "FILE",
    description: "configuration file (default config/config.yaml when present)",
  },
  "log-level": { type: "string", value: "LEVEL", description: "trace, debug, info, warn, error or fatal" },
  "log-format": {
    type: "string",
    value: "FORMAT",
    description: "json or pretty (default: pretty at a terminal, else json)",
  },
  help: { type: "boolean", short: "h", description: "show this help" },
};

function usageLine(program: string, spec: CommandSpec<unknown>): string {
  const positionals = (spec.positionals ?? []).map((p) => (p.required ? `<${p.name}>` : `[${p.name}]`));
  return [`Usage: ${program} ${spec.name}`, ...positionals, "[options]"].join(" ");
}

export function commandHelp(program: string, spec: CommandSpec<unknown>): string {
  const options = { ...spec.options, ...COMMON_OPTIONS };
  const rows = Object.entries(options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : "    "}--${name}${option.value ? ` ${option.value}` : ""}`;
    return `  ${flag.padEnd(30)} ${option.description}`;
  });
  return `${usageLine(program, spec)}\n\n${spec.summary}\n\nOptions:\n${rows.join("\n")}\n`;
}

/** The subcommands of a group such as `integrations`, when `group` is one. */
export function groupOf<C>(specs: readonly CommandSpec<C>[], group: string): CommandSpec<C>[] {
  return specs.filter((spec) => spec.name.startsWith(`${group} `));
}

export function groupHelp(program: string, group: string, specs: readonly CommandSpec<unknown>[]): string {
  const rows = specs.map((spec) => `  ${spec.name.padEnd(24)} ${spec.summary}`);
  return `Usage: ${program} ${group} <${specs.map((spec) => spec.name.slice(group.length + 1)).join("|")}> [options]

Commands:
${rows.join("\n")}

Run '${program} ${group} <command> --help' for a command's options.
`;
}

export function programHelp(program: string, specs: readonly CommandSpec<unknown>[]): string {
  const rows = specs.map((spec) => `  ${spec.name.padEnd(24)} ${spec.summary}`);
  return `Usage: ${program} <command> [options]

Keeps the SAML certificates of Twilio SendGrid SSO from expiring unnoticed.

Commands:
${rows.join("\n")}

Run '${program} <command> --help' for a command's options; '${program} --version' prints the version.
`;
}

/** Finds the command named by the first one or two words of argv. */
export function findCommand<C>(
  specs: readonly CommandSpec<C>[],
  argv: readonly string[],
): { spec: CommandSpec<C>; rest: string[] } | null {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(" ");
    const spec = specs.find((s) => s.name === name);
    if (spec) return { spec, rest: argv.slice(words) };
  }
  return null;
}

export function parseCommandArgs(
  program: string,
  spec: CommandSpec<unknown>,
  argv: readonly string[],
): ParsedArgs {
  const options: ParseArgsConfig["options"] = {};
  for (const [name, option] of Object.entries({ ...spec.options, ...COMMON_OPTIONS })) {
    options[name] = option.short ? { type: option.type, short: option.short } : { type: option.type };
  }
  const usage = usageLine(program, spec);
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/\. To specify a positional.*$/s, ""), usage);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) return { values, positionals: parsed.positionals };
  const declared = spec.positionals ?? [];
  const missing = declared.filter((p, index) => p.required && parsed.positionals[index] === undefined);
  if (missing.length > 0)
    throw new UsageError(`missing ${missing.map((p) => `<${p.name}>`).join(" ")}`, usage);
  if (parsed.positionals.length > declared.length) {
    throw new UsageError(`unexpected argument '${parsed.positionals[declared.length]}'`, usage);
  }
  return { values, positionals: parsed.positionals };
}
