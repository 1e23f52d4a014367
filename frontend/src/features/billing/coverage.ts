// What a valid mapping may bill less than expected, known before saving: the metric types
// of its product that its level has no active ConnectWise cross-reference for (the same
// rule the server applies to the warnings it returns on save, `db::mappings::warnings`).
// Read from `Level.crossReferences` as stored by the last `syncLevels`.
import type { LevelsSectionLevelFragment } from '../../gql/graphql';

export type LevelCoverage = Pick<LevelsSectionLevelFragment, 'name' | 'crossReferences'>;

/**
 * The metric types `level` has no active cross-reference for. Empty when levels were never
 * synced (no level has any cross-reference): without a ConnectWise connection nothing is
 * known, and the server refuses an unknown level anyway.
 */
export function uncoveredTypes(level: LevelCoverage | undefined, metricTypes: string[], levels: LevelCoverage[]): string[] {
  const synced = levels.some((l) => l.crossReferences.length > 0);
  if (!synced || !level) return [];
  const covered = new Set(level.crossReferences.filter((x) => x.active).map((x) => x.vendorType));
  return metricTypes.filter((type) => !covered.has(type));
}

/** The warning for `uncoveredTypes`, or none. */
export function coverageWarning(levelName: string, missing: string[]): string[] {
  if (missing.length === 0) return [];
  const them = missing.length === 1 ? 'it is' : 'they are';
  return [`No active ConnectWise cross-reference for level “${levelName}”: ${missing.join(', ')} — ${them} skipped when pushing.`];
}
