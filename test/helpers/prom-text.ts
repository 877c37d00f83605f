// A strict parser of the Prometheus text exposition format (0.0.4) for tests: metric families with their
// HELP, TYPE and samples, label values unescaped. Throws on any line it does not understand, so a
// malformed exposition fails the test instead of being skipped over.

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Family {
  readonly name: string;
  readonly type: string | null;
  readonly help: string | null;
  readonly samples: Sample[];
}

export class Exposition {
  constructor(readonly families: ReadonlyMap<string, Family>) {}

  family(name: string): Family {
    const family = this.families.get(name);
    if (!family) throw new Error(`metric family ${name} is not exposed`);
    return family;
  }

  has(name: string): boolean {
    return this.families.has(name);
  }

  /** Samples of `name` (a sample name, e.g. `x_bucket`) whose labels include every pair of `match`. */
  samples(name: string, match: Readonly<Record<string, string>> = {}): Sample[] {
    const found: Sample[] = [];
    for (const family of this.families.values()) {
      for (const sample of family.samples) {
        if (sample.name !== name) continue;
        if (Object.entries(match).every(([key, value]) => sample.labels[key] === value)) found.push(sample);
      }
    }
    return found;
  }

  /** The value of the one sample of `name` matching `match`; throws when there is none or several. */
  value(name: string, match: Readonly<Record<string, string>> = {}): number {
    const found = this.samples(name, match);
    if (found.length !== 1) {
      throw new Error(`expected one sample of ${name} ${JSON.stringify(match)}, found ${found.length}`);
    }
    return found[0]!.value;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const SUFFIXES = ["_bucket", "_sum", "_count", "_total", "_created", "_info"];

function unescapeHelp(text: string): string {
  return text.replace(/\\(\\|n)/g, (_, c: string) => (c === "n" ? "\n" : "\\"));
}

/** Go's ParseFloat rules, as Prometheus uses: NaN and Inf in any case (prom-client writes `Nan`). */
function parseValue(text: string, line: string): number {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(text);
  if (special) {
    if (special[2]!.toLowerCase() === "nan") return NaN;
    return special[1] === "-" ? -Infinity : Infinity;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`bad value in: ${line}`);
  return Number(text);
}

/** Parses `{a="x",b="y"}` at the start of `text`; returns the labels and what follows the `}`. */
function parseLabels(text: string, line: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const fail = (why: string): never => {
    throw new Error(`${why} in: ${line}`);
  };
  for (;;) {
    while (text[i] === " ") i++;
    if (text[i] === "}") return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0] ?? fail("bad label name");
    i += name.length;
    if (text[i] !== "=" || text[i + 1] !== '"') fail(`expected =" after label ${name}`);
    i += 2;
    let value = "";
    for (;;) {
      const c = text[i++] ?? fail("unterminated label value");
      if (c === '"') break;
      if (c !== "\\") {
        value += c;
        continue;
      }
      const escaped = text[i++];
      if (escaped === "n") value += "\n";
      else if (escaped === "\\" || escaped === '"') value += escaped;
      else fail(`bad escape \\${escaped}`);
    }
    if (name in labels) fail(`duplicate label ${name}`);
    labels[name] = value;
    if (text[i] === ",") i++;
    else if (text[i] !== "}") fail("expected , or }");
  }
}

function familyOf(families: Map<string, Family>, current: Family | null, name: string): Family {
  if (current && (name === current.name || SUFFIXES.some((s) => name === current.name + s))) return current;
  // An untyped sample: its own family, as Prometheus treats it.
  let family = families.get(name);
  if (!family) {
    family = { name, type: null, help: null, samples: [] };
    families.set(name, family);
  }
  return family;
}

export function parsePrometheusText(text: string): Exposition {
  const families = new Map<string, Family>();
  let current: Family | null = null;
  const declare = (name: string, open: Family | null): Family => {
    const existing = families.get(name);
    if (existing && existing !== open) throw new Error(`metric family ${name} declared twice`);
    const family = existing ?? { name, type: null, help: null, samples: [] };
    families.set(name, family);
    return family;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(line);
      if (!meta) continue; // a plain comment
      const [, kind, name, rest = ""] = meta;
      const family = declare(name!, current);
      current = family;
      if (kind === "HELP") {
        if (family.help !== null) throw new Error(`second HELP for ${name}`);
        Object.assign(family, { help: unescapeHelp(rest) });
      } else {
        if (family.type !== null) throw new Error(`second TYPE for ${name}`);
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) {
          throw new Error(`bad TYPE in: ${line}`);
        }
        if (family.samples.length > 0) throw new Error(`TYPE after samples in: ${line}`);
        Object.assign(family, { type: rest });
      }
      continue;
    }
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) throw new Error(`bad sample line: ${line}`);
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith("{")) ({ labels, rest } = parseLabels(rest, line));
    const fields = rest.trim().split(/\s+/);
    if (fields.length < 1 || fields.length > 2 || fields[0] === "")
      throw new Error(`bad sample line: ${line}`);
    familyOf(families, current, name).samples.push({ name, labels, value: parseValue(fields[0]!, line) });
  }
  return new Exposition(families);
}
