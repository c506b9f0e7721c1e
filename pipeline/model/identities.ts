import type { Bilingual } from '../07-map/playbooks.ts';
import type { TrendsState } from '../09-drift/trends.ts';
import type { FittedModel } from './fit.ts';

/** A segment's public id and name: production's where a retrain matched it, a new one elsewhere. */
export interface SegmentIdentity {
  id: number;
  name: Bilingual;
}

/**
 * The fitted model under other public segment ids and names, one per segment index (retrain's
 * carried-over identities): the cards take them, and so does everything keyed by segment id (the
 * trends; the assignments and exports read the ids from the cards). A fit alone numbers segments
 * by index, so applying each index's own id and name changes nothing.
 */
export function withIdentities(fitted: FittedModel, identities: readonly SegmentIdentity[]): FittedModel {
  const segments = fitted.states['segments.json'];
  if (identities.length !== segments.cards.length) throw new Error(`withIdentities: ${identities.length} identities for ${segments.cards.length} segments`);
  const cards = segments.cards.map((c, i) => ({ ...c, id: identities[i]!.id, name: identities[i]!.name }));
  const trends = relabelTrends(fitted.states['trends.json'], cards.map((c) => c.id));
  return { ...fitted, states: { ...fitted.states, 'segments.json': { ...segments, cards }, 'trends.json': trends } };
}

/** The trends with each series' segment id taken from `segmentIds` (by segment index); every other field as it was. */
function relabelTrends(trends: TrendsState, segmentIds: readonly number[]): TrendsState {
  return { ...trends, segments: trends.segments.map((s) => ({ ...s, segmentId: segmentIds[s.segmentIndex]! })) };
}
