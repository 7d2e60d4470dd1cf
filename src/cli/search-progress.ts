// The progress line of a search (`par search`, `compile --search`, `run`/`verify`/`profile`
// of a model without --strategy, `auto`): its phases as the search reports them, and while
// it searches, iterations against the budget (a bar and an estimate for an iteration
// budget, the time left for a duration) with the best iteration time so far.

import type { Budget } from "../search/budget.js";
import type { SearchProgress } from "../search/mcmc.js";
import type { SearchPhase } from "../search/search.js";
import type { Progress } from "./progress.js";

export interface SearchCallbacks {
  onPhase: (p: SearchPhase) => void;
  onProgress: (p: SearchProgress) => void;
}

export function searchProgress(progress: Progress, budget: Budget): SearchCallbacks {
  let current = "";
  const enter = (name: string, label: string, total?: number, unit?: string) => {
    if (current === name) return;
    current = name;
    progress.phase(label, total, unit);
  };
  return {
    onPhase(p) {
      switch (p.phase) {
        case "preparing":
          return enter("preparing", "search: preparing the baselines and seeds");
        case "seeds":
          enter("seeds", "search: pricing the seeds", p.total, "seeds");
          return progress.update(p.done);
        case "searching":
          return "iterations" in budget ? enter("searching", "search", budget.iterations, "it") : enter("searching", "search", undefined, "it");
        case "enumerating":
          return enter("enumerating", `search: enumerating all ${p.strategies} strategies`);
        case "baselines":
          enter("baselines", "search: pricing the baselines", p.total);
          return progress.update(p.done);
      }
    },
    onProgress(p) {
      const best = `best ${(p.bestIterationTime * 1e3).toFixed(3)} ms${p.bestFeasible ? "" : " (over memory)"}, ${p.iterationsPerSecond.toFixed(0)} it/s`;
      const left = "seconds" in budget ? `, ~${Math.max(0, budget.seconds - p.elapsedSeconds).toFixed(1)} s left` : "";
      progress.update(p.iterations, best + left);
    },
  };
}
