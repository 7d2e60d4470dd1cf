import { it } from "vitest";
import { useBackend } from "../support/tf.js";
it("dbg", async () => {
  for (const b of ["cpu", "wasm"] as const) {
    const tf = await useBackend(b);
    const ix = tf.tensor1d([0, 1, 1, 2, 0], "int32");
    const c = tf.reshape(tf.cast(tf.tensor2d([0, 1, 1, 2, 0], [5, 1], "int32"), "int32"), [-1]);
    console.log("X " + b + " " + Array.from(tf.oneHot(ix, 3, 1, 0, "float32").dataSync()) + " | " + Array.from(tf.oneHot(c, 3, 1, 0, "float32").dataSync()) + " | " + Array.from(tf.oneHot(ix, 3).dataSync()));
  }
});
