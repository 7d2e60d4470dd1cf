// The few WebAssembly APIs the runtime's SIMD module needs (the project's TypeScript libs
// do not declare WebAssembly), and instantiating that module (wasm-add-module.ts).

import { addModuleBytes, type MemoryImport } from "./add-module.js";

export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

export interface AddExports {
  /** dst = a + b over `bytes` (a multiple of 16) of memory, four lanes at a time. */
  add(dst: number, a: number, b: number, bytes: number): void;
  /** dst = src over `bytes` (a multiple of 16). */
  copy(dst: number, src: number, bytes: number): void;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}

function api(): WasmApi | undefined {
  return (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
}

/** A new memory of `pages` 64 KiB pages (fixed size when shared), or undefined without WebAssembly. */
export function newMemory(pages: number, shared: boolean): WasmMemory | undefined {
  const wasm = api();
  if (!wasm) return undefined;
  return new wasm.Memory(shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
}

/** The add module on `memory`, or undefined where WebAssembly SIMD (or shared memory) is unavailable. */
export function instantiateAdd(kind: MemoryImport, memory: WasmMemory): AddExports | undefined {
  const wasm = api();
  const bytes = addModuleBytes(kind);
  try {
    if (!wasm || !wasm.validate(bytes)) return undefined;
    return new wasm.Instance(new wasm.Module(bytes), { env: { mem: memory } }).exports as AddExports;
  } catch {
    return undefined;
  }
}
