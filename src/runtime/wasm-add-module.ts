// The bytes of a tiny WebAssembly module (SIMD) that adds float32 arrays four lanes at a
// time, encoded by hand so that no toolchain or npm dependency is needed. Its text form:
//
//   (module
//     (memory (export "mem") 2)                        ;; 128 KiB: two 64 KiB operands
//     (func (export "add") (param $dst i32) (param $a i32) (param $b i32) (param $bytes i32)
//       (local $i i32)
//       (block $done
//         (loop $next
//           (br_if $done (i32.ge_u (local.get $i) (local.get $bytes)))
//           (v128.store (i32.add (local.get $dst) (local.get $i))
//             (f32x4.add (v128.load (i32.add (local.get $a) (local.get $i)))
//                        (v128.load (i32.add (local.get $b) (local.get $i)))))
//           (local.set $i (i32.add (local.get $i) (i32.const 16)))
//           (br $next)))))
//
// add(dst, a, b, bytes) writes a + b (a the LEFT operand) over `bytes` (a multiple of 16)
// of memory. f32x4.add is IEEE-754 single-precision addition in each lane, round to
// nearest even, no flush of subnormals: the same bits as a JS `Math.fround(a + b)`
// (except which NaN comes out of a NaN input: the payload may differ).

/** Memory pages (64 KiB each) the module declares. */
export const ADD_MODULE_PAGES = 2;

/** A section: id, byte length (every section here is < 128 bytes: one LEB128 byte), contents. */
function section(id: number, contents: number[]): number[] {
  if (contents.length >= 128) throw new RangeError("section too long for a one-byte length");
  return [id, contents.length, ...contents];
}

const I32 = 0x7f;
const ascii = (s: string) => [s.length, ...Array.from(s, (c) => c.charCodeAt(0))];

/** The function body: one local declaration, then the instructions. */
const BODY = [
  0x01, 0x01, I32, //       locals: 1 group of 1 × i32 ($i = local 4, after the 4 params)
  0x02, 0x40, //            block (no result)           $done
  0x03, 0x40, //            loop (no result)            $next
  0x20, 0x04, //              local.get $i
  0x20, 0x03, //              local.get $bytes
  0x4f, //                    i32.ge_u
  0x0d, 0x01, //              br_if 1 (out of the block: done)
  0x20, 0x00, 0x20, 0x04, 0x6a, //  local.get $dst; local.get $i; i32.add   (store address)
  0x20, 0x01, 0x20, 0x04, 0x6a, //  local.get $a; local.get $i; i32.add
  0xfd, 0x00, 0x04, 0x00, //  v128.load align=2^4 offset=0 (a hint: unaligned loads do not trap)
  0x20, 0x02, 0x20, 0x04, 0x6a, //  local.get $b; local.get $i; i32.add
  0xfd, 0x00, 0x04, 0x00, //  v128.load
  0xfd, 0xe4, 0x01, //        f32x4.add (SIMD opcode 228 as LEB128)
  0xfd, 0x0b, 0x04, 0x00, //  v128.store align=2^4 offset=0
  0x20, 0x04, 0x41, 0x10, 0x6a, 0x21, 0x04, //  local.set $i (i32.add (local.get $i) (i32.const 16))
  0x0c, 0x00, //              br 0 (to the loop's start)
  0x0b, //                  end loop
  0x0b, //                  end block
  0x0b, //                  end function
];

export const ADD_MODULE_BYTES = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, // magic "\0asm"
  0x01, 0x00, 0x00, 0x00, // version 1
  // Type section (1): one type, func (i32 i32 i32 i32) → ().
  ...section(1, [0x01, 0x60, 0x04, I32, I32, I32, I32, 0x00]),
  // Function section (3): one function, of type 0.
  ...section(3, [0x01, 0x00]),
  // Memory section (5): one memory, limits flag 0 (no maximum), ADD_MODULE_PAGES minimum.
  ...section(5, [0x01, 0x00, ADD_MODULE_PAGES]),
  // Export section (7): "mem" = memory 0 (kind 2), "add" = function 0 (kind 0).
  ...section(7, [0x02, ...ascii("mem"), 0x02, 0x00, ...ascii("add"), 0x00, 0x00]),
  // Code section (10): one body, prefixed by its size.
  ...section(10, [0x01, BODY.length, ...BODY]),
]);
