// The channel between device executors. The executor sees only this interface, so the
// same executor runs in-process (memory-comm.ts) or one per worker thread.
//
// Contract: `send` never blocks and takes its own copy of `data` (the caller may reuse
// the buffer at once). `recv` resolves with the data of the one send from `from` to this
// device with `tag`. Tags are unique per plan step, so messages never need ordering.

export interface Comm {
  send(to: number, tag: string, data: Float32Array): void;
  recv(from: number, tag: string): Promise<Float32Array>;
  /** Element-wise sum over `group` (sorted device indices, this device among them); every member gets bit-identical results. */
  allreduce(group: number[], tag: string, data: Float32Array): Promise<Float32Array>;
}

/**
 * All-reduce on top of send/recv: members send to the root (the group's first device),
 * which adds them in group order and sends the sum back. One summation in one fixed order
 * means every member gets the same bits, and replicas of a weight stay identical.
 */
export async function allreduceViaSendRecv(
  me: number,
  group: readonly number[],
  tag: string,
  data: Float32Array,
  send: (to: number, tag: string, data: Float32Array) => void,
  recv: (from: number, tag: string) => Promise<Float32Array>,
): Promise<Float32Array> {
  if (!group.includes(me)) throw new Error(`allreduce ${tag}: device ${me} is not in group [${group.join(", ")}]`);
  const root = group[0];
  if (me !== root) {
    send(root, `${tag}/up`, data);
    return recv(root, `${tag}/down`);
  }
  const sum = Float32Array.from(data);
  for (const d of group) {
    if (d === root) continue;
    const part = await recv(d, `${tag}/up`);
    if (part.length !== sum.length) throw new Error(`allreduce ${tag}: device ${d} sent ${part.length} elements, expected ${sum.length}`);
    for (let i = 0; i < sum.length; i++) sum[i] += part[i];
  }
  for (const d of group) if (d !== root) send(d, `${tag}/down`, sum);
  return sum;
}
