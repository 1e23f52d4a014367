import { describe, expect, it } from 'vitest';
import { naturalCompare, sortNaturally } from './naturalCompare';

const sorted = (items: string[]) => [...items].sort(naturalCompare);

describe('naturalCompare', () => {
  it('orders plan IDs by size, a unit turning into GB', () => {
    // What the demo's plans sorted as by string: IB-100, IB-1TB, IB-250.
    expect(sorted(['IB-1TB', 'IB-250', 'IB-100', 'IB-500'])).toEqual(['IB-100', 'IB-250', 'IB-500', 'IB-1TB']);
    expect(sorted(['Backup 2 TB', 'Backup 750 GB', 'Backup 1.5TB', 'Backup 50GB'])).toEqual(['Backup 50GB', 'Backup 750 GB', 'Backup 1.5TB', 'Backup 2 TB']);
    expect(sorted(['P-1PB', 'P-900TB', 'P-20MB', 'P-1GB'])).toEqual(['P-20MB', 'P-1GB', 'P-900TB', 'P-1PB']);
  });

  it('orders numbers without units by value, not digit by digit', () => {
    expect(sorted(['Plan 10', 'Plan 9', 'Plan 100', 'Plan 1'])).toEqual(['Plan 1', 'Plan 9', 'Plan 10', 'Plan 100']);
  });

  it('orders text case-insensitively, numbers before text, shorter first', () => {
    expect(sorted(['b', 'A', 'a2', 'a10', 'a'])).toEqual(['A', 'a', 'a2', 'a10', 'b']);
    expect(sorted(['IB-X', 'IB-2'])).toEqual(['IB-2', 'IB-X']);
    // A word that only starts like a unit is text: "1 tbsp" is 1, then " tbsp".
    expect(sorted(['1 tbsp', '2'])).toEqual(['1 tbsp', '2']);
  });

  it('is a total order: equal sizes fall back to the string, only identical strings tie', () => {
    expect(naturalCompare('IB-1TB', 'IB-1000')).not.toBe(0);
    expect(Math.sign(naturalCompare('IB-1TB', 'IB-1000'))).toBe(-Math.sign(naturalCompare('IB-1000', 'IB-1TB')));
    expect(naturalCompare('a', 'A')).not.toBe(0);
    expect(naturalCompare('IB-100', 'IB-100')).toBe(0);
  });

  it('sorts objects by a key without changing the input', () => {
    const plans = [{ uniqueId: 'IB-1TB' }, { uniqueId: 'IB-100' }];
    expect(sortNaturally(plans, (p) => p.uniqueId).map((p) => p.uniqueId)).toEqual(['IB-100', 'IB-1TB']);
    expect(plans[0].uniqueId).toBe('IB-1TB');
  });
});
