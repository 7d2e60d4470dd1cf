// Optimizers on flat f32 buffers (one weight shard, its gradient, its state). Element-wise
// and deterministic, so replicas of a shard that apply the same update to the same values
// stay bit-identical. Formulas follow torch.optim (SGD with momentum without dampening;
// Adam with bias correction and epsilon outside the square root).

import type { OptimizerConfig } from "../../plan/plan.js";

export interface OptimizerState {
  m?: Float32Array;
  v?: Float32Array;
}

/** Applies one step (`step` is 0-based; Adam's bias correction uses step + 1). */
export function applyUpdate(cfg: OptimizerConfig, param: Float32Array, grad: Float32Array, state: OptimizerState, step: number): void {
  const lr = cfg.learningRate;
  const n = param.length;
  if (grad.length !== n) throw new Error(`optimizer: gradient has ${grad.length} elements, weight ${n}`);
  switch (cfg.kind) {
    case "sgd":
      for (let i = 0; i < n; i++) param[i] -= lr * grad[i];
      return;
    case "momentum": {
      const mu = cfg.momentum ?? 0.9;
      const m = state.m;
      if (!m) throw new Error("optimizer: momentum needs an `m` buffer");
      for (let i = 0; i < n; i++) {
        m[i] = mu * m[i] + grad[i];
        param[i] -= lr * m[i];
      }
      return;
    }
    case "adam": {
      const b1 = cfg.beta1 ?? 0.9;
      const b2 = cfg.beta2 ?? 0.999;
      const eps = cfg.epsilon ?? 1e-8;
      const { m, v } = state;
      if (!m || !v) throw new Error("optimizer: adam needs `m` and `v` buffers");
      const c1 = 1 - Math.pow(b1, step + 1);
      const c2 = 1 - Math.pow(b2, step + 1);
      for (let i = 0; i < n; i++) {
        const g = grad[i];
        m[i] = b1 * m[i] + (1 - b1) * g;
        v[i] = b2 * v[i] + (1 - b2) * g * g;
        param[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + eps);
      }
      return;
    }
  }
}
