// Decides which fault, if any, strikes a request: queued rules first (deterministic, in order), then the
// probabilistic settings rolled on a seeded RNG so a failing test replays exactly. Decides only; the
// server carries the fault out.

export interface FaultSettings {
  /** Added before every request is handled. */
  readonly latencyMs?: number;
  /** Share of requests answered 500 or 503 without being applied. */
  readonly errorRate?: number;
  /** Share of requests whose socket is destroyed before anything is done. */
  readonly dropRate?: number;
  /** Share of requests applied, then their socket destroyed: the answer is lost. */
  readonly lostResponseRate?: number;
}

export type FaultAction =
  | {
      readonly kind: "status";
      readonly status: number;
      readonly body?: unknown;
      readonly headers?: Readonly<Record<string, string>>;
    }
  | { readonly kind: "drop" }
  | { readonly kind: "lose" }
  /** Never answered; the socket stays open until the emulator closes. */
  | { readonly kind: "hang" }
  | { readonly kind: "delay"; readonly ms: number }
  | { readonly kind: "trickle"; readonly bytesPerSecond: number };

export interface FaultMatch {
  /** Case-insensitive. */
  readonly method?: string;
  /** A string matches the whole path (no query); a RegExp is tested against it. */
  readonly path?: string | RegExp;
}

export interface FaultRule {
  readonly match?: FaultMatch;
  readonly action: FaultAction;
  /** How many matching requests the rule strikes before it is spent; default 1. */
  readonly times?: number;
}

export interface FaultDecision {
  readonly latencyMs: number;
  readonly action: FaultAction | null;
}

interface QueuedRule {
  readonly match: FaultMatch;
  readonly action: FaultAction;
  remaining: number;
}

/** mulberry32: tiny, fast, and the same sequence for the same seed on every platform. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function checkRate(name: string, value: number | undefined): void {
  if (value !== undefined && !(value >= 0 && value <= 1))
    throw new RangeError(`faults.${name} must be within 0..1`);
}

function checkAction(action: FaultAction): void {
  if (
    action.kind === "status" &&
    !(Number.isInteger(action.status) && action.status >= 100 && action.status <= 599)
  ) {
    throw new RangeError("fault status must be an HTTP status code");
  }
  if (action.kind === "delay" && !(action.ms >= 0)) throw new RangeError("fault delay ms must be >= 0");
  if (action.kind === "trickle" && !(action.bytesPerSecond > 0)) {
    throw new RangeError("fault trickle bytesPerSecond must be > 0");
  }
}

function matches(match: FaultMatch, method: string, path: string): boolean {
  if (match.method !== undefined && match.method.toUpperCase() !== method.toUpperCase()) return false;
  if (match.path === undefined) return true;
  if (typeof match.path === "string") return match.path === path;
  match.path.lastIndex = 0;
  return match.path.test(path);
}

export class FaultController {
  readonly #random: () => number;
  #settings: FaultSettings = {};
  #rules: QueuedRule[] = [];

  constructor(random: () => number) {
    this.#random = random;
  }

  /** Replaces the probabilistic settings as a whole; `set({})` turns them off. */
  set(settings: FaultSettings): void {
    checkRate("errorRate", settings.errorRate);
    checkRate("dropRate", settings.dropRate);
    checkRate("lostResponseRate", settings.lostResponseRate);
    if (settings.latencyMs !== undefined && !(settings.latencyMs >= 0)) {
      throw new RangeError("faults.latencyMs must be >= 0");
    }
    this.#settings = { ...settings };
  }

  /** Queues a rule behind the ones already queued. */
  next(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError("fault rule times must be an integer >= 1");
    checkAction(rule.action);
    this.#rules.push({ match: rule.match ?? {}, action: rule.action, remaining: times });
  }

  /** Forgets every queued rule and probabilistic setting. */
  reset(): void {
    this.#settings = {};
    this.#rules = [];
  }

  /** Strikes left in the queued rules: a test can assert its rules were all used. */
  get pending(): number {
    return this.#rules.reduce((sum, rule) => sum + rule.remaining, 0);
  }

  decide(method: string, path: string): FaultDecision {
    const latencyMs = this.#settings.latencyMs ?? 0;
    const index = this.#rules.findIndex((rule) => matches(rule.match, method, path));
    const rule = this.#rules[index];
    if (rule) {
      rule.remaining--;
      if (rule.remaining === 0) this.#rules.splice(index, 1);
      return { latencyMs, action: rule.action };
    }
    return { latencyMs, action: this.#roll() };
  }

  #roll(): FaultAction | null {
    const { dropRate = 0, errorRate = 0, lostResponseRate = 0 } = this.#settings;
    // A rate of zero draws no random number, so a test that sets one rate sees the same sequence every run.
    if (dropRate > 0 && this.#random() < dropRate) return { kind: "drop" };
    if (errorRate > 0 && this.#random() < errorRate) {
      return { kind: "status", status: this.#random() < 0.5 ? 500 : 503 };
    }
    if (lostResponseRate > 0 && this.#random() < lostResponseRate) return { kind: "lose" };
    return null;
  }
}
