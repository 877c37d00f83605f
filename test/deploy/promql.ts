// Metric names in PromQL text, for tests that hold dashboards and alert rules to the metrics the daemon
// really exposes. A lexer, not a parser: it drops strings, label matchers, ranges and label lists, then
// sorts what is left into functions, keywords and metric names. Unknown functions are errors.

const FUNCTIONS = new Set([
  "abs",
  "absent",
  "absent_over_time",
  "avg",
  "avg_over_time",
  "bottomk",
  "ceil",
  "changes",
  "clamp_max",
  "clamp_min",
  "count",
  "count_over_time",
  "count_values",
  "delta",
  "deriv",
  "floor",
  "group",
  "histogram_quantile",
  "idelta",
  "increase",
  "irate",
  "label_join",
  "label_replace",
  "last_over_time",
  "max",
  "max_over_time",
  "min",
  "min_over_time",
  "quantile",
  "rate",
  "resets",
  "round",
  "scalar",
  "sort",
  "sort_desc",
  "stddev",
  "stdvar",
  "sum",
  "sum_over_time",
  "time",
  "timestamp",
  "topk",
  "vector",
]);
const KEYWORDS = new Set(["and", "or", "unless", "offset", "bool", "inf", "nan"]);

export class PromqlNameError extends Error {
  override readonly name = "PromqlNameError";
}

/** The metric names an expression selects, in order of first appearance. */
export function metricNamesIn(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    // Grafana variables outside matchers and ranges ($__interval, ${datasource}).
    .replace(/\$\{?\w+\}?/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ")
    .replace(/\b(?:group_left|group_right)\b/g, " ");
  const names: string[] = [];
  // Numbers and durations (86400, 1e3, 1h) are one token, so their letters are never read as names.
  for (const match of text.matchAll(/\d[\w.]*|([A-Za-z_:][\w:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    if (word === undefined || KEYWORDS.has(word.toLowerCase())) continue;
    if (call !== undefined) {
      if (!FUNCTIONS.has(word)) throw new PromqlNameError(`unknown PromQL function ${word}() in: ${expr}`);
    } else if (!names.includes(word)) {
      names.push(word);
    }
  }
  return names;
}
