// The data `par report` draws: the graph view (one box per op, colours by configuration,
// dagre's positions), the per-device timeline (device tasks and the link tasks each device
// sends or receives; compute, communication and idle), memory rows, communication edges,
// the comparison with data parallelism (shared with `par diff`), and a plan's configs.
import { describe, expect, it } from "vitest";
import { builtinMesh } from "../../src/core/builtin-meshes.js";
import type { Mesh } from "../../src/core/mesh.js";
import { baseline } from "../../src/ir/baselines.js";
import type { Graph } from "../../src/ir/graph.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { compile, createContext, load, search, simulate } from "../../src/pipeline.js";
import { graphView } from "../../src/report/graph-view.js";
import { reportHtml, scriptJson } from "../../src/report/html.js";
import { strategyFromPlan } from "../../src/report/plan-strategy.js";
import { buildReport, MEMORY_PARTS, type ReportInput } from "../../src/report/report-data.js";
import { compareStrategies } from "../../src/report/strategy-compare.js";
import { timelineView, topCommEdges } from "../../src/report/timeline-view.js";

function mlp(overrides: Record<string, number> = { batch: 16, hidden: 64, layers: 2 }): Graph {
  return load("models/mlp.par", createContext(), { overrides }).graph;
}

const P100 = builtinMesh("p100x16")!;

function input(graph: Graph, mesh: Mesh, strategy: Strategy, extra: Partial<ReportInput> = {}): ReportInput {
  return { graph, source: { file: "models/mlp.par", kind: "model" }, mesh, strategy, searched: false, optimizer: "sgd", ...extra };
}

describe("graph view", () => {
  it("has one box per op, laid out without overlaps, and one colour per distinct configuration", () => {
    const g = mlp();
    const dp = baseline("dp", g, P100);
    const v = graphView(g, dp.ops);
    expect(v.ops.map((o) => o.name)).toEqual(g.topoOrder().map((o) => o.name));
    expect(v.configs).toEqual([{ config: "sample=16 @ 0..15", ops: g.ops.size }]);
    for (const o of v.ops) {
      expect(o.x - o.width / 2).toBeGreaterThanOrEqual(0);
      expect(o.y + o.height / 2).toBeLessThanOrEqual(v.height);
    }
    // Boxes do not overlap.
    for (let i = 0; i < v.ops.length; i++) {
      for (let j = i + 1; j < v.ops.length; j++) {
        const a = v.ops[i];
        const b = v.ops[j];
        const apart = Math.abs(a.x - b.x) * 2 >= a.width + b.width || Math.abs(a.y - b.y) * 2 >= a.height + b.height;
        expect(apart, `${a.name} and ${b.name}`).toBe(true);
      }
    }
    // Every producer → consumer pair is one routed edge.
    const pairs = new Set(g.topoOrder().flatMap((op) => op.inputs.map((t) => g.tensor(t).producer?.op).filter((p) => p !== undefined).map((p) => `${p}>${op.name}`)));
    expect(v.edges.map((e) => `${e.from}>${e.to}`).sort()).toEqual([...pairs].sort());
    for (const e of v.edges) expect(e.points.length).toBeGreaterThanOrEqual(2);
  });

  it("gives each op its degrees per SOAP dimension and its devices", () => {
    const g = mlp();
    const mp = baseline("mp", g, P100);
    const v = graphView(g, mp.ops);
    const distinct = new Set(g.topoOrder().map((op) => `${mp.ops[op.name].degrees.join()}|${mp.ops[op.name].devices.join()}`));
    expect(v.configs.length).toBe(distinct.size);
    for (const o of v.ops) {
      const c = mp.ops[o.name];
      const op = g.op(o.name);
      expect(o.dims).toEqual(op.sig.space.map((d, i) => ({ name: d.name, cls: d.cls, size: d.size, degree: c.degrees[i] })));
      expect(o.tasks).toBe(c.devices.length);
      expect(v.configs[o.colour].config).toBe(o.config);
    }
  });

  it("without a placement draws the degrees alone", () => {
    const g = mlp();
    const degrees = new Map(g.topoOrder().map((op) => [op.name, op.sig.space.map((_, i) => (i === 0 ? 4 : 1))]));
    const v = graphView(g, undefined, { degrees });
    for (const o of v.ops) {
      expect(o.devices).toBeUndefined();
      expect(o.config).toMatch(/=4$/);
    }
  });
});

