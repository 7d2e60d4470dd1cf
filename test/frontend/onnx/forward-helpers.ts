// A model file bound to arrays for its forward pass, as the pipeline's `forward` stage
// binds it, for tests that run the pass (forwardOf) on a backend of their choice.
import type { Diagnostics } from "../../../src/core/diagnostics.js";
import { prepareForward, type ForwardModel, type GivenArray } from "../../../src/frontend/forward-inputs.js";
import { loadModel } from "../../../src/frontend/load-model.js";

export function loadForForward(path: string, given: readonly GivenArray[], ctx: { sources: Map<string, string>; diagnostics: Diagnostics; cwd?: string }): ForwardModel | undefined {
  return prepareForward((bind) => loadModel(path, ctx, { bind }), given, ctx.diagnostics);
}
