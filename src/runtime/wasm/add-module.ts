// The bytes of a tiny WebAssembly module (SIMD) that adds and copies float32 arrays 16
// bytes (four lanes) at a time, encoded by hand so that no toolchain or npm dependency is
// needed. Its text form:
//
//   (module
//     (import "env" "mem" (memory 0))          ;; or, shared: (memory 0 65536 shared)
//     (func (export "add") (param $dst i32) (param $a i32) (param $b i32) (param $bytes i32)
//       (local $i i32)
//       (block $done
//         (loop $next
//           (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
//           (v128.store (i32.add (local.get $dst) (local.get $i))
//             (f32x4.add (v128.load (i32.add (local.get $a) (local.get $i)))
//                        (v128.load (i32.add (local.get $b) (local.get $i)))))
//           (local.set $i (i32.add (local.get $i) (i32.const 16)))
//           (br $next))))
//     (func (export "copy") (param $dst i32) (param $src i32) (param $bytes i32)
//       (local $i i32)
//       ... the same loop: (v128.store (dst + i) (v128.load (src + i))) ...))
//
// add(dst, a, b, bytes) writes a + b (a the LEFT operand) over `bytes` (a multiple of 16)
// of memory; copy(dst, src, bytes) copies. f32x4.add is IEEE-754 single-precision
// addition in each lane, round to nearest even, no flush of subnormals: the same bits as
// a JS `Math.fround(a + b)` (except which NaN comes out of a NaN input). The memory is
// imported: a private one (f32-add.ts) or the runtime's shared arena (shm-arena.ts), where
// plain wasm loads and stores reach every device's buffers at memory speed.

/** The module's memory import: a private memory, or a shared one (any size up to 4 GiB). */
export type MemoryImport = "private" | "shared";

const I32 = 0x7f;
const V128_LOAD = [0xfd, 0x00, 0x04, 0x00]; // v128.load align=2^4 offset=0 (a hint: unaligned loads do not trap)
const V128_STORE = [0xfd, 0x0b, 0x04, 0x00]; // v128.store align=2^4 offset=0
const F32X4_ADD = [0xfd, 0xe4, 0x01]; // SIMD opcode 228 as LEB128

/** Unsigned LEB128. */
function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function vec(items: number[][]): number[] {
  return [...leb(items.length), ...items.flat()];
}

function section(id: number, contents: number[]): number[] {
  return [id, ...leb(contents.length), ...contents];
}

const name = (s: string) => [...leb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/**
 * A function body: one i32 local ($i, index `i` after the params), then
 *   block; loop; br_if 1 (i ≥ bytes); <step>; i += 16; br 0; end; end; end
 * where `step` reads `local.get p; local.get i; i32.add` as the address of param p.
 */
function loopBody(i: number, bytesParam: number, step: (addr: (p: number) => number[]) => number[]): number[] {
  const get = (x: number) => [0x20, x]; // local.get
  const addr = (p: number) => [...get(p), ...get(i), 0x6a]; // (i32.add (local.get p) (local.get $i))
  const code = [
    0x02, 0x40, // block (no result)
    0x03, 0x40, // loop (no result)
    ...get(i), ...get(bytesParam), 0x4f, // i32.ge_u
    0x0d, 0x01, // br_if 1: out of the block
    ...step(addr),
    ...get(i), 0x41, 0x10, 0x6a, 0x21, i, // local.set $i (i32.add (local.get $i) (i32.const 16))
    0x0c, 0x00, // br 0: to the loop's start
    0x0b, // end loop
    0x0b, // end block
    0x0b, // end function
  ];
  const locals = vec([[0x01, I32]]); // one group: 1 × i32
  return [...leb(locals.length + code.length), ...locals, ...code];
}

/** add: params dst=0 a=1 b=2 bytes=3, local $i=4. */
const ADD = loopBody(4, 3, (addr) => [...addr(0), ...addr(1), ...V128_LOAD, ...addr(2), ...V128_LOAD, ...F32X4_ADD, ...V128_STORE]);
/** copy: params dst=0 src=1 bytes=2, local $i=3. */
const COPY = loopBody(3, 2, (addr) => [...addr(0), ...addr(1), ...V128_LOAD, ...V128_STORE]);

/** The module, importing its memory as `env.mem`. */
export function addModuleBytes(memory: MemoryImport): Uint8Array {
  // Memory limits: flag 0 = min only (0 pages); flag 3 = shared, with min 0 and max 65536 pages (4 GiB),
  // which any shared memory satisfies (an import's max must be at least the memory's).
  const limits = memory === "shared" ? [0x03, 0x00, ...leb(65536)] : [0x00, 0x00];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, // magic "\0asm"
    0x01, 0x00, 0x00, 0x00, // version 1
    // Type section (1): type 0 = func (i32 i32 i32 i32) → (), type 1 = func (i32 i32 i32) → ().
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32]]), 0x00], [0x60, ...vec([[I32], [I32], [I32]]), 0x00]])),
    // Import section (2): "env" "mem", kind 2 (memory), with its limits.
    ...section(2, vec([[...name("env"), ...name("mem"), 0x02, ...limits]])),
    // Function section (3): function 0 of type 0 (add), function 1 of type 1 (copy).
    ...section(3, vec([[0x00], [0x01]])),
    // Export section (7): "add" = function 0, "copy" = function 1 (kind 0 = function).
    ...section(7, vec([[...name("add"), 0x00, 0x00], [...name("copy"), 0x00, 0x01]])),
    // Code section (10): the two bodies, each prefixed by its size.
    ...section(10, vec([ADD, COPY])),
  ]);
}
