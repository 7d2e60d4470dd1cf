// Axis attributes: Python-style negative axes, validated against a rank with coded
// diagnostics (shared by shape ops, reductions and softmax).

import type { InferContext } from "./contract.js";

/**
 * Normalises `axis` (negative counts from the end) against `rank`; reports PAR2131 and
 * returns undefined when it is out of range. `rank` is the number of valid positions
 * (unsqueeze passes the output rank).
 */
export function normalizeAxis(axis: number, rank: number, op: string, ctx: InferContext, attr = "axis"): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) {
    ctx.diagnostics.error("PAR2131", `\`${op}\`: ${attr} ${axis} is out of range for rank ${rank}`, {
      pos: ctx.pos,
      expected: rank === 0 ? "no axis (the input is a scalar)" : `an axis in [${-rank}, ${rank - 1}]`,
    });
    return undefined;
  }
  return a;
}

/** Normalises a list of axes; also rejects duplicates (PAR2134). Returns them sorted. */
export function normalizeAxes(axes: readonly number[], rank: number, op: string, ctx: InferContext, attr = "axes"): number[] | undefined {
  const out: number[] = [];
  for (const axis of axes) {
    const a = normalizeAxis(axis, rank, op, ctx, attr);
    if (a === undefined) return undefined;
    if (out.includes(a)) {
      ctx.diagnostics.error("PAR2134", `\`${op}\`: axis ${a} appears more than once in ${attr} [${axes.join(", ")}]`, {
        pos: ctx.pos,
        expected: "distinct axes",
      });
      return undefined;
    }
    out.push(a);
  }
  return out.sort((x, y) => x - y);
}
