// Duration strings as users write them in the config (`90s`, `15m`, `24h`, `30d`, `2w`, `1h30m`) and as
// people read them back (`29d 4h`). Pure: no clock, no I/O. Parsing is strict so a typo is an error,
// never a silently different duration.

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

const EXAMPLES = "use e.g. 90s, 15m, 24h, 30d";

/** Largest first: the order a combined duration must be written in. */
const PARSE_UNITS: ReadonlyArray<readonly [unit: string, ms: number]> = [
  ["w", WEEK_MS],
  ["d", DAY_MS],
  ["h", HOUR_MS],
  ["m", MINUTE_MS],
  ["s", SECOND_MS],
  ["ms", 1],
];

/** Weeks are left out on purpose: "45d" reads better than "6w 3d" next to a certificate's expiry. */
const FORMAT_UNITS = PARSE_UNITS.filter(([unit]) => unit !== "w" && unit !== "ms");

export class DurationError extends Error {
  override readonly name = "DurationError";
  readonly code = "ERR_DURATION";

  constructor(
    readonly input: string,
    readonly detail: string | null = null,
  ) {
    super(`${quote(input)} is not a duration${detail === null ? "" : `: ${detail}`} (${EXAMPLES})`);
  }
}

function quote(input: string): string {
  return JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input);
}

// "ms" must be tried before "m", or "500ms" would read as 500 minutes followed by garbage.
const COMPONENT = /(\d+)(ms|w|d|h|m|s)\s*/y;

/** Milliseconds in `text`; throws DurationError for anything that is not a well-formed duration. */
export function parseDuration(text: string): number {
  const input = String(text);
  const trimmed = input.trim();
  if (/^\d+$/.test(trimmed)) throw new DurationError(input, "missing unit");
  if (trimmed.startsWith("-")) throw new DurationError(input, "negative durations are not allowed");

  let total = 0;
  let previousRank = -1;
  COMPONENT.lastIndex = 0;
  while (COMPONENT.lastIndex < trimmed.length) {
    const match = COMPONENT.exec(trimmed);
    if (match === null) throw new DurationError(input);
    const rank = PARSE_UNITS.findIndex(([unit]) => unit === match[2]);
    if (rank <= previousRank) {
      throw new DurationError(input, "units must go from largest to smallest, each at most once");
    }
    previousRank = rank;
    total += Number(match[1]) * PARSE_UNITS[rank]![1];
  }
  if (previousRank === -1) throw new DurationError(input);
  if (!Number.isSafeInteger(total)) throw new DurationError(input, "too long");
  return total;
}

/**
 * For people: the two most significant units, truncated toward zero so time left is never overstated
 * (`29d 4h`, `3h 12m`, `45s`, `500ms`, `-2d 3h`). Never throws.
 */
export function formatDuration(ms: number): string {
  if (Number.isNaN(ms)) return "unknown";
  if (!Number.isFinite(ms)) return ms > 0 ? "∞" : "-∞";
  const abs = Math.trunc(Math.abs(ms));
  if (abs === 0) return "0s";
  const sign = ms < 0 ? "-" : "";
  if (abs < SECOND_MS) return `${sign}${abs}ms`;

  const index = FORMAT_UNITS.findIndex(([, size]) => abs >= size);
  const [unit, size] = FORMAT_UNITS[index]!;
  let text = `${Math.floor(abs / size)}${unit}`;
  const next = FORMAT_UNITS[index + 1];
  if (next !== undefined) {
    const minor = Math.floor((abs % size) / next[1]);
    if (minor > 0) text += ` ${minor}${next[0]}`;
  }
  return sign + text;
}
