import type { Module } from '../01-ingest/contract.ts';
import { LENS_NAMES, type CustomerLenses, type LensName } from '../06-categorize/lenses.ts';
import { PLAYBOOK_TABLE, playbookFor, type Deployment, type DominantLenses, type EditionId, type Playbook, type PlaybookTable } from './playbooks.ts';

/**
 * The per-customer recommendation at scoring time: the playbook of the customer's own lens
 * labels, with its segment's dominant label standing in wherever the customer's own is unknown,
 * and the lead modules topped up from the segment's playbook. So a large firm that behaves like
 * a segment of small ones is still offered the enterprise edition, and a customer with no
 * recorded industry gets its segment's industry modules. With the segment's evidence-based
 * playbook (plays.ts) the recommendation keeps to it: a lapsed or declining segment's customer
 * gets its segment's modules and no edition above its segment's; others lead with the segment's
 * modules; the API only where the segment's API use earned it.
 */

/** What to offer one customer. */
export interface Recommendation {
  editionId: EditionId;
  deployment: Deployment;
  /** At most the table's maxLeadModules: the customer's own playbook first, then its segment's. */
  leadModules: Module[];
  /** Lenses whose label came from the segment because the customer's own was unknown, in lens order. */
  fromSegment: LensName[];
}

/** The recommendation for one customer from its segment's dominant labels and its own labels (and the segment's playbook, when it is evidence-based). */
export function recommendFor(segment: DominantLenses, own: Record<LensName, string>, table: PlaybookTable = PLAYBOOK_TABLE, segmentPlaybook?: Playbook): Recommendation {
  const labels = {} as Record<LensName, string>;
  const fromSegment: LensName[] = [];
  for (const lens of LENS_NAMES) {
    const mine = own[lens];
    if (mine === 'unknown') {
      labels[lens] = segment[lens];
      fromSegment.push(lens);
    } else labels[lens] = mine;
  }
  const personal = playbookFor(labels as unknown as DominantLenses, table);
  const lifecycle = table.lifecycle[labels.lifecycle as keyof PlaybookTable['lifecycle']] ?? table.lifecycle.default;
  const play = segmentPlaybook?.play;
  if (segmentPlaybook && play) {
    const rank = (id: EditionId) => table.editions.findIndex((e) => e.id === id);
    if (play === 'win_back' || play === 'retain' || lifecycle.exclusiveModules) {
      // No new sale: the segment's own modules, and never an edition above the segment's.
      const editionId = rank(personal.editionId) > rank(segmentPlaybook.editionId) ? segmentPlaybook.editionId : personal.editionId;
      const leadModules = lifecycle.exclusiveModules && !(play === 'win_back' || play === 'retain') ? personal.leadModules : segmentPlaybook.leadModules;
      return { editionId, deployment: personal.deployment, leadModules: [...leadModules], fromSegment };
    }
    const api = segmentPlaybook.leadModules.includes('api');
    const leadModules = [...new Set([...segmentPlaybook.leadModules, ...personal.leadModules])].filter((m) => m !== 'api' || api).slice(0, table.maxLeadModules);
    return { editionId: personal.editionId, deployment: personal.deployment, leadModules, fromSegment };
  }
  // An exclusive lifecycle (decline: keep the running system) sells nothing beyond its own list.
  const topUp = lifecycle.exclusiveModules ? [] : playbookFor(segment, table).leadModules;
  const leadModules = [...new Set([...personal.leadModules, ...topUp])].slice(0, table.maxLeadModules);
  return { editionId: personal.editionId, deployment: personal.deployment, leadModules, fromSegment };
}

/** Recommendations for n customers, columnar, each of length n. */
export interface Recommendations {
  editionId: EditionId[];
  deployment: Deployment[];
  leadModules: Module[][];
  fromSegment: LensName[][];
}

/**
 * Recommendations for every customer from its segment (ids into `segmentDominant` and
 * `segmentPlaybooks`) and its own lens labels. Customers sharing a segment and labels share one
 * computed recommendation.
 */
export function recommendCustomers(
  segment: ArrayLike<number>,
  lenses: CustomerLenses,
  segmentDominant: readonly DominantLenses[],
  table: PlaybookTable = PLAYBOOK_TABLE,
  segmentPlaybooks?: readonly Playbook[],
): Recommendations {
  const n = segment.length;
  for (const lens of LENS_NAMES) {
    if (lenses[lens].length !== n) throw new Error(`recommendCustomers: lens ${lens} has ${lenses[lens].length} labels for ${n} customers`);
  }
  const out: Recommendations = { editionId: new Array(n), deployment: new Array(n), leadModules: new Array(n), fromSegment: new Array(n) };
  const cache = new Map<string, Recommendation>();
  const columns = LENS_NAMES.map((l) => lenses[l]);
  for (let i = 0; i < n; i++) {
    const s = segment[i]!;
    const dominant = segmentDominant[s];
    if (dominant === undefined) throw new Error(`recommendCustomers: customer ${i} has segment ${s}, the model has ${segmentDominant.length}`);
    // The key by concatenation and the labels object only on a miss: at 1M customers building
    // both for every row took 1.3 s, for a few hundred distinct keys.
    let key = String(s);
    for (const column of columns) key += `|${column[i]!}`;
    let rec = cache.get(key);
    if (rec === undefined) {
      const own = Object.fromEntries(LENS_NAMES.map((l) => [l, lenses[l][i]!])) as Record<LensName, string>;
      cache.set(key, (rec = recommendFor(dominant, own, table, segmentPlaybooks?.[s])));
    }
    out.editionId[i] = rec.editionId;
    out.deployment[i] = rec.deployment;
    out.leadModules[i] = rec.leadModules;
    out.fromSegment[i] = rec.fromSegment;
  }
  return out;
}

/** The dominant label of each lens on a segment card (what its playbook was built from). */
export function dominantLensesOf(card: { lenses: readonly { lens: LensName; dominant: string }[] }): DominantLenses {
  return Object.fromEntries(card.lenses.map((c) => [c.lens, c.dominant])) as unknown as DominantLenses;
}
