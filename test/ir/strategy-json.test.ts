import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Diagnostics } from "../../src/core/diagnostics.js";
import type { Graph } from "../../src/ir/graph.js";
import { jsonLocations } from "../../src/core/json-positions.js";
import type { Strategy } from "../../src/ir/strategy.js";
import { formatStrategyJson, readStrategyFile, strategyFromJson, strategyFromJsonText, strategyJsonText, strategyToJson, writeStrategyFile } from "../../src/ir/strategy-json.js";
import { STRATEGY_SCHEMA, STRATEGY_SCHEMA_V2, strategySchemaText, strategyValidator } from "../../src/ir/strategy-schema.js";
import { validateStrategy } from "../../src/ir/strategy-validate.js";
import { assertProperty } from "../support/property.js";
import { arbGraph, mlp, testMesh } from "./fixtures.js";
import { randomStrategy } from "./random-strategy.js";

const MLP_STRATEGY: Strategy = {
  name: "hybrid",
  model: "mlp",
  mesh: "test1x4",
  ops: {
    fc1: { degrees: [2, 2, 1], devices: [0, 1, 2, 3] },
    relu1: { degrees: [4, 1], devices: [0, 1, 2, 3] },
    fc2: { degrees: [1, 1, 2], devices: [3, 2] },
    loss: { degrees: [1], devices: [0] },
  },
};

function read(text: string, graph: Graph = mlp()) {
  const d = new Diagnostics();
  const s = strategyFromJsonText(graph, text, "s.json", d);
  return { s, d, codes: d.items.map((x) => x.code) };
}

