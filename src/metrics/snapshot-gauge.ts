// A prom-client Gauge whose series are all replaced at each scrape, built for thousands of them: label
// sets come preformatted (a caller formats each once per snapshot object, not per scrape), and the
// family's exposition text is reused while no series and no value has changed. Renders byte for byte
// what prom-client renders for a plain Gauge set to the same values; never computes a value itself.

import { Gauge, type Registry } from "prom-client";

/** One label set, formatted the way prom-client's registry formats it (insertion order, escaped). */
export class SeriesLabels<L extends string> {
  readonly text: string;

  constructor(readonly values: Readonly<Record<L, string>>) {
    const pairs = Object.entries<string>(values).map(
      ([name, value]) => `${name}="${escapeLabelValue(value)}"`,
    );
    this.text = pairs.length === 0 ? "" : `{${pairs.join(",")}}`;
  }
}

interface Slot<L extends string> {
  labels: SeriesLabels<L>;
  value: number;
  /** The round that last set this series; older: gone from the snapshot. */
  round: number;
  /** The value in the cached text. */
  rendered: number;
}

type GaugeData<L extends string> = Awaited<ReturnType<Gauge<L>["get"]>>;

export interface SnapshotGaugeOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly registry: Registry;
  /** Refills every snapshot gauge; given to the first of them, for callers of registry.metrics(). */
  readonly refresh?: () => void;
}

export class SnapshotGauge<L extends string> extends Gauge<L> {
  private readonly family: { readonly name: string; readonly help: string };
  private readonly refreshAll: (() => void) | undefined;
  private readonly slots = new Map<string, Slot<L>>();
  private order: Slot<L>[] = [];
  private rendered: Slot<L>[] = [];
  private round = 0;
  private cachedText: string | null = null;

  constructor(options: SnapshotGaugeOptions<L>) {
    super({
      name: options.name,
      help: options.help,
      labelNames: options.labelNames,
      registers: [options.registry],
    });
    this.family = { name: options.name, help: options.help };
    this.refreshAll = options.refresh;
  }

  /** Starts a round: a series not put again before finish() is gone. */
  begin(): void {
    this.round++;
    this.order = [];
  }

  /** Like Gauge.set: a label set put twice keeps its first position and its last value. */
  put(labels: SeriesLabels<L>, value: number): void {
    let slot = this.slots.get(labels.text);
    if (!slot) {
      slot = { labels, value, round: -1, rendered: Number.NaN };
      this.slots.set(labels.text, slot);
    }
    if (slot.round !== this.round) {
      slot.round = this.round;
      this.order.push(slot);
    }
    slot.labels = labels;
    slot.value = value;
  }

  /** Forgets the series this round did not put. */
  finish(): void {
    if (this.slots.size === this.order.length) return;
    for (const [text, slot] of this.slots) {
      if (slot.round !== this.round) this.slots.delete(text);
    }
  }

  /** This family's part of the exposition, as Registry.getMetricsAsString would give it. */
  exposition(): string {
    if (this.cachedText === null || this.changed()) {
      const name = escapeString(this.family.name);
      const lines = [`# HELP ${name} ${escapeString(this.family.help)}`, `# TYPE ${name} gauge`];
      for (const slot of this.order) {
        lines.push(`${name}${slot.labels.text} ${valueText(slot.value)}`);
        slot.rendered = slot.value;
      }
      this.cachedText = lines.join("\n");
      this.rendered = this.order;
    }
    return this.cachedText;
  }

  /** For Registry.metrics() and any other reader of the plain prom-client interface. */
  override get(): Promise<GaugeData<L>> {
    this.refreshAll?.();
    const data = {
      name: this.family.name,
      help: this.family.help,
      type: "gauge",
      aggregator: "sum",
      values: this.order.map((slot) => ({ labels: slot.labels.values, value: slot.value })),
    };
    // What prom-client's own Gauge.get() returns; its typings claim a numeric enum type and a collect
    // field that no metric's get() actually returns.
    return Promise.resolve(data as unknown as GaugeData<L>);
  }

  private changed(): boolean {
    if (this.order.length !== this.rendered.length) return true;
    for (let i = 0; i < this.order.length; i++) {
      const slot = this.order[i]!;
      if (slot !== this.rendered[i] || !Object.is(slot.value, slot.rendered)) return true;
    }
    return false;
  }
}

// prom-client's own escaping and number formatting (lib/registry.js, lib/util.js), which the text
// this module renders must match.
function escapeString(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function escapeLabelValue(text: string): string {
  return escapeString(text).replace(/"/g, '\\"');
}

function valueText(value: number): string {
  if (Number.isNaN(value)) return "Nan";
  if (!Number.isFinite(value)) return value < 0 ? "-Inf" : "+Inf";
  return `${value}`;
}
