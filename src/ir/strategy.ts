// A strategy: for every op, a degree per parallel dim of its iteration space and the
// device of each task (FlexFlow's SOAP config: Sample, Attribute, Parameter degrees +
// Operator placement). Tasks are numbered row-major over the degrees (last dim fastest),
// matching src/core/region.ts `partition`.

export interface OpConfig {
  /** One degree per iteration dim, in the op's `sig.space` order. */
  degrees: number[];
  /** Device index of each task; length = product of degrees. */
  devices: number[];
}

export interface Strategy {
  /** A name for people ("data-parallel", "searched"). */
  name: string;
  model: string;
  mesh: string;
  /** Config per op name. Every op of the graph has one in a complete strategy. */
  ops: Record<string, OpConfig>;
}

export function taskCount(c: OpConfig): number {
  return c.degrees.reduce((a, b) => a * b, 1);
}
