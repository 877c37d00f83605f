// Does a cold check's cost grow linearly with the account? The cost of 1,000 more integrations is taken
// between the smallest run and each larger one, so that what every process pays once (Node, module
// loading, the heap's base) is not spread over the integrations; linear growth gives the same cost per
// 1,000 at every size. Pure.

export interface ScalePoint {
  readonly integrations: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly maxRssMb: number;
}

export type Cost = Omit<ScalePoint, "integrations">;

/** The cost of 1,000 more integrations between `base` and `point`. */
export function perThousand(base: ScalePoint, point: ScalePoint): Cost {
  const thousands = (point.integrations - base.integrations) / 1_000;
  if (thousands <= 0) throw new RangeError("per-1,000 cost needs a larger point than the base");
  const of = (key: keyof Cost) => (point[key] - base[key]) / thousands;
  return { wallMs: of("wallMs"), cpuMs: of("cpuMs"), maxRssMb: of("maxRssMb") };
}

/** Each measure's per-1,000 cost at `large` divided by that at `small` (both above `base`). */
export function growthRatio(base: ScalePoint, small: ScalePoint, large: ScalePoint): Cost {
  const low = perThousand(base, small);
  const high = perThousand(base, large);
  return {
    wallMs: high.wallMs / low.wallMs,
    cpuMs: high.cpuMs / low.cpuMs,
    maxRssMb: high.maxRssMb / low.maxRssMb,
  };
}
