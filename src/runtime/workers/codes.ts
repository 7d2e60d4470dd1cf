// Diagnostic codes of the multi-worker runtime (PAR5100–PAR5199): backends, shared-memory
// exchanges, device workers, faults and timeouts, and the run/verify/profile commands.
import type { CodeTable } from "../../core/codes.js";

export const WORKER_CODES: CodeTable = {
  PAR5100: { title: "the requested TensorFlow.js backend is not available" },
  PAR5101: { title: "an instruction failed on a device (the run was stopped)" },
  PAR5102: { title: "a device worker exited or crashed (the run was stopped)" },
  PAR5103: { title: "a device waited longer than --timeout for a message or all-reduce" },
  PAR5104: { title: "the worker script is missing (run `npm run build` first)" },
  PAR5105: { title: "a fault-injection option names a device or instruction the plan does not have" },
  PAR5106: { title: "a device worker did not start within the timeout" },
  PAR5110: { title: "the plan's results diverge from the single-device run beyond the tolerance" },
  PAR5111: { title: "the input is neither a .par file nor a par plan" },
  PAR5130: { title: "the background load for profiling under contention could not start" },
};
