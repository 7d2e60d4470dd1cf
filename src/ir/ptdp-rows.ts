// The GPT configurations of Narayanan et al., "Efficient Large-Scale Language Model
// Training on GPU Clusters Using Megatron-LM" (SC'21), Table 1 (weak scaling on Selene,
// A100-80GB, mixed precision), with Megatron-LM's published run settings for each row
// (examples/sc21/run_table_1.sh of NVIDIA/Megatron-LM: TP, PP, MBS, GBS, virtual
// pipeline stages, full "uniform" activation recomputation on every row, PyTorch DDP on
// the rows without a pipeline and Megatron's local DDP otherwise). models/gpt3.par takes
// `--set` values from `layers`, `hidden`, `heads`, `batch`; strategies/megatron-gpt3-*.json
// are these settings as par strategies (src/ir/megatron.ts), and `npm run bench -- scale`
// compares them with par's search.

export interface PtdpRow {
  /** The paper's label ("1.7B" ... "1T"). */
  name: string;
  /** Billions of parameters, as the paper counts them. */
  billions: number;
  heads: number;
  hidden: number;
  layers: number;
  /** GPUs of the run. */
  gpus: number;
  /** Global batch size (sequences of 2048 tokens). */
  batch: number;
  tensor: number;
  pipeline: number;
  microbatchSize: number;
  /** Virtual pipeline stages per device group (interleaved schedule); 1: plain 1F1B. */
  virtual: number;
  /** Gradient all-reduce overlapped with backward (torch DDP) or after it (Megatron's local DDP). */
  ddp: "torch" | "local";
  /** Measured model FLOP/s per GPU (teraFLOP/s, recomputation included as the paper counts) and % of the 312 TFLOP/s peak. */
  teraflops: number;
  percentOfPeak: number;
}

export const PTDP_ROWS: readonly PtdpRow[] = [
  { name: "1.7B", billions: 1.7, heads: 24, hidden: 2304, layers: 24, gpus: 32, batch: 512, tensor: 1, pipeline: 1, microbatchSize: 16, virtual: 1, ddp: "torch", teraflops: 137, percentOfPeak: 44 },
  { name: "3.6B", billions: 3.6, heads: 32, hidden: 3072, layers: 30, gpus: 64, batch: 512, tensor: 2, pipeline: 1, microbatchSize: 16, virtual: 1, ddp: "torch", teraflops: 138, percentOfPeak: 44 },
  { name: "7.5B", billions: 7.5, heads: 32, hidden: 4096, layers: 36, gpus: 128, batch: 512, tensor: 4, pipeline: 1, microbatchSize: 16, virtual: 1, ddp: "torch", teraflops: 142, percentOfPeak: 46 },
  { name: "18B", billions: 18.4, heads: 48, hidden: 6144, layers: 40, gpus: 256, batch: 1024, tensor: 8, pipeline: 1, microbatchSize: 8, virtual: 1, ddp: "torch", teraflops: 135, percentOfPeak: 43 },
  { name: "39B", billions: 39.1, heads: 64, hidden: 8192, layers: 48, gpus: 512, batch: 1536, tensor: 8, pipeline: 2, microbatchSize: 4, virtual: 1, ddp: "local", teraflops: 138, percentOfPeak: 44 },
  { name: "76B", billions: 76.1, heads: 80, hidden: 10240, layers: 60, gpus: 1024, batch: 1792, tensor: 8, pipeline: 4, microbatchSize: 2, virtual: 3, ddp: "local", teraflops: 140, percentOfPeak: 45 },
  { name: "145B", billions: 145.6, heads: 96, hidden: 12288, layers: 80, gpus: 1536, batch: 2304, tensor: 8, pipeline: 8, microbatchSize: 2, virtual: 2, ddp: "local", teraflops: 148, percentOfPeak: 47 },
  { name: "310B", billions: 310.1, heads: 128, hidden: 16384, layers: 96, gpus: 1920, batch: 2160, tensor: 8, pipeline: 16, microbatchSize: 1, virtual: 2, ddp: "local", teraflops: 155, percentOfPeak: 50 },
  { name: "530B", billions: 529.6, heads: 128, hidden: 20480, layers: 105, gpus: 2520, batch: 2520, tensor: 8, pipeline: 35, microbatchSize: 1, virtual: 3, ddp: "local", teraflops: 163, percentOfPeak: 52 },
  { name: "1T", billions: 1008.0, heads: 160, hidden: 25600, layers: 128, gpus: 3072, batch: 3072, tensor: 8, pipeline: 64, microbatchSize: 1, virtual: 1, ddp: "local", teraflops: 163, percentOfPeak: 52 },
];

/** The row's data-parallel size d = GPUs / (t·p). */
export function rowData(r: PtdpRow): number {
  return r.gpus / (r.tensor * r.pipeline);
}

/** `--set` overrides of models/gpt3.par for the row. */
export function rowOverrides(r: PtdpRow): Record<string, number> {
  return { layers: r.layers, hidden: r.hidden, heads: r.heads, batch: r.batch };
}

/**
 * FLOPs of one step as the paper counts them (§5.1, with full recomputation: one extra
 * forward): 96·B·s·l·h²·(1 + s/(6h) + V/(16·l·h)).
 */
export function paperStepFlops(r: PtdpRow, seq = 2048, vocab = 51200): number {
  const { batch: B, layers: l, hidden: h } = r;
  return 96 * B * seq * l * h * h * (1 + seq / (6 * h) + vocab / (16 * l * h));
}
