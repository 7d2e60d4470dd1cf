// In-process channels: one mailbox per (from, to, tag), resolved by promises. All devices
// run in one thread (runPlanInProcess); a device awaiting a recv yields to the others.

import { allreduceViaSendRecv, type Comm } from "./comm.js";

interface Slot {
  data?: Float32Array;
  waiter?: (d: Float32Array) => void;
}

export class MemoryHub {
  private readonly slots = new Map<string, Slot>();

  private slot(from: number, to: number, tag: string): Slot {
    const k = `${from}>${to}#${tag}`;
    let s = this.slots.get(k);
    if (!s) {
      s = {};
      this.slots.set(k, s);
    }
    return s;
  }

  private deliver(from: number, to: number, tag: string, data: Float32Array): void {
    const k = `${from}>${to}#${tag}`;
    const s = this.slot(from, to, tag);
    if (s.data) throw new Error(`memory comm: a second message ${tag} from ${from} to ${to}`);
    const copy = Float32Array.from(data);
    if (s.waiter) {
      this.slots.delete(k);
      s.waiter(copy);
    } else s.data = copy;
  }

  private take(from: number, to: number, tag: string): Promise<Float32Array> {
    const k = `${from}>${to}#${tag}`;
    const s = this.slot(from, to, tag);
    if (s.data) {
      this.slots.delete(k);
      return Promise.resolve(s.data);
    }
    if (s.waiter) throw new Error(`memory comm: two receives of ${tag} from ${from} on ${to}`);
    return new Promise((resolve) => {
      s.waiter = resolve;
    });
  }

  /** Messages sent and not yet received (0 after a complete step). */
  pending(): number {
    return this.slots.size;
  }

  comm(device: number): Comm {
    const send = (to: number, tag: string, data: Float32Array) => this.deliver(device, to, tag, data);
    const recv = (from: number, tag: string) => this.take(from, device, tag);
    return {
      send,
      recv,
      allreduce: (group, tag, data) => allreduceViaSendRecv(device, group, tag, data, send, recv),
    };
  }
}
