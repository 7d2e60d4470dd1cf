// The segments of the task graph and their one global order. The tasks are kept in
// SEGMENTS, one per (op, part), in a fixed order that depends only on the graph (ops by
// topological rank r, inputs by index k):
//
//   forward    for r = 0 .. n−1:   XF(r,0) … XF(r,m−1)   FO(r)
//   backward   for r = n−1 .. 0:   JN(r)   BO(r)   XB(r,0) … XB(r,m−1)   AR(r)
//   updates    for r = n−1 .. 0:   UP(r)
//
// On a mesh whose links are moved by the devices' own threads (collectivesInLine: CPU
// workers on shared memory) the all-reduces run in line on their members' compute queues,
// where par's runtime runs them: at the end, AR(r) moving from the backward section to the
// updates section (for r = n−1 .. 0: AR(r) UP(r)).
//
//   XF(r,k)  forward transfers of input k        FO(r)  fwd tasks, then per output region
//   XB(r,k)  gradient transfers of input k              its partial-sum transfers and add
//   JN(r)    gradient joins                      BO(r)  gradient broadcasts, then bwd tasks
//   AR(r)    all-reduces                         UP(r)  updates
//
// Every dependency goes from an earlier segment, or from earlier in the same segment, to a
// later one (a linear extension of the DAG; TaskGraphBuilder.checkOrder asserts it). A
// task's structural key is (segment, position in it): it does not depend on storage, and
// it is the order in which every resource runs its tasks (see simulate.ts).

/** Segment indices of every op: a pure function of the graph. */
export interface SegmentMap {
  count: number;
  /** Per op rank: XF(r,0) (= FO(r) when the op has no inputs); XF(r,k) = first + k. */
  first: Int32Array;
  fo: Int32Array;
  /** JN(r) = bo − 1: the op's gradient joins (tasks on no resource). */
  jn: Int32Array;
  /** BO(r); XB(r,k) = bo + 1 + k; AR(r) = bo + 1 + inputs (in the updates section, just before UP(r), with in-line collectives). */
  bo: Int32Array;
  ar: Int32Array;
  up: Int32Array;
  /** 1 for segments whose tasks occupy no resource (the JN segments). */
  noResource: Uint8Array;
}

/** The segments of ops with `inputs[r]` inputs each, in topological order. */
export function segmentMap(inputs: readonly number[], inLineCollectives: boolean): SegmentMap {
  const n = inputs.length;
  const first = new Int32Array(n);
  const fo = new Int32Array(n);
  const jn = new Int32Array(n);
  const bo = new Int32Array(n);
  const ar = new Int32Array(n);
  const up = new Int32Array(n);
  let g = 0;
  for (let r = 0; r < n; r++) {
    first[r] = g;
    g += inputs[r];
    fo[r] = g++;
  }
  const noResource: number[] = [];
  for (let r = n - 1; r >= 0; r--) {
    jn[r] = g++;
    noResource.push(jn[r]);
    bo[r] = g;
    g += 1 + inputs[r];
    if (!inLineCollectives) ar[r] = g++;
  }
  for (let r = n - 1; r >= 0; r--) {
    if (inLineCollectives) ar[r] = g++;
    up[r] = g++;
  }
  const free = new Uint8Array(g);
  for (const x of noResource) free[x] = 1;
  return { count: g, first, fo, jn, bo, ar, up, noResource: free };
}
