import { describe, expect, it } from 'vitest';
import { sentGb, workedExample } from './usageValue';

describe('usage value', () => {
  it.each([
    // usage, used GB, base, block, sent
    ['TOTAL_USAGE', 25, 20, null, 25],
    ['ADDITIONAL_USAGE', 25, 20, null, 5],
    ['ADDITIONAL_USAGE', 15, 20, null, 0],
    ['TOTAL_USAGE', 25.2, 20, null, 26],
    ['TOTAL_USAGE', 25.0000001, 20, null, 25],
    ['ADDITIONAL_USAGE', 505, 500, 50, 50],
    ['ADDITIONAL_USAGE', 500, 500, 50, 0],
  ] as const)('%s of %s GB on a %s GB plan (blocks %s) sends %s', (usage, used, base, block, sent) => {
    expect(sentGb(usage, used, { baseSizeGb: base, blockSizeGb: block })).toBe(sent);
  });

  it('uses the seed’s 20 GB plan for (All plans)', () => {
    expect(workedExample('ADDITIONAL_USAGE', null)).toContain('a 20 GB plan using 25 GB sends 5 GB');
    expect(workedExample('TOTAL_USAGE', null)).toContain('a 20 GB plan using 25 GB sends 25 GB');
  });
});
