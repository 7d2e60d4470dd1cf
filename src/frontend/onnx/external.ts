// External data (ONNX's format for weights beside the model, required past 2 GB): each
// tensor names a side file, an offset and a length. Here the side files are found and
// checked against what the tensors need, without reading them: the import reads the
// structure only, and values are read by offset when a command needs them
// (tensor-data.ts). A side file that is too short, or a location that leaves the model's
// folder, is an error now (PAR6008); a missing side file is a warning (PAR6007), since
// a structure-only import needs no weight bytes, and an error once values are read.

import { statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import type { Diagnostics } from "../../core/diagnostics.js";
import { DTYPE_BYTES, type OnnxModel, type OnnxTensor } from "./decode.js";
import { elementsOf } from "./tensor-data.js";

/** Every tensor of the model whose data is external (initializers and Constant attributes). */
function externalTensors(model: OnnxModel): OnnxTensor[] {
  const out = [...model.graph.initializers.values()].filter((t) => t.external);
  for (const n of model.graph.nodes) for (const a of n.attrs.values()) if (a.t?.external) out.push(a.t);
  return out;
}

/**
 * Resolves the side files of external tensors against `dir` (the model's folder; undefined
 * when the model came as bytes alone). Returns false after a PAR6008 error.
 */
export function resolveExternalData(model: OnnxModel, dir: string | undefined, file: string, d: Diagnostics): boolean {
  const tensors = externalTensors(model);
  if (!tensors.length) return true;
  const sizes = new Map<string, number | undefined>();
  const missing = new Map<string, string[]>();
  let ok = true;
  for (const t of tensors) {
    const ext = t.external!;
    const loc = ext.location;
    const full = dir === undefined ? undefined : resolve(dir, loc);
    const rel = full === undefined ? "" : relative(dir!, full);
    if (isAbsolute(loc) || rel.startsWith("..") || isAbsolute(rel)) {
      d.error("PAR6008", `${file}: tensor \`${t.name}\` keeps its data in \`${loc}\`, outside the model's folder`, { expected: "a side file location relative to the model's folder", hint: "external data is only read from beside the model" });
      ok = false;
      continue;
    }
    if (!sizes.has(loc)) {
      let size: number | undefined;
      try {
        const st = full === undefined ? undefined : statSync(full);
        size = st && st.isFile() ? st.size : undefined;
      } catch {
        size = undefined;
      }
      sizes.set(loc, size);
    }
    const size = sizes.get(loc);
    if (size === undefined) {
      missing.set(loc, [...(missing.get(loc) ?? []), t.name]);
      continue;
    }
    const need = elementsOf(t) * DTYPE_BYTES[t.dataType];
    if (ext.offset + need > size) {
      d.error("PAR6008", `${file}: tensor \`${t.name}\` needs bytes ${ext.offset} to ${ext.offset + need} of \`${loc}\`, which has ${size}`, {
        expected: `a side file of at least ${ext.offset + need} bytes`,
        hint: "the side file is truncated or belongs to another version of the model",
      });
      ok = false;
      continue;
    }
    ext.file = full;
  }
  for (const [loc, names] of missing) {
    d.warning("PAR6007", `${file}: ${names.length} tensor${names.length > 1 ? "s keep their" : " keeps its"} data in \`${loc}\`, which is missing: the structure imports, but commands that need the values (forward, compile, run, verify) will fail`, {
      expected: `${loc} beside the model (first tensor: ${names[0]})`,
    });
  }
  return ok;
}
