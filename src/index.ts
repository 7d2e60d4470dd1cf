// par as a library: the public API, re-exported from the modules that own each piece
// (docs/api.md). Nothing is composed here: the road (load → search → compile → execute →
// verify) is src/pipeline.ts, which the `par` command calls too. Everything else under
// src/ is internal and may change without notice.

// ------------------------------------------------------------------ the pipeline's stages

export {
  /** A fresh PipelineContext: an empty diagnostics sink, no sources read, no timings. */
  createContext,
  /** Loads a model: a `.par` file (parse + check), an ONNX model or a Keras model.json → LoadedModel. */
  load,
  /** Reads a plan .json (validated) and rebuilds the model graph it was lowered from. */
  loadPlan,
  /** Searches the SOAP space of (Graph, Mesh) for the fastest strategy that fits in memory. */
  search,
  /** Simulates one training iteration of (Graph, Mesh, Strategy): timeline, peak memory, costs. */
  simulate,
  /** Simulates one step of a large-scale strategy (replicas, pipeline, ZeRO, recomputation, precision) hierarchically, with memory per device. */
  simulateAtScale,
  /** Searches tensor × pipeline × data parallelism, micro-batches, schedules, ZeRO and recomputation on a large mesh. */
  searchScale,
  /** Validates a strategy and lowers it to an executable, sharded Plan. */
  compile,
  /** The single-device Plan of the same model, seed, optimizer and weights, to verify against. */
  reference,
  /** The engine that runs plans: "tfjs" (worker threads), "torch" (one PyTorch process per device) or "auto" (torch when importable). */
  selectEngine,
  /** Trains a Plan for some steps, one worker thread (tfjs) or torch rank per device of this machine. */
  execute,
  /** Runs a Plan and its reference on one engine on the same data and compares losses, gradients and weights. */
  verify,
  /** `verify` on two engines, and the second engine's run of the plan against the first's. */
  verifyAcrossEngines,
  /** Measures every distinct task of a Plan on this machine: a measured-cost table for `simulate`. */
  profile,
  /** Writes a Plan as a self-contained torch.distributed job directory (torchrun / SLURM). */
  exportJob,
  /** The whole road: load → search → compile → execute → verify. */
  autoParallelize,
  /** The optimizer a Plan uses when none is given: SGD with learning rate 0.01. */
  DEFAULT_OPTIMIZER,
} from "./pipeline.js";
export type {
  /** Diagnostics, sources and per-stage timings of one run; no stage prints. */
  PipelineContext,
  /** The name of a stage, as it appears in PipelineContext.timings. */
  Stage,
  /** Options of `search`: budget, seed, optimizer, progress callback. */
  SearchStageOptions,
  /** Options of `simulate`: optimizer and measured-cost tables. */
  SimulateStageOptions,
  /** What `simulate` returns. */
  Simulation,
  /** What `simulateAtScale` returns: the plan of stages, the timeline, memory per device, step time and FLOP/s. */
  ScaleEvaluation,
  /** Options of `searchScale`: budget, optimizer, precision, measured costs, seeds, rebuild, progress. */
  ScaleSearchOptions,
  /** What `searchScale` returns: the best configuration, the baselines, iterations, seconds. */
  ScaleSearchResult,
  /** Options of `compile`: seed, optimizer and an imported model's weights. */
  CompileOptions,
  /** Options of `execute`: steps, backend, timeouts, a per-step callback. */
  ExecuteOptions,
  /** Options of `verify`: steps, tolerance, backend. */
  VerifyStageOptions,
  /** What `verify` returns: the comparison and the backend it ran on. */
  Verification,
  /** Options of `profile`: backend, in-run or under load, warm-up and repeats. */
  ProfileStageOptions,
  /** "auto", "tfjs" or "torch". */
  EngineRequest,
  /** The tfjs backend, the torch device and data directory `selectEngine` builds the engine with. */
  EngineOptions,
  /** What `selectEngine` returns: the engine and, in one line, why. */
  EngineSelection,
  /** What `verifyAcrossEngines` returns. */
  CrossEngineVerification,
  /** Options of `autoParallelize`. */
  AutoOptions,
  /** What `autoParallelize` returns, stage by stage. */
  PipelineResult,
} from "./pipeline.js";

// ------------------------------------------------------------------ models and their text

export {
  /** Loads a model like `load`, but reports into a Diagnostics sink instead of throwing. */
  loadModel,
} from "./frontend/load-model.js";
export type {
  /** A loaded model: its Graph, and an imported model's weights or a .par file's checked program. */
  LoadedModel,
  /** Which model of a .par file and its parameters, or an imported model's input shapes, batch and loss. */
  LoadModelOptions,
  /** "par", "onnx", "keras" or "llm" (a Hugging Face config.json). */
  ModelFormat,
} from "./frontend/load-model.js";
export {
  /** Parses `.par` text into a Program (the AST); syntax errors go to the diagnostics. */
  parse,
} from "./frontend/parse.js";
export {
  /** Checks a parsed Program: its models as Graphs, its meshes and strategies. */
  check,
} from "./frontend/check.js";
export type {
  /** What `check` returns. */
  CheckedProgram,
} from "./frontend/check.js";
export {
  /** Imports: an imported model's Graph printed as a readable `.par` model that checks back to the same graph. */
  graphToPar,
} from "./frontend/import-to-par.js";
export {
  /** A Strategy as a `.par` strategy block. */
  strategyToPar,
} from "./frontend/strategy-par.js";
export type {
  /** The dataflow graph of one model: ops, tensors, parameters. */
  Graph,
  /** One op instance of a Graph. */
  OpNode,
} from "./ir/graph.js";

