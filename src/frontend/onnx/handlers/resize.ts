// Resize: nearest and (bi/tri)linear resizing of the spatial axes of [N, C, spatial...].
// The output sizes come from the `sizes` input, or from `scales` (⌊in·scale⌋, the scale
// itself then driving the coordinate transformation, as ONNX specifies).

import type { Attrs } from "../../../ops/contract.js";
import type { HandlerTable, OnnxOpHandler } from "../context.js";
import { Unmappable } from "../errors.js";

const COORDINATES = new Set(["half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric"]);
const NEAREST_MODES = new Set(["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]);
const MODES: Readonly<Record<string, string>> = { nearest: "nearest", linear: "linear" };

const resize: OnnxOpHandler = (cx) => {
  const x = cx.tensorIn(0, "X");
  const shape = cx.shape(x);
  const rank = shape.length;
  const mode = MODES[cx.attr.string("mode", "nearest")];
  if (!mode) throw new Unmappable("PAR6016", `Resize mode ${cx.attr.string("mode", "nearest")} (par resizes nearest or linear)`);
  const coordinate = cx.attr.string("coordinate_transformation_mode", "half_pixel");
  if (!COORDINATES.has(coordinate)) throw new Unmappable("PAR6016", `Resize coordinate_transformation_mode ${coordinate} (par has ${[...COORDINATES].join(", ")})`);
  const nearest = cx.attr.string("nearest_mode", "round_prefer_floor");
  if (!NEAREST_MODES.has(nearest)) throw new Unmappable("PAR6016", `Resize nearest_mode ${JSON.stringify(nearest)}`, `ONNX's nearest modes are ${[...NEAREST_MODES].join(", ")}`);
  if (rank < 3 || rank > 5) throw new Unmappable("PAR6016", `Resize of a rank-${rank} tensor (par resizes the spatial axes of [N, C, spatial...] with 1 to 3 of them)`);
  // scales and sizes are inputs 2 and 3 (an empty tensor stands for "not given").
  const scales = cx.constIn(2, "scales")?.data;
  const sizes = cx.constIn(3, "sizes")?.data;
  let out: number[];
  const attrs: Attrs = { mode, coordinate, nearest_mode: nearest };
  if (sizes && sizes.length > 0) {
    if (sizes.length !== rank) throw new Unmappable("PAR6016", `Resize sizes [${sizes.join(", ")}] for a rank-${rank} input`);
    out = [...sizes];
  } else if (scales && scales.length > 0) {
    if (scales.length !== rank) throw new Unmappable("PAR6016", `Resize scales [${scales.join(", ")}] for a rank-${rank} input`);
    out = shape.map((v, a) => Math.floor(v * scales[a]));
    attrs.scale = scales.slice(2);
  } else {
    throw new Unmappable("PAR6017", "Resize needs constant scales or sizes");
  }
  if (out[0] !== shape[0] || out[1] !== shape[1]) throw new Unmappable("PAR6016", `Resize of the batch or channel axis ([${shape.join(", ")}] → [${out.join(", ")}]; par resizes spatial axes only)`);
  attrs.size = out.slice(2);
  return cx.out(cx.emit("resize", attrs, [x]));
};

export const RESIZE_HANDLERS: HandlerTable = {
  Resize: { map: resize, par: "`resize` (nearest or linear; half_pixel, pytorch_half_pixel, align_corners, asymmetric; constant scales or sizes over the spatial axes); cubic and tf_crop_and_resize are PAR6016" },
};
