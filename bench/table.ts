// Renders the bench's findings as a Markdown table, so the console output can go into the README as is.

export interface Row {
  readonly measure: string;
  readonly value: string;
  readonly goal: string;
  /** null: no goal for this measure. */
  readonly met: boolean | null;
}

export function markdownTable(rows: readonly Row[]): string {
  const cells = [
    ["Measure", "Result", "Goal", "Met"],
    ...rows.map((row) => [row.measure, row.value, row.goal, row.met === null ? "" : row.met ? "yes" : "NO"]),
  ];
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((line) => line[column]!.length)));
  const line = (values: readonly string[]) =>
    `| ${values.map((value, column) => value.padEnd(widths[column]!)).join(" | ")} |`;
  return [line(cells[0]!), line(widths.map((width) => "-".repeat(width))), ...cells.slice(1).map(line)].join(
    "\n",
  );
}