// ------------------------------------------------------------------ meshes

export {
  /** The built-in mesh called `name` (`local`, `p100x16`, ...), or undefined. */
  builtinMesh,
  /** The names of the built-in meshes. */
  builtinMeshNames,
} from "./core/builtin-meshes.js";
export type {
  /** A device mesh: devices, their groups and the links between them. */
  Mesh,
} from "./core/mesh.js";

// ------------------------------------------------------------------ strategies

export {
  /** A hand-made strategy: data parallel, model parallel, FlexFlow's expert or Megatron-LM. */
  baseline,
  /** The baselines `baseline` knows: dp, mp, expert, megatron. */
  BASELINE_KINDS,
} from "./ir/baselines.js";
export type {
  /** The name of a baseline. */
  BaselineKind,
} from "./ir/baselines.js";
export {
  /** Reads a strategy .json for a graph (validated against the strategy schema). */
  readStrategyFile,
  /** A strategy as JSON text (the format `readStrategyFile` reads). */
  strategyJsonText,
} from "./ir/strategy-json.js";
export type {
  /** Per-op SOAP configs: split degrees and device placement of every op. */
  Strategy,
  /** One op's config: a degree per parallel dim and a device per task. */
  OpConfig,
} from "./ir/strategy.js";
export {
  /** The search budget when none is given (4000 iterations: deterministic). */
  DEFAULT_BUDGET,
  /** Parses `20000` (iterations), `500ms`, `10s` or `2m` into a Budget; undefined when malformed. */
  parseBudget,
  /** Like `parseBudget`, but the default for undefined and a ParError (PAR7002) for malformed text. */
  readBudget,
} from "./search/budget.js";
export type {
  /** How long a search runs: `{ iterations }` (deterministic) or `{ seconds }` (wall clock). */
  Budget,
} from "./search/budget.js";
export type {
  /** What `search` returns: the best strategy, the baselines it beat, how the search went. */
  SearchResult,
} from "./search/search.js";
export type {
  /** A simulated iteration: every task's device, start and end; the iteration time. */
  Timeline,
} from "./sim/simulate.js";

// ------------------------------------------------------------------ plans

export {
  /** Writes a Plan as JSON, atomically. */
  writePlan,
  /** A Plan as JSON text. */
  planText,
} from "./plan/io.js";
export type {
  /** The sharded, executable program of every device: the contract between compiler and runtime. */
  Plan,
  /** The optimizer a Plan trains with (sgd, momentum or adam, and its rates). */
  OptimizerConfig,
} from "./plan/plan.js";
export type {
  /** What `execute` returns: losses, step times, the backend, the measured timeline. */
  WorkerRunResult,
} from "./runtime/workers/run-workers.js";
export type {
  /** What runs a Plan (the tfjs runtime, the torch engine): `run`, `train`, `session`. */
  Engine,
  /** "tfjs" or "torch". */
  EngineName,
} from "./plan/engine.js";
export type {
  /** Options of `exportJob`: default steps and device, nodes, force. */
  TorchExportOptions,
} from "./engines/torch/export.js";

// ------------------------------------------------------------------ reports

export {
  /** The report of a model under a strategy on a mesh (or of a plan's graph): simulated timeline, memory, communication, comparison with data parallelism. */
  buildReport,
} from "./report/report-data.js";
export type {
  /** What `buildReport` reads: the graph, its source, and the mesh, strategy and optimizer where known. */
  ReportInput,
  /** What `buildReport` returns, and `reportHtml` draws. */
  ReportData,
} from "./report/report-data.js";
export {
  /** A report as one self-contained HTML page (docs/report.md), as `par report` writes it. */
  reportHtml,
} from "./report/html.js";

// ------------------------------------------------------------------ operators and diagnostics

export {
  /** The registered op names. */
  opNames,
  /** The entry (contract) of an op, or undefined. */
  getOp,
} from "./ops/registry.js";
export type {
  /** An operator's declarative entry (docs/ops.md). */
  OpEntry,
} from "./ops/contract.js";
export {
  /** A collecting sink of coded diagnostics. */
  Diagnostics,
  /** What a failing stage throws: its coded diagnostics. */
  ParError,
  /** A diagnostic as text: position, code, message, source excerpt, expected, hint. */
  formatDiagnostic,
} from "./core/diagnostics.js";
export type {
  /** One coded message (`PARxxxx`) with its position, what was expected and a hint. */
  Diagnostic,
} from "./core/diagnostics.js";
