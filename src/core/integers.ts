// Integer helpers for splitting dims into parts.

/** Divisors of n, ascending (O(√n)). */
export function divisors(n: number): number[] {
  const lo: number[] = [];
  const hi: number[] = [];
  for (let i = 1; i * i <= n; i++) {
    if (n % i !== 0) continue;
    lo.push(i);
    if (i * i !== n) hi.push(n / i);
  }
  return [...lo, ...hi.reverse()];
}
