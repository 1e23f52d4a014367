// The order an admin expects of plan IDs and names: IB-100, IB-250, IB-500, IB-1TB.
//
// The rule: text is cut into runs of digits and runs of everything else. Runs of text
// compare case-insensitively (then by case, so the order is total). Runs of digits compare
// by their value, and a number followed by a storage unit (KB, MB, GB, TB, PB, with or
// without a space, any case) is first turned into GB — so "1TB" (1,000 GB, as vendors size
// plans) comes after "500" and "500 GB". A number with no unit counts as GB: plan IDs that
// carry no unit name their size in GB. A number comes before text at the same place
// ("IB-2" before "IB-X"). When two values are equal (1TB and 1000 GB), the plain string
// order decides.

/** How many GB one of each unit is (decimal, as plan sizes are sold). */
const GB_PER_UNIT: Record<string, number> = { kb: 1e-6, mb: 1e-3, gb: 1, tb: 1e3, pb: 1e6 };

type Part = number | string;

/** "IB-1TB" → ["ib-", 1000]; "Plan 20 GB x" → ["plan ", 20, " x"]. */
function parts(text: string): Part[] {
  const out: Part[] = [];
  const pattern = /(\d+(?:\.\d+)?)(?:\s?(kb|mb|gb|tb|pb)(?![a-z]))?|\D+/giy;
  for (const [whole, digits, unit] of text.matchAll(pattern)) {
    if (digits === undefined) out.push(whole.toLowerCase());
    else out.push(Number(digits) * (unit ? GB_PER_UNIT[unit.toLowerCase()] : 1));
  }
  return out;
}

/** Orders plan IDs (and any names with sizes in them) as described above; for `Array.sort`. */
export function naturalCompare(a: string, b: string): number {
  const left = parts(a);
  const right = parts(b);
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    return x < y ? -1 : 1;
  }
  if (left.length !== right.length) return left.length - right.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A copy of `items` in natural order of `key`. */
export function sortNaturally<T>(items: readonly T[], key: (item: T) => string): T[] {
  return [...items].sort((a, b) => naturalCompare(key(a), key(b)));
}
