// Search a strategy for the shipped MLP on FlexFlow's 16-GPU mesh, then lower it to a plan.
import { builtinMesh, compile, createContext, load, search } from "par";

const ctx = createContext();
const model = load("models/mlp.par", ctx, { overrides: { batch: 64, hidden: 256 } });
const mesh = builtinMesh("p100x16");
const found = search(model.graph, mesh, ctx, { budget: { iterations: 300 }, seed: 1 });
const plan = compile(model.graph, mesh, found.best.strategy, ctx);
const ms = (s) => `${(s * 1e3).toFixed(3)} ms`;
console.log(`${model.graph.name} on ${mesh.name}: ${ms(found.best.iterationTime)} (data parallel ${ms(found.baselines.dataParallel.iterationTime)}), plan for ${plan.programs.length} devices`);
