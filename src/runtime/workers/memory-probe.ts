// The measurement hook of `npm run bench -- memory` (docs/memory.md): with PAR_MEMORY_OUT=DIR
// set, each device worker records its memory and writes DIR/tfjs-device-<d>.json after every
// step. Off (nothing sampled) without the variable.
//
// What a worker holds: typed arrays (the plan's buffers, cached batches, messages: this
// isolate's `arrayBuffers`, sampled after every instruction), its JS heap, and on the wasm
// backend the kernels' wasm heap, which only grows, so its size at the end is its peak.

import { writeFileSync } from "node:fs";
import { join } from "node:path";

interface Sample {
  arrayBuffers: number;
  heapUsed: number;
}

function sample(): Sample {
  const m = process.memoryUsage();
  return { arrayBuffers: m.arrayBuffers, heapUsed: m.heapUsed };
}

/** The wasm heap's size when the backend is wasm (tfjs-backend-wasm's emscripten module), else 0. */
function wasmHeapBytes(tf: unknown): number {
  const backend = (tf as { backend(): { wasm?: { HEAPU8?: Uint8Array } } }).backend();
  return backend.wasm?.HEAPU8?.length ?? 0;
}

export class WorkerMemoryProbe {
  private readonly baseline: Sample;
  private readonly baselineHeap: number;
  private peak: Sample;

  private constructor(
    private readonly dir: string,
    private readonly device: number,
    private readonly tf: unknown,
  ) {
    this.baseline = sample();
    this.baselineHeap = wasmHeapBytes(tf);
    this.peak = { ...this.baseline };
  }

  /** A probe when PAR_MEMORY_OUT is set; call before the device's buffers exist (its baseline). */
  static start(device: number, tf: unknown): WorkerMemoryProbe | undefined {
    const dir = process.env.PAR_MEMORY_OUT;
    return dir ? new WorkerMemoryProbe(dir, device, tf) : undefined;
  }

  sample(): void {
    const s = sample();
    if (s.arrayBuffers > this.peak.arrayBuffers) this.peak.arrayBuffers = s.arrayBuffers;
    if (s.heapUsed > this.peak.heapUsed) this.peak.heapUsed = s.heapUsed;
  }

  write(backend: string): void {
    const rec = {
      engine: "tfjs",
      backend,
      device: this.device,
      baselineArrayBuffersBytes: this.baseline.arrayBuffers,
      baselineHeapUsedBytes: this.baseline.heapUsed,
      baselineWasmHeapBytes: this.baselineHeap,
      peakArrayBuffersBytes: this.peak.arrayBuffers,
      peakHeapUsedBytes: this.peak.heapUsed,
      wasmHeapBytes: wasmHeapBytes(this.tf),
    };
    writeFileSync(join(this.dir, `tfjs-device-${this.device}.json`), JSON.stringify(rec) + "\n");
  }
}
