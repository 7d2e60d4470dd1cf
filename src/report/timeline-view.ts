// The simulator's timeline as the report draws it: one row per device with the tasks of its
// compute queue (forward, backward, partial sums, updates, and all-reduces where the devices
// move the bytes themselves) and the link tasks it sends or receives, the seconds spent
// computing, communicating and idle; and the communication edges that cost the most.
//
// A link task names no device: its devices are those of the device tasks it waits for
// (the senders) and of the device tasks that wait for it (the receivers), reached through
// other link tasks when transfers chain (an uplink, then a link).

import { isComputeKind, KIND_NAMES } from "../sim/task-kinds.js";
import type { Timeline, TimelineTask } from "../sim/simulate.js";

/** Task kinds, by the index a task row stores. */
export const TASK_KINDS: readonly string[] = KIND_NAMES;

/** One drawn task: [start µs, duration µs, kind index (TASK_KINDS), op index (GraphView.ops, −1 none), lane (0 device queue, 1 links)]. */
export type TaskRow = [number, number, number, number, number];

export interface DeviceTimeline {
  device: number;
  /** Seconds of compute-kind tasks on the device's queue. */
  compute: number;
  /** Seconds during which the device communicates (its in-line all-reduces and the link tasks it sends or receives; overlaps counted once). */
  comm: number;
  /** Seconds of the iteration when the device neither computes nor communicates. */
  idle: number;
  tasks: TaskRow[];
}

export interface TimelineView {
  /** Seconds. */
  iterationTime: number;
  devices: DeviceTimeline[];
}

export interface CommEdge {
  kind: string;
  /** The op whose output (or, for all-reduces, whose weights) moves. */
  from: string;
  /** The op that receives it (the same op for weight all-reduces). */
  to: string;
  bytes: number;
  seconds: number;
  transfers: number;
  /** Devices taking part, as sorted indices. */
  devices: number[];
}

const COMM_KINDS = new Set(KIND_NAMES.filter((_, k) => !isComputeKind(k)));
const KIND_INDEX = new Map<string, number>(KIND_NAMES.map((k, i) => [k, i]));
const us = (s: number) => Math.round(s * 1e9) / 1e3;

/** The device tasks a link task is reached from (`back`) or leads to, through other link tasks. */
class Endpoints {
  private readonly succ: number[][];
  private readonly memo = [new Map<number, number[]>(), new Map<number, number[]>()];

  constructor(private readonly tasks: readonly TimelineTask[]) {
    this.succ = tasks.map(() => []);
    tasks.forEach((t, i) => {
      for (const d of t.deps) this.succ[d].push(i);
    });
  }

  /** Indices of the nearest device tasks before (back) or after the link task `i`. */
  near(i: number, back: boolean): number[] {
    const memo = this.memo[back ? 0 : 1];
    const known = memo.get(i);
    if (known) return known;
    const out = new Set<number>();
    // Iterative walk: chains of link tasks can be long on big meshes.
    const stack = [...(back ? this.tasks[i].deps : this.succ[i])];
    const seen = new Set<number>();
    while (stack.length) {
      const j = stack.pop()!;
      if (seen.has(j)) continue;
      seen.add(j);
      if (this.tasks[j].device >= 0) out.add(j);
      else stack.push(...(back ? this.tasks[j].deps : this.succ[j]));
    }
    const list = [...out].sort((a, b) => a - b);
    memo.set(i, list);
    return list;
  }
}

/** Sum of the lengths of the union of [start, end) intervals. */
function unionLength(intervals: [number, number][]): number {
  intervals.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [s, e] of intervals) {
    if (s > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = s;
      curEnd = e;
    } else if (e > curEnd) curEnd = e;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

/** Per device rows of `t` (devices 0..deviceCount−1); `opIndex` maps op names to GraphView indices. */
export function timelineView(t: Timeline, deviceCount: number, opIndex: ReadonlyMap<string, number>): TimelineView {
  const ends = new Endpoints(t.tasks);
  const rows: { tasks: TaskRow[]; busy: [number, number][]; comm: [number, number][]; compute: number }[] = Array.from({ length: deviceCount }, () => ({ tasks: [], busy: [], comm: [], compute: 0 }));
  t.tasks.forEach((task, i) => {
    const kind = KIND_INDEX.get(task.kind) ?? 0;
    const op = opIndex.get(task.op) ?? -1;
    const span: [number, number] = [task.start, task.end];
    const isComm = COMM_KINDS.has(task.kind);
    if (task.device >= 0) {
      const r = rows[task.device];
      r.tasks.push([us(task.start), us(task.end - task.start), kind, op, 0]);
      r.busy.push(span);
      if (isComm) r.comm.push(span);
      else r.compute += task.end - task.start;
      return;
    }
    const devices = new Set<number>();
    for (const j of ends.near(i, true)) devices.add(t.tasks[j].device);
    for (const j of ends.near(i, false)) devices.add(t.tasks[j].device);
    for (const d of devices) {
      const r = rows[d];
      r.tasks.push([us(task.start), us(task.end - task.start), kind, op, 1]);
      r.busy.push(span);
      r.comm.push(span);
    }
  });
  return {
    iterationTime: t.iterationTime,
    devices: rows.map((r, device) => ({
      device,
      compute: r.compute,
      comm: unionLength(r.comm),
      idle: Math.max(0, t.iterationTime - unionLength(r.busy)),
      tasks: r.tasks.sort((a, b) => a[4] - b[4] || a[0] - b[0] || a[2] - b[2]),
    })),
  };
}

/** The `n` communication edges of `t` that take the most link time (then bytes). */
export function topCommEdges(t: Timeline, n: number): CommEdge[] {
  const ends = new Endpoints(t.tasks);
  const by = new Map<string, CommEdge & { deviceSet: Set<number> }>();
  t.tasks.forEach((task, i) => {
    if (!COMM_KINDS.has(task.kind)) return;
    const before = task.device >= 0 ? [i] : ends.near(i, true);
    const after = task.device >= 0 ? [i] : ends.near(i, false);
    const weights = task.kind === "allreduce";
    const from = weights ? task.op : (before.length ? t.tasks[before[0]].op : task.op);
    const to = weights ? task.op : (after.length ? t.tasks[after[0]].op : task.op);
    const key = `${task.kind}\u0000${from}\u0000${to}`;
    let e = by.get(key);
    if (!e) by.set(key, (e = { kind: task.kind, from, to, bytes: 0, seconds: 0, transfers: 0, devices: [], deviceSet: new Set() }));
    e.bytes += task.bytes;
    e.seconds += task.end - task.start;
    e.transfers++;
    for (const j of [...before, ...after]) e.deviceSet.add(t.tasks[j].device);
  });
  return [...by.values()]
    .sort((a, b) => b.seconds - a.seconds || b.bytes - a.bytes || (a.from + a.to < b.from + b.to ? -1 : a.from + a.to > b.from + b.to ? 1 : 0))
    .slice(0, n)
    .map(({ deviceSet, ...e }) => ({ ...e, devices: [...deviceSet].sort((a, b) => a - b) }));
}
