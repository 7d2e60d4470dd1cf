// The report's op graph: every op with its parallel configuration (degree per SOAP dimension,
// devices), a colour per distinct configuration, and positions laid out by @dagrejs/dagre
// here in Node, so that the page draws boxes and polylines without a layout library.

import dagre from "@dagrejs/dagre";
import { deviceRangeText } from "../ir/device-list.js";
import type { Graph, OpNode } from "../ir/graph.js";
import type { OpConfig } from "../ir/strategy.js";

export interface OpDim {
  name: string;
  /** sample, attribute, parameter or reduction (the SOAP class of the dimension). */
  cls: string;
  size: number;
  degree: number;
}

export interface OpView {
  name: string;
  kind: string;
  /** Output shapes, e.g. "64×1024". */
  shape: string;
  /** Present when the strategy (or the plan) says how the op is split. */
  dims?: OpDim[];
  /** The devices of its tasks, as a range text ("0..3, 8"); absent without a placement. */
  devices?: string;
  tasks?: number;
  /** The configuration in words: "sample=4 @ 0..3", or "whole @ 0". */
  config: string;
  /** Index into GraphView.configs (the colour). */
  colour: number;
  /** Predicted seconds of its compute and communication tasks, when simulated. */
  computeSeconds?: number;
  commSeconds?: number;
  /** Box centre and size (dagre's layout). */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface EdgeView {
  from: string;
  to: string;
  /** The tensor the edge carries. */
  tensor: string;
  /** Polyline from dagre. */
  points: { x: number; y: number }[];
}

export interface GraphView {
  ops: OpView[];
  edges: EdgeView[];
  /** Distinct configurations in first-seen (topological) order; ops refer to them by index. */
  configs: { config: string; ops: number }[];
  width: number;
  height: number;
}

const NODE_HEIGHT = 36;
const CHAR_WIDTH = 7;

function shapeText(graph: Graph, op: OpNode): string {
  return op.outputs.map((id) => graph.tensor(id).type.shape.join("×") || "scalar").join(", ");
}

/** "sample=4 attribute.out=2 @ 0..7" (split dims only), or "whole @ 3". */
export function configText(op: OpNode, c: OpConfig | undefined, degrees?: readonly number[]): string {
  const ds = c?.degrees ?? degrees;
  if (!ds) return "unknown";
  const split = ds.map((d, i) => (d > 1 ? `${op.sig.space[i]?.name ?? `d${i}`}=${d}` : "")).filter(Boolean);
  const what = split.length ? split.join(" ") : "whole";
  return c ? `${what} @ ${deviceRangeText(c.devices)}` : what;
}

/**
 * The graph view of `graph`: `configs` gives each op's config (a strategy's), or `degrees`
 * only the degrees (a plan whose placement could not be recovered); `times` the predicted
 * seconds per op.
 */
export function graphView(
  graph: Graph,
  configs: Readonly<Record<string, OpConfig>> | undefined,
  options: { degrees?: ReadonlyMap<string, readonly number[]>; times?: ReadonlyMap<string, { compute: number; comm: number }> } = {},
): GraphView {
  const order = graph.topoOrder();
  const palette = new Map<string, number>();
  const configList: { config: string; ops: number }[] = [];
  const ops: OpView[] = order.map((op) => {
    const c = configs?.[op.name];
    const degrees = c?.degrees ?? options.degrees?.get(op.name);
    const config = configText(op, c, degrees);
    let colour = palette.get(config);
    if (colour === undefined) {
      colour = configList.length;
      palette.set(config, colour);
      configList.push({ config, ops: 0 });
    }
    configList[colour].ops++;
    const view: OpView = { name: op.name, kind: op.op, shape: shapeText(graph, op), config, colour, x: 0, y: 0, width: 0, height: NODE_HEIGHT };
    if (degrees) {
      view.dims = op.sig.space.map((d, i) => ({ name: d.name, cls: d.cls, size: d.size, degree: degrees[i] ?? 1 }));
      view.tasks = degrees.reduce((a, b) => a * b, 1);
    }
    if (c) view.devices = deviceRangeText(c.devices);
    const t = options.times?.get(op.name);
    if (options.times) {
      view.computeSeconds = t?.compute ?? 0;
      view.commSeconds = t?.comm ?? 0;
    }
    view.width = Math.max(60, Math.min(260, 16 + CHAR_WIDTH * Math.max(op.name.length, op.op.length)));
    return view;
  });
  const edges: EdgeView[] = [];
  const seen = new Set<string>();
  for (const op of order) {
    for (const id of op.inputs) {
      const producer = graph.tensor(id).producer;
      if (!producer) continue;
      const key = `${producer.op}\u0000${op.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      edges.push({ from: producer.op, to: op.name, tensor: id, points: [] });
    }
  }
  const size = layout(ops, edges);
  return { ops, edges, configs: configList, ...size };
}

/** Positions the boxes and routes the edges (top to bottom), in place; returns the drawing's size. */
function layout(ops: OpView[], edges: EdgeView[]): { width: number; height: number } {
  const g = new dagre.graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: "TB", nodesep: 18, ranksep: 36, edgesep: 8, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const op of ops) g.setNode(op.name, { width: op.width, height: op.height });
  for (const e of edges) g.setEdge(e.from, e.to);
  dagre.layout(g);
  const round = (v: number) => Math.round(v * 10) / 10;
  for (const op of ops) {
    const n = g.node(op.name);
    op.x = round(n.x ?? 0);
    op.y = round(n.y ?? 0);
  }
  for (const e of edges) e.points = (g.edge(e.from, e.to)?.points ?? []).map((p: { x: number; y: number }) => ({ x: round(p.x), y: round(p.y) }));
  const label = g.graph();
  return { width: Math.ceil(label.width ?? 0), height: Math.ceil(label.height ?? 0) };
}
