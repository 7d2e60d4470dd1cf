// The `local` mesh's devices: each an equal share of this machine's RAM, at most the wasm
// heap when the local runtime's default backend is wasm (issue 20, row 9).
import { totalmem } from "node:os";
import { describe, expect, it } from "vitest";
import { builtinMesh, localMeshOf } from "../../src/core/builtin-meshes.js";
import { localDeviceMemoryBytes, nativeTfjsInstalled, ramShareBytes, WASM_HEAP_MAX_BYTES } from "../../src/core/local-memory.js";

describe("local device memory", () => {
  it("is this machine's RAM shared by the devices, capped by the wasm heap without a native binding", () => {
    expect(ramShareBytes(4)).toBe(Math.floor(totalmem() / 4));
    const cap = nativeTfjsInstalled() ? Infinity : WASM_HEAP_MAX_BYTES;
    for (const n of [1, 2, 8]) expect(localDeviceMemoryBytes(n)).toBe(Math.min(ramShareBytes(n), cap));
  });

  it("is what the local mesh's devices have, each its own spec", () => {
    const mesh = localMeshOf(3);
    for (const d of mesh.devices) expect(d.spec.memoryBytes).toBe(localDeviceMemoryBytes(3));
    mesh.devices[0].spec.memoryBytes = 1;
    expect(mesh.devices[1].spec.memoryBytes).toBe(localDeviceMemoryBytes(3));
    expect(builtinMesh("local")!.source).toMatch(/share of this machine's RAM/);
  });
});
