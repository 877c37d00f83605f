// The test helper that parses /metrics: if it were lenient, the metric tests could pass on bad output.
import { describe, expect, it } from "vitest";
import { parsePrometheusText } from "../helpers/prom-text.js";

describe("parsePrometheusText (test helper)", () => {
  it("reads families with HELP, TYPE, escaped label values and special values", () => {
    const exposition = parsePrometheusText(
      [
        "# HELP up_total Requests, with a \\\\ backslash\\nand a newline.",
        "# TYPE up_total counter",
        'up_total{a="x \\"q\\" \\\\ y\\nz",b=""} 3',
        "up_total 1.5e3 1700000000000",
        "# TYPE h histogram",
        'h_bucket{le="+Inf"} 2',
        "h_sum NaN",
        "h_count 2",
        "untyped_thing -Inf",
        "",
      ].join("\n"),
    );
    expect(exposition.family("up_total")).toEqual({
      name: "up_total",
      type: "counter",
      help: "Requests, with a \\ backslash\nand a newline.",
      samples: [
        { name: "up_total", labels: { a: 'x "q" \\ y\nz', b: "" }, value: 3 },
        { name: "up_total", labels: {}, value: 1500 },
      ],
    });
    expect(exposition.family("h").samples.map((s) => s.name)).toEqual(["h_bucket", "h_sum", "h_count"]);
    expect(exposition.value("h_sum")).toBeNaN();
    expect(exposition.value("h_bucket", { le: "+Inf" })).toBe(2);
    expect(exposition.family("untyped_thing")).toMatchObject({ type: null, samples: [{ value: -Infinity }] });
  });

  it("finds samples by a subset of labels and insists on exactly one for value()", () => {
    const exposition = parsePrometheusText('m{a="1",b="x"} 1\nm{a="2",b="x"} 2\n');
    expect(exposition.samples("m", { b: "x" })).toHaveLength(2);
    expect(exposition.value("m", { a: "2" })).toBe(2);
    expect(() => exposition.value("m", { b: "x" })).toThrow("found 2");
    expect(() => exposition.value("m", { a: "3" })).toThrow("found 0");
    expect(() => exposition.family("nope")).toThrow("not exposed");
  });

  it.each([
    ["a bad value", "m 12abc"],
    ["an unterminated label value", 'm{a="x} 1'],
    ["a label without quotes", "m{a=x} 1"],
    ["a duplicate label", 'm{a="1",a="2"} 1'],
    ["a bad escape", 'm{a="\\t"} 1'],
    ["a second TYPE", "# TYPE m gauge\n# TYPE m gauge\nm 1"],
    ["an unknown TYPE", "# TYPE m thing\nm 1"],
    ["a family declared twice", "# TYPE m gauge\nm 1\n# TYPE n gauge\nn 1\n# HELP m again\n"],
    ["a line that is not a sample", "{} 1"],
    ["too many fields", "m 1 2 3"],
  ])("rejects %s", (_name, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