describe("timeline view", () => {
  it("has one row per device; device tasks on lane 0, each link task on its senders' and receivers' lane 1", () => {
    const g = mlp();
    const mp = baseline("mp", g, P100);
    const t = simulate(g, P100, mp, createContext()).timeline;
    const index = new Map(g.topoOrder().map((op, i) => [op.name, i]));
    const v = timelineView(t, 16, index);
    expect(v.devices.map((d) => d.device)).toEqual([...Array(16).keys()]);
    for (const d of v.devices) {
      const own = t.tasks.filter((x) => x.device === d.device);
      expect(d.tasks.filter((x) => x[4] === 0).length).toBe(own.length);
      const compute = own.filter((x) => x.kind !== "xfer" && x.kind !== "allreduce").reduce((a, x) => a + x.end - x.start, 0);
      expect(d.compute).toBeCloseTo(compute, 12);
      expect(d.idle).toBeGreaterThanOrEqual(0);
      expect(d.idle).toBeLessThanOrEqual(t.iterationTime + 1e-12);
    }
    // A transfer named "xfer a→b" shows on devices a and b.
    const xfers = t.tasks.filter((x) => x.kind === "xfer");
    expect(xfers.length).toBeGreaterThan(0);
    for (const x of xfers) {
      const m = /xfer (\d+)→(\d+)/.exec(x.name);
      if (!m) continue;
      for (const dev of [Number(m[1]), Number(m[2])]) {
        expect(v.devices[dev].tasks.some((r) => r[4] === 1 && Math.abs(r[0] - Math.round(x.start * 1e9) / 1e3) < 1e-9)).toBe(true);
      }
    }
  });

  it("ranks communication edges by link time and accounts for every byte moved", () => {
    const g = mlp();
    const dp = baseline("dp", g, P100);
    const t = simulate(g, P100, dp, createContext()).timeline;
    const all = topCommEdges(t, 1000);
    const moved = t.tasks.filter((x) => x.kind === "xfer" || x.kind === "allreduce").reduce((a, x) => a + x.bytes, 0);
    expect(all.reduce((a, e) => a + e.bytes, 0)).toBe(moved);
    for (let i = 1; i < all.length; i++) expect(all[i - 1].seconds).toBeGreaterThanOrEqual(all[i].seconds);
    // Data parallelism moves weight gradients only: every edge is an op's all-reduce over all 16 devices.
    for (const e of all) {
      expect(e.kind).toBe("allreduce");
      expect(e.from).toBe(e.to);
      expect(e.devices).toEqual([...Array(16).keys()]);
    }
    expect(topCommEdges(t, 2)).toEqual(all.slice(0, 2));
  });
});