describe("strategy JSON form", () => {
  it("keys dims by name, omits degree-1 dims, keeps topological op order", () => {
    const j = strategyToJson(mlp(), MLP_STRATEGY);
    expect(j).toEqual({
      format: "par-strategy",
      version: 1,
      name: "hybrid",
      model: "mlp",
      mesh: "test1x4",
      ops: {
        fc1: { dims: { sample: 2, channel: 2 }, devices: [0, 1, 2, 3] },
        relu1: { dims: { sample: 4 }, devices: [0, 1, 2, 3] },
        fc2: { dims: { in_channel: 2 }, devices: [3, 2] },
        loss: { devices: [0] },
      },
    });
    expect(formatStrategyJson(j)).toBe(`{
  "format": "par-strategy",
  "version": 1,
  "name": "hybrid",
  "model": "mlp",
  "mesh": "test1x4",
  "ops": {
    "fc1": { "dims": { "sample": 2, "channel": 2 }, "devices": [0, 1, 2, 3] },
    "relu1": { "dims": { "sample": 4 }, "devices": [0, 1, 2, 3] },
    "fc2": { "dims": { "in_channel": 2 }, "devices": [3, 2] },
    "loss": { "devices": [0] }
  }
}
`);
  });

  it("reads back what it writes (file written atomically, no temp file left)", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-strategy-"));
    mkdirSync(join(dir, "sub"));
    const path = join(dir, "sub", "s.json");
    writeStrategyFile(path, mlp(), MLP_STRATEGY);
    expect(readdirSync(join(dir, "sub"))).toEqual(["s.json"]);
    const d = new Diagnostics();
    expect(readStrategyFile(mlp(), path, d)).toEqual(MLP_STRATEGY);
    expect(d.items).toEqual([]);
  });

  it("property: JSON → Strategy → JSON is the identity for random graphs and strategies", () => {
    assertProperty(
      fc.property(arbGraph, fc.integer({ min: 1, max: 8 }), fc.integer(), (g, devices, seed) => {
        const s = randomStrategy(g, devices, seed);
        const d = new Diagnostics();
        expect(validateStrategy(g, testMesh(1, devices), s, d)).toBe(true);
        const text = strategyJsonText(g, s);
        const back = strategyFromJsonText(g, text, "r.json", d);
        expect(d.items).toEqual([]);
        expect(back).toEqual(s);
        expect(strategyJsonText(g, back!)).toBe(text);
        // and through a plain JSON value, too
        expect(strategyFromJson(g, JSON.parse(text), "r.json", d)).toEqual(s);
      }),
      150,
    );
  });

  it("the published schema files are the schemas the validators use (v1 and v2)", () => {
    const published = readFileSync(new URL("../../strategies/strategy.schema.json", import.meta.url), "utf8");
    expect(published).toBe(strategySchemaText());
    expect(published).toBe(strategySchemaText(1));
    expect(STRATEGY_SCHEMA.$id).toMatch(/v1$/);
    const v2 = readFileSync(new URL("../../strategies/strategy.v2.schema.json", import.meta.url), "utf8");
    expect(v2).toBe(strategySchemaText(2));
    expect(STRATEGY_SCHEMA_V2.$id).toBe("urn:par:schema:strategy:v2");
  });

  it("every committed strategy file passes the schema of its version", () => {
    const dir = new URL("../../strategies/", import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith(".json") && !f.endsWith(".schema.json"));
    expect(files.length).toBeGreaterThan(0);
    const versions = new Set<number>();
    for (const f of files) {
      const json = JSON.parse(readFileSync(new URL(f, dir), "utf8")) as { version: 1 | 2 };
      versions.add(json.version);
      const v = strategyValidator(json.version);
      expect(v(json), `${f}: ${JSON.stringify(v.errors)}`).toBe(true);
    }
    expect([...versions].sort()).toEqual([1, 2]);
  });

  it("PAR3160: malformed JSON, with the position of the error", () => {
    const r = read(`{\n  "format": "par-strategy",\n  "version": 1,,\n}`);
    expect(r.s).toBeUndefined();
    expect(r.codes).toEqual(["PAR3160"]);
    expect(r.d.items[0].pos?.line).toBe(3);
    const missing = new Diagnostics();
    expect(readStrategyFile(mlp(), "/nonexistent/s.json", missing)).toBeUndefined();
    expect(missing.items[0].code).toBe("PAR3160");
  });

  it("PAR3161: schema errors name the JSON path and point at its line", () => {
    const text = `{
  "format": "par-strategy",
  "version": 1,
  "name": "s",
  "model": "mlp",
  "mesh": "m",
  "ops": {
    "fc1": { "dims": { "sample": 2.5 }, "devices": [0, -1] },
    "fc2": { "devise": [0] }
  }
}`;
    const r = read(text);
    expect(r.s).toBeUndefined();
    expect(new Set(r.codes)).toEqual(new Set(["PAR3161"]));
    const msgs = r.d.items.map((x) => `${x.pos?.line}:${x.pos?.column} ${x.message}`);
    expect(msgs).toContain("8:34 `/ops/fc1/dims/sample` must be integer");
    expect(msgs).toContain("8:56 `/ops/fc1/devices/1` must be >= 0");
    expect(msgs).toContain("9:14 unknown field `devise` in `/ops/fc2`");
    expect(msgs).toContain("9:12 missing field `devices` in `/ops/fc2`");
    expect(r.d.items.find((x) => x.message.includes("devise"))?.hint).toBe("did you mean `devices`?");
    const top = read(`{"format": "par-strategy", "version": 1, "name": "s", "model": "mlp", "ops": {}, "extra": 1}`);
    expect(top.d.items.map((x) => x.message).sort()).toEqual(["missing field `mesh` in the top level", "unknown field `extra` in the top level"]);
  });

  it("PAR3162: an unknown dim name, with a did-you-mean and the op's dims", () => {
    const r = read(`{"format": "par-strategy", "version": 1, "name": "s", "model": "mlp", "mesh": "m", "ops": {"fc1": {"dims": {"chanel": 2}, "devices": [0, 1]}}}`);
    expect(r.codes).toEqual(["PAR3162"]);
    expect(r.d.items[0].message).toBe("op `fc1` (`linear`) has no parallel dim `chanel`");
    expect(r.d.items[0].hint).toBe("did you mean `channel`?");
    expect(r.d.items[0].expected).toBe("one of `sample`, `channel`, `in_channel`");
  });

  it("PAR3151: an unknown op in a file", () => {
    const r = read(`{"format": "par-strategy", "version": 1, "name": "s", "model": "mlp", "mesh": "m", "ops": {"relu": {"devices": [0]}}}`);
    expect(r.codes).toEqual(["PAR3151"]);
    expect(r.d.items[0].hint).toBe("did you mean `relu1`?");
    expect(r.d.items[0].pos?.column).toBe(92);
  });

  it("PAR3163: not a strategy file; PAR3164: a newer format version", () => {
    expect(read(`{"format": "par-plan", "version": 1}`).codes).toEqual(["PAR3163"]);
    expect(read(`[1, 2]`).codes).toEqual(["PAR3161"]);
    const v3 = read(`{"format": "par-strategy", "version": 3, "name": "s", "model": "mlp", "mesh": "m", "ops": {}}`);
    expect(v3.codes).toEqual(["PAR3164"]);
    expect(v3.d.items[0].message).toMatch(/this par reads versions 1 and 2/);
    expect(v3.d.items[0].hint).toMatch(/newer par/);
    expect(read(`{"format": "par-strategy", "version": 0, "name": "s", "model": "mlp", "mesh": "m", "ops": {}}`).d.items[0].hint).toBeUndefined();
  });

  it("leaves missing ops out, for validateStrategy to report", () => {
    const r = read(`{"format": "par-strategy", "version": 1, "name": "s", "model": "mlp", "mesh": "test1x4", "ops": {"fc1": {"devices": [0]}}}`);
    expect(r.s?.ops).toEqual({ fc1: { degrees: [1, 1, 1], devices: [0] } });
    const d = new Diagnostics();
    validateStrategy(mlp(), testMesh(1, 4), r.s!, d);
    expect(d.items.map((x) => x.code)).toEqual(["PAR3150"]);
  });

  it("locates values and keys by JSON Pointer", () => {
    const locs = jsonLocations(`{"a/b": [1, {"c~": "x"}], "d": {}}`);
    expect(locs.get("")?.value).toBe(0);
    expect(locs.get("/a~1b")).toEqual({ value: 8, key: 1 });
    expect(locs.get("/a~1b/1/c~0")?.value).toBe(19);
    expect(locs.get("/d")).toEqual({ value: 31, key: 26 });
  });

  it("writes a tmp file only beside the target", () => {
    const dir = mkdtempSync(join(tmpdir(), "par-strategy-"));
    writeFileSync(join(dir, "keep.txt"), "x");
    writeStrategyFile(join(dir, "a.json"), mlp(), MLP_STRATEGY);
    expect(readdirSync(dir).sort()).toEqual(["a.json", "keep.txt"]);
  });
});
