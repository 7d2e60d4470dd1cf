// Device lists written with ranges: "0..127" or "0..3, 8, 12..15" (inclusive, ascending
// ranges). The `.par` form writes them as `devices = [0..3, 8]`; strategy JSON version 2
// accepts the same text as a string, which keeps a 1,024-device list a few bytes long.

/** The longest range one text may spell (a typo such as `0..99999999999` must not exhaust memory). */
export const MAX_RANGE_LENGTH = 1 << 20;

/** Runs of consecutive ascending indices: [first, last] pairs, in list order. */
export function deviceRuns(devices: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  let i = 0;
  while (i < devices.length) {
    let j = i;
    while (j + 1 < devices.length && devices[j + 1] === devices[j] + 1) j++;
    runs.push([devices[i], devices[j]]);
    i = j + 1;
  }
  return runs;
}

/** The range text of a device list: `0..3, 8` (every run of two or more as a range). */
export function deviceRangeText(devices: readonly number[]): string {
  return deviceRuns(devices)
    .map(([a, b]) => (b > a ? `${a}..${b}` : String(a)))
    .join(", ");
}

/** What went wrong reading a device range text, for a diagnostic. */
export interface DeviceTextProblem {
  message: string;
  /** Offset of the offending part inside the text. */
  at: number;
}

const PART = /\s*(\d+)(?:\s*\.\.\s*(\d+))?\s*(,|$)/y;

/**
 * Reads "0..3, 8" into [0, 1, 2, 3, 8]. Indices are decimal integers; ranges are inclusive
 * and ascending. Returns a problem for anything else (the JSON schema checks the shape
 * first, so this mostly catches descending and overlong ranges).
 */
export function parseDeviceRangeText(text: string): number[] | DeviceTextProblem {
  const out: number[] = [];
  let at = 0;
  if (text.trim() === "") return { message: "the device list is empty", at: 0 };
  while (at < text.length) {
    PART.lastIndex = at;
    const m = PART.exec(text);
    if (!m) return { message: `expected a device index or a range a..b at \`${text.slice(at, at + 12)}\``, at };
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return { message: `device index ${m[2] ?? m[1]} is too large`, at };
    if (b < a) return { message: `device range ${a}..${b} is empty (ranges are inclusive and ascending)`, at };
    if (b - a >= MAX_RANGE_LENGTH || out.length + (b - a + 1) > MAX_RANGE_LENGTH) return { message: `device range ${a}..${b} is too long (at most ${MAX_RANGE_LENGTH} devices in one list)`, at };
    for (let d = a; d <= b; d++) out.push(d);
    at = PART.lastIndex;
    if (m[3] === "") break;
    if (at >= text.length) return { message: "the device list ends with a comma", at: text.length - 1 };
  }
  return out;
}