describe("the report's data", () => {
  it("memory rows break each device's total into weights, gradients, optimizer state, activations and the rest", () => {
    const g = mlp();
    const ctx = createContext();
    const data = buildReport(input(g, P100, baseline("dp", g, P100), { optimizer: "adam" }), ctx);
    const sim = simulate(g, P100, baseline("dp", g, P100), createContext(), { optimizer: "adam" });
    expect(data.memory.parts).toEqual(MEMORY_PARTS);
    expect(data.memory.devices!.length).toBe(16);
    data.memory.devices!.forEach((row, i) => {
      const m = sim.memory.devices[i];
      expect(row.parts.slice(0, 4)).toEqual([m.weights, m.gradients, m.optimizer, m.activations]);
      expect(row.parts.reduce((a, b) => a + b, 0)).toBeCloseTo(m.total, 6);
      expect(row.capacity).toBe(m.capacity);
    });
    // Adam keeps two moments per weight.
    expect(data.memory.devices![0].parts[2]).toBe(2 * data.memory.devices![0].parts[0]);
    expect(data.comparison.note).toMatch(/data parallelism itself/);
    expect(data.comparison.result).toBeUndefined();
  });

  it("explains a searched strategy against data parallelism with par diff's comparison", () => {
    const g = mlp({ batch: 64, hidden: 1024, layers: 2 });
    const ctx = createContext();
    const best = search(g, P100, ctx, { budget: { iterations: 300 }, seed: 1 }).best.strategy;
    const data = buildReport(input(g, P100, { ...best, name: "searched" }, { searched: true }), ctx);
    const r = data.comparison.result!;
    const cmp = compareStrategies(g, P100, baseline("dp", g, P100), best, createContext());
    expect(r.dpIterationTime).toBe(cmp.a.timeline.iterationTime);
    expect(r.iterationTime).toBe(cmp.b.timeline.iterationTime);
    expect(r.speedup).toBeCloseTo(cmp.a.timeline.iterationTime / cmp.b.timeline.iterationTime, 12);
    expect(r.speedup).toBeGreaterThan(1);
    expect(r.changedOps).toBe(cmp.ops.filter((o) => !o.same).length);
    expect(r.why[0]).toMatch(/^The searched strategy is predicted \d+\.\d\d× faster than data parallelism/);
    for (const gain of r.gains) expect(gain.saved).toBeGreaterThan(0);
    expect(r.gains.map((x) => x.saved)).toEqual([...r.gains.map((x) => x.saved)].sort((a, b) => b - a));
    expect(data.iterationTime).toBe(r.iterationTime);
  });

  it("a plan: its configs are recovered exactly; without a mesh the sections say why", () => {
    const g = mlp({ batch: 16, hidden: 32, layers: 1 });
    const mesh = builtinMesh("p100x16")!;
    const mp = baseline("mp", g, mesh);
    const plan = compile(g, mesh, mp, createContext());
    const recovered = strategyFromPlan(plan);
    expect("strategy" in recovered && recovered.strategy.ops).toEqual(mp.ops);
    const data = buildReport({ graph: g, source: { file: "p.json", kind: "plan" }, strategy: "strategy" in recovered ? recovered.strategy : undefined, meshMissing: "the plan was compiled for mesh m8, which is not built in", searched: false, optimizer: "sgd" }, createContext());
    expect(data.graph.ops.length).toBe(g.ops.size);
    expect(data.graph.ops[0].devices).toBeDefined();
    for (const s of [data.timeline, data.memory, data.comm, data.comparison]) expect(s.missing).toBe("No prediction: the plan was compiled for mesh m8, which is not built in.");
    // A plan whose forward instructions lost a task cannot give a placement.
    const broken = structuredClone(plan);
    const prog = broken.programs.find((p) => p.instructions.some((i) => i.kind === "forward"))!;
    prog.instructions = prog.instructions.filter((i) => i.kind !== "forward");
    expect(strategyFromPlan(broken)).toEqual({ missing: expect.stringMatching(/^no device runs task \d+ of op /) });
  });

  it("the page embeds the data as JSON that cannot end its script element", () => {
    const g = mlp({ batch: 8, hidden: 16, layers: 1 });
    const data = buildReport(input(g, P100, baseline("dp", g, P100)), createContext());
    data.notes.push("</script><script>alert(1)</script>\u2028");
    const html = reportHtml(data);
    const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)!;
    expect(JSON.parse(m[1])).toEqual(JSON.parse(JSON.stringify(data)));
    expect(scriptJson("</script>")).toBe('"\\u003c/script>"');
    expect(html).not.toMatch(/<script[^>]* src=|<link[^>]* href="http|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    // The same input gives the same page.
    expect(reportHtml(buildReport(input(g, P100, baseline("dp", g, P100)), createContext()))).toBe(reportHtml(buildReport(input(g, P100, baseline("dp", g, P100)), createContext())));
  });
});
