// Reading the shipped deployment files in tests: paths from the project root, YAML with every problem
// fatal, and the shapes of a Prometheus rule file that the tests look into.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

const ROOT = new URL("../../", import.meta.url);
export const PROJECT_ROOT = fileURLToPath(ROOT);

export function projectFile(relative: string): string {
  return fileURLToPath(new URL(relative, ROOT));
}

export function readProjectText(relative: string): string {
  return readFileSync(projectFile(relative), "utf8");
}

/** Parses YAML strictly: duplicate keys and syntax errors throw. */
export function readYaml<T = unknown>(relative: string): T {
  return parse(readProjectText(relative), { strict: true, uniqueKeys: true }) as T;
}

export interface AlertingRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
}

export type Rule = AlertingRule | RecordingRule;

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

export interface RuleFile {
  readonly groups: readonly RuleGroup[];
}

export const RULES_FILE = "config/prometheus/rules.yml";

export function shippedRules(): RuleFile {
  return readYaml<RuleFile>(RULES_FILE);
}

export function alertsOf(file: RuleFile): AlertingRule[] {
  return file.groups.flatMap((group) => group.rules.filter((rule): rule is AlertingRule => "alert" in rule));
}

export function recordsOf(file: RuleFile): RecordingRule[] {
  return file.groups.flatMap((group) =>
    group.rules.filter((rule): rule is RecordingRule => "record" in rule),
  );
}

/**
 * The environment of an npm child: little of this one's, but what reaching the registry may need here
 * (a proxy, and the CA that signs its certificates, which a newer Node's npm does not find otherwise).
 */
export function npmEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const passed = [
    "PATH",
    "HOME",
    "NODE_EXTRA_CA_CERTS",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
  ];
  const env: Record<string, string | undefined> = { npm_config_update_notifier: "false", ...extra };
  for (const name of passed) if (process.env[name] !== undefined) env[name] = process.env[name];
  return env;
}
