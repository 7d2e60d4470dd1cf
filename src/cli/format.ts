// Human-readable numbers for command output: 1.23 GFLOP, 11.1 MiB, 2.91 M.

const SI = ["", "K", "M", "G", "T", "P", "E"];

/** Three significant digits with an SI prefix: (1.23e9, "FLOP") → "1.23 GFLOP". */
export function formatSi(n: number, unit: string): string {
  if (!Number.isFinite(n)) return `${n} ${unit}`;
  let i = 0;
  let v = Math.abs(n);
  while (v >= 999.5 && i < SI.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 && Number.isInteger(v) ? String(v) : v.toPrecision(3);
  return `${n < 0 ? "-" : ""}${digits} ${SI[i]}${unit}`;
}

export function formatFlops(n: number): string {
  return formatSi(n, "FLOP");
}

const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** Bytes in binary units: 11632640 → "11.1 MiB". */
export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1023.5 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toPrecision(3)} ${IEC[i]}`;
}

/** A count with thousands separators and, when large, a short form: "2,913,290 (2.91 M)". */
export function formatCount(n: number): string {
  const full = n.toLocaleString("en-US");
  return n >= 10_000 ? `${full} (${formatSi(n, "").trim()})` : full;
}
