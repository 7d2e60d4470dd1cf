// The .npy codec against files numpy wrote (test/fixtures/npy/make-npy.py): every dtype
// par reads, both header versions, and the coded errors for what it does not read.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeNpy, encodeNpy, type NpyArray } from "../../../src/frontend/npy.js";
import { thrownCode } from "../../support/errors.js";
import { assertProperty } from "../../support/property.js";

const read = (name: string) => decodeNpy(new Uint8Array(readFileSync(new URL(`../../fixtures/npy/${name}`, import.meta.url))), name);

describe(".npy files numpy wrote", () => {
  it("reads every dtype par takes, in C order", () => {
    const f4 = read("f4_2x3.npy");
    expect([f4.dtype, f4.shape]).toEqual(["f4", [2, 3]]);
    expect(Array.from(f4.data as Float32Array)).toEqual([-0.5, -0.25, 0, 0.25, 0.5, 0.75]);
    expect(Array.from(read("f8_3.npy").data as Float64Array)).toEqual([1.5, -2.25, 1e-3]);
    const i4 = read("i4_2x2.npy");
    expect([i4.dtype, i4.shape, Array.from(i4.data as Int32Array)]).toEqual(["i4", [2, 2], [1, -2, 3, 2147483647]]);
    expect(Array.from(read("i8_4.npy").data as BigInt64Array, Number)).toEqual([0, 7, -1, 49]);
    expect(Array.from(read("u1_3.npy").data as Uint8Array)).toEqual([0, 255, 7]);
    const b1 = read("b1_2x2.npy");
    expect([b1.dtype, Array.from(b1.data as Uint8Array)]).toEqual(["b1", [1, 0, 0, 1]]);
    const s = read("f4_scalar.npy");
    expect([s.shape, Array.from(s.data as Float32Array)]).toEqual([[], [3.25]]);
  });

  it("reads a version 2 header", () => {
    const a = read("f4_v2.npy");
    expect([a.shape, Array.from(a.data as Float32Array)]).toEqual([[3], [1, 2, 3]]);
  });

  it("rejects Fortran order, big-endian data and other dtypes with PAR6041", () => {
    expect(thrownCode(() => read("fortran_2x3.npy"))).toBe("PAR6041");
    expect(thrownCode(() => read("f4_big_endian.npy"))).toBe("PAR6041");
    expect(thrownCode(() => read("f2_2.npy"))).toBe("PAR6041");
  });

  it("rejects a malformed file with PAR6040: bad magic, truncated header or data, a bad shape", () => {
    const good = new Uint8Array(readFileSync(new URL("../../fixtures/npy/f4_2x3.npy", import.meta.url)));
    expect(thrownCode(() => decodeNpy(new TextEncoder().encode("not numpy at all"), "x.npy"))).toBe("PAR6040");
    expect(thrownCode(() => decodeNpy(good.subarray(0, 20), "x.npy"))).toBe("PAR6040");
    expect(thrownCode(() => decodeNpy(good.subarray(0, good.length - 4), "x.npy"))).toBe("PAR6040");
    const text = new TextDecoder("latin1").decode(good).replace("(2, 3)", "(2, x)");
    expect(thrownCode(() => decodeNpy(Uint8Array.from(text, (c) => c.charCodeAt(0)), "x.npy"))).toBe("PAR6040");
    const v9 = good.slice();
    v9[6] = 9;
    expect(thrownCode(() => decodeNpy(v9, "x.npy"))).toBe("PAR6040");
  });

  it("writes what numpy writes (byte for byte) for the same array", () => {
    for (const name of ["f4_2x3.npy", "i4_2x2.npy", "f8_3.npy", "i8_4.npy", "u1_3.npy", "b1_2x2.npy", "f4_scalar.npy"]) {
      const bytes = new Uint8Array(readFileSync(new URL(`../../fixtures/npy/${name}`, import.meta.url)));
      expect(Buffer.from(encodeNpy(decodeNpy(bytes, name))).equals(Buffer.from(bytes)), name).toBe(true);
    }
  });
});

describe(".npy round trip (property)", () => {
  it("decode(encode(a)) = a for any shape and dtype", () => {
    const arb = fc
      .tuple(fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 4 }), fc.constantFrom<NpyArray["dtype"]>("f4", "f8", "i4", "i8", "u1", "b1"), fc.integer())
      .map(([shape, dtype, seed]): NpyArray => {
        const n = shape.reduce((a, b) => a * b, 1);
        const v = (i: number) => ((seed + i * 2654435761) >>> 0) % 251;
        const data =
          dtype === "f4" ? Float32Array.from({ length: n }, (_, i) => v(i) / 7 - 9)
          : dtype === "f8" ? Float64Array.from({ length: n }, (_, i) => v(i) / 7 - 9)
          : dtype === "i4" ? Int32Array.from({ length: n }, (_, i) => v(i) - 100)
          : dtype === "i8" ? BigInt64Array.from({ length: n }, (_, i) => BigInt(v(i) - 100))
          : Uint8Array.from({ length: n }, (_, i) => (dtype === "b1" ? v(i) & 1 : v(i)));
        return { dtype, shape, data };
      });
    assertProperty(
      fc.property(arb, (a) => {
        const back = decodeNpy(encodeNpy(a), "p.npy");
        expect(back.dtype).toBe(a.dtype);
        expect(back.shape).toEqual(a.shape);
        expect(Array.from(back.data as ArrayLike<number>, Number)).toEqual(Array.from(a.data as ArrayLike<number>, Number));
        // numpy's layout: the data starts at a multiple of 64 bytes.
        expect((encodeNpy(a).length - back.data.byteLength) % 64).toBe(0);
      }),
      200,
    );
  });
});
