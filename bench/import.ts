// Importing a large ONNX file (issue 19): a generated 500 MB model (an MLP of Gemm layers
// whose weights are raw_data in the file) must import in ≤ 15 s with a peak RSS of at most
// twice the file size plus 500 MB; the same model with its weights as external data (a
// side file, ONNX's format past 2 GB) imports from the proto alone. Each import runs in a
// child process (bench/import-child.ts) so that its peak RSS is its own. Not a test: the
// file is generated in a temporary directory and removed afterwards.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { onnxModelType } from "../src/frontend/onnx/decode.js";

const MB = 1e6;
const WIDTH = 4000;
const LAYERS = 8;

type Obj = Record<string, unknown>;

/** Bytes of a float32 weight, from a cheap hash (incompressible enough, deterministic). */
function weightBytes(n: number, seed: number): Uint8Array {
  const w = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = (s / 2 ** 32 - 0.5) * 0.02;
  }
  return new Uint8Array(w.buffer);
}

/**
 * The model: x[N, WIDTH] → LAYERS × (Gemm, Relu) → y. With `side`, every weight lives in
 * one side file (one after another, as onnx's save_model with external data writes it).
 */
function buildModel(side?: { file: string; parts: Uint8Array[] }): Uint8Array {
  const T = onnxModelType();
  const nodes: Obj[] = [];
  const inits: Obj[] = [];
  let offset = 0;
  let prev = "x";
  for (let l = 0; l < LAYERS; l++) {
    const w = `layer${l}.weight`;
    const b = `layer${l}.bias`;
    for (const [name, dims] of [[w, [WIDTH, WIDTH]], [b, [WIDTH]]] as [string, number[]][]) {
      const data = weightBytes(dims.reduce((a, c) => a * c, 1), l * 2 + (name === b ? 1 : 0));
      if (side) {
        side.parts.push(data);
        inits.push({ name, dims, data_type: 1, data_location: 1, external_data: [{ key: "location", value: side.file }, { key: "offset", value: String(offset) }, { key: "length", value: String(data.length) }] });
        offset += data.length;
      } else inits.push({ name, dims, data_type: 1, raw_data: data });
    }
    nodes.push({ op_type: "Gemm", input: [prev, w, b], output: [`h${l}`], name: `/layer${l}/Gemm`, attribute: [{ name: "transB", type: 2, i: 1 }] });
    nodes.push({ op_type: "Relu", input: [`h${l}`], output: [`a${l}`], name: `/layer${l}/Relu` });
    prev = `a${l}`;
  }
  const vi = (name: string) => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_param: "N" }, { dim_value: WIDTH }] } } } });
  const graph = { name: "big_mlp", node: nodes, input: [vi("x")], output: [vi(prev)], initializer: inits };
  return T.encode(T.fromObject({ ir_version: 8, opset_import: [{ domain: "", version: 13 }], graph })).finish();
}

function measure(model: string): { ms: number; cpuMs: number; maxRssBytes: number; ok: boolean; parameters: number | null; diagnostics: string[] } {
  const child = join(dirname(fileURLToPath(import.meta.url)), "import-child.js");
  return JSON.parse(execFileSync(process.execPath, [child, model], { encoding: "utf8", timeout: 300_000, maxBuffer: 1 << 20 }));
}

export async function runImportBench(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), "par-import-bench-"));
  try {
    const inline = join(dir, "big.onnx");
    writeFileSync(inline, buildModel());
    const sideParts: Uint8Array[] = [];
    const externalModel = join(dir, "big-external.onnx");
    writeFileSync(externalModel, buildModel({ file: "big-external.bin", parts: sideParts }));
    writeFileSync(join(dir, "big-external.bin"), Buffer.concat(sideParts));
    sideParts.length = 0;
    const size = statSync(inline).size;
    const a = measure(inline);
    const b = measure(externalModel);
    const limitBytes = 2 * size + 500 * MB;
    const lines = [
      `model: ${LAYERS} Gemm layers of ${WIDTH}×${WIDTH}, ${(a.parameters ?? 0).toLocaleString("en-US")} parameters`,
      `weights in the file (${(size / MB).toFixed(0)} MB):  import ${(a.ms / 1000).toFixed(2)} s (${(a.cpuMs / 1000).toFixed(2)} s CPU; target ≤ 15 s), peak RSS ${(a.maxRssBytes / MB).toFixed(0)} MB (target ≤ 2 × file + 500 MB = ${(limitBytes / MB).toFixed(0)} MB)  ${a.ok && a.ms <= 15_000 && a.maxRssBytes <= limitBytes ? "ok" : "MISSED"}`,
      `weights as external data (${(statSync(externalModel).size / MB).toFixed(2)} MB proto + ${(statSync(join(dir, "big-external.bin")).size / MB).toFixed(0)} MB side file):  import ${(b.ms / 1000).toFixed(2)} s (${(b.cpuMs / 1000).toFixed(2)} s CPU), peak RSS ${(b.maxRssBytes / MB).toFixed(0)} MB  ${b.ok && b.parameters === a.parameters ? "ok" : "MISSED"}`,
    ];
    if (!a.ok || !b.ok) lines.push(`diagnostics: ${JSON.stringify([a.diagnostics, b.diagnostics])}`);
    return lines.join("\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
