// Chrome Trace Event Format export of a simulated timeline (load it in chrome://tracing or
// https://ui.perfetto.dev). One process; one track (tid) per device and per link queue,
// named by "M" thread_name metadata events; each task is a complete ("X") event with
// ts and dur in microseconds. Format: the "Trace Event Format" document (Google, 2016).

import type { Timeline } from "./simulate.js";

export interface TraceEvent {
  name: string;
  ph: "X" | "M";
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, string | number>;
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: "ms";
  otherData: Record<string, string | number>;
}

/** The trace of `t`; `title` names the process (the model and strategy, say). */
export function toChromeTrace(t: Timeline, title = "par simulate"): ChromeTrace {
  const used = new Set<number>();
  for (const task of t.tasks) used.add(task.resourceId);
  const events: TraceEvent[] = [{ name: "process_name", ph: "M", pid: 0, tid: 0, args: { name: title } }];
  for (const r of [...used].sort((a, b) => a - b)) {
    events.push({ name: "thread_name", ph: "M", pid: 0, tid: r, args: { name: t.resources[r] } });
    // Devices first, then links, in resource order.
    events.push({ name: "thread_sort_index", ph: "M", pid: 0, tid: r, args: { sort_index: r } });
  }
  for (const task of t.tasks) {
    const args: Record<string, string | number> = { op: task.op };
    if (task.bytes > 0) args.bytes = task.bytes;
    events.push({
      name: task.name,
      cat: task.kind,
      ph: "X",
      pid: 0,
      tid: task.resourceId,
      ts: task.start * 1e6,
      dur: (task.end - task.start) * 1e6,
      args,
    });
  }
  return { traceEvents: events, displayTimeUnit: "ms", otherData: { iterationTimeMs: t.iterationTime * 1e3 } };
}
