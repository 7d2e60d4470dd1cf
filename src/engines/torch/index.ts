// The torch.distributed engine: runs par Plans with PyTorch (python/par_torch), one process
// per plan device, on CPU (Gloo) or CUDA (NCCL). docs/engines.md.
export { TORCH_CODES, INSTALL_HINT } from "./codes.js";
export { findTorchPython, packageRoot, pythonEnv, type TorchPython } from "./python.js";
export { runPlanTorch, signedPlan, type TorchDevice, type TorchRunOptions, type TorchRunOutput } from "./run.js";
export type { TorchMeasuredStep, TorchRunResult, TorchTimeline } from "./result.js";
export { readDump, type DumpedTensors } from "./dump.js";
export { TorchServer, type TorchJobOptions, type TorchServerOptions } from "./server.js";
export { exportTorchJob, type TorchExport, type TorchExportOptions } from "./export.js";
export { profilePlanTorch, type TorchCostEntry, type TorchCostTable, type TorchProfileOptions } from "./profile.js";
export { compareTorchRuns, verifyPlanTorch, verificationError, type TorchVerifyOptions, type TorchVerifyResult } from "./verify.js";
export { torchEngine, type TorchEngine, type TorchEngineOptions } from "./engine.js";
