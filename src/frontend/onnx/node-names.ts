// Readable par op names from ONNX node names. torch exports name nodes by module path
// ("/layer1/layer1.0/conv1/Conv"); the par op that holds the module's weights takes the
// module's name ("layer1.0.conv1"), any other op adds its ONNX op ("layer1.0_relu"), so
// the printed .par reads like the torch module tree.

import type { OnnxNode } from "./decode.js";

export function nodeBase(n: OnnxNode, ownsWeights: boolean): string {
  if (!n.name.includes("/")) return n.name || n.outputs[0] || n.opType;
  const segs = n.name.split("/").filter(Boolean);
  const last = segs.pop() ?? n.opType;
  let q = "";
  for (const s of segs) q = q && s.startsWith(`${q}.`) ? s : q ? `${q}.${s}` : s;
  if (!q) return last.toLowerCase();
  return ownsWeights ? q : `${q}_${last.toLowerCase()}`;
}
