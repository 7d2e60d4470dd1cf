// Stage partitioning by dynamic programming (Alpa's inter-op pass, Zheng et al. 2022, in
// its one-dimensional form): given a simulated pipeline, estimate each repeated block's
// time τ and what the first stage (the embedding) and the last (the head and the loss) add,
// then spread the L blocks over K stages so that the slowest stage is as fast as possible.
// The blocks-per-stage answer is a new candidate; the simulator decides whether it wins.

/** Blocks per stage minimising max_k(pre·[k = 0] + n_k·τ + post·[k = K − 1]), every n_k ≥ 1. */
export function balanceBlocks(blocks: number, stages: number, tau: number, pre: number, post: number): number[] | undefined {
  if (stages < 1 || blocks < stages || !(tau > 0)) return undefined;
  const extra = (k: number) => (k === 0 ? pre : 0) + (k === stages - 1 ? post : 0);
  // best[k][n]: the least possible slowest stage of the first k stages holding n blocks.
  const INF = Number.POSITIVE_INFINITY;
  const best: Float64Array[] = Array.from({ length: stages + 1 }, () => new Float64Array(blocks + 1).fill(INF));
  const choice: Int32Array[] = Array.from({ length: stages + 1 }, () => new Int32Array(blocks + 1));
  best[0][0] = 0;
  for (let k = 1; k <= stages; k++) {
    for (let n = k; n <= blocks - (stages - k); n++) {
      for (let m = 1; m <= n - (k - 1); m++) {
        const v = Math.max(best[k - 1][n - m], extra(k - 1) + m * tau);
        if (v < best[k][n] - 1e-15) {
          best[k][n] = v;
          choice[k][n] = m;
        }
      }
    }
  }
  const out: number[] = [];
  let n = blocks;
  for (let k = stages; k >= 1; k--) {
    out.unshift(choice[k][n]);
    n -= choice[k][n];
  }
  return out;
}

/**
 * τ, pre and post from a simulated pipeline: per stage its forward + backward time and its
 * block count; τ from the stages holding neither end, else from the two ends' difference.
 */
export function blockCosts(stageTimes: readonly number[], blocksPerStage: readonly number[]): { tau: number; pre: number; post: number } | undefined {
  const K = stageTimes.length;
  if (K < 2) return undefined;
  const middle: number[] = [];
  for (let k = 1; k < K - 1; k++) if (blocksPerStage[k] > 0) middle.push(stageTimes[k] / blocksPerStage[k]);
  middle.sort((a, b) => a - b);
  const tau = middle.length ? middle[Math.floor(middle.length / 2)] : Math.min(stageTimes[0] / blocksPerStage[0], stageTimes[K - 1] / blocksPerStage[K - 1]);
  if (!(tau > 0)) return undefined;
  return { tau, pre: Math.max(0, stageTimes[0] - blocksPerStage[0] * tau), post: Math.max(0, stageTimes[K - 1] - blocksPerStage[K - 1] * tau) };
}
