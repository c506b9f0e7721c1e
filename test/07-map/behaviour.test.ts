import { describe, expect, it } from 'vitest';
import { LENS_NAMES, type CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import type { BehaviourFact } from '../../pipeline/07-map/behaviour.ts';
import { medianOf } from '../../pipeline/07-map/summaries.ts';
import { nameSegments, type NamingInput } from '../../pipeline/07-map/naming.ts';
import { PLAYBOOK_TABLE, playbookFor } from '../../pipeline/07-map/playbooks.ts';
import { parsePlaybookTable } from '../../pipeline/07-map/params.ts';
import { recommendFor } from '../../pipeline/07-map/recommend.ts';
import { mapSegments, type SegmentCard } from '../../pipeline/07-map/segments.ts';
import { fromRows } from '../../pipeline/core/matrix.ts';

/**
 * Names and playbooks from measured behaviour, on hand-made segments whose values are chosen so
 * that what is true of them can be read off the table below: every asserted fact is checked
 * against medians the test computes itself.
 */

/** Customers of one segment: each feature's values, one per customer. */
type SegmentRows = Record<string, number[]>;

/** mapSegments over segments given column-wise; every lens label 'unknown' unless given. */
function mapHandMade(segments: SegmentRows[], opts: { lenses?: Partial<Record<keyof CustomerLenses, string[]>>; featureLabels?: Record<string, { en: string; zh: string }> } = {}) {
  const featureNames = Object.keys(segments[0]!);
  const rows: number[][] = [];
  const labels: number[] = [];
  segments.forEach((seg, s) => {
    const n = seg[featureNames[0]!]!.length;
    for (let i = 0; i < n; i++) {
      rows.push(featureNames.map((f) => seg[f]![i]!));
      labels.push(s);
    }
  });
  const n = rows.length;
  const lenses = Object.fromEntries(LENS_NAMES.map((l) => [l, opts.lenses?.[l] ?? Array(n).fill('unknown')])) as unknown as CustomerLenses;
  const out = mapSegments({
    labels: Int32Array.from(labels),
    k: segments.length,
    lenses,
    features: fromRows(rows),
    featureNames,
    customerIds: rows.map((_, i) => `c${i}`),
    featureLabels: opts.featureLabels,
  });
  return out.cards;
}

const range = (n: number, from: number, to: number) => Array.from({ length: n }, (_, i) => from + ((to - from) * i) / (n - 1));
const median = (xs: number[]) => medianOf(Float64Array.from(xs));
const rules = (c: SegmentCard) => c.playbook.actions!.map((a) => a.rule);

describe('medianOf (linear-time selection)', () => {
  it('equals the sorted middle for odd, even, repeated and single values', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 10;
    for (const n of [1, 2, 3, 10, 101, 1000]) {
      const xs = Array.from({ length: n }, () => Math.floor(rand()));
      const sorted = [...xs].sort((a, b) => a - b);
      const expected = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
      expect(medianOf(Float64Array.from(xs))).toBe(expected);
    }
    expect(medianOf(new Float64Array(0))).toBeNaN();
  });
});

describe('names from behaviour when the lenses cannot tell segments apart (transactions only, every lens unknown)', () => {
  // 10 customers each. Lapsed: last purchase 95–185 days ago, so their purchase window is empty and the
  // previous one was not (volume_trend −3): the export that was once named "shrinking volume".
  const lapsed = { recency_days: range(10, 95, 185), txn_recency_days: range(10, 95, 185), txn_count_all: range(10, 8, 12), txn_avg_basket: range(10, 60, 80), volume_trend: Array(10).fill(-3) };
  const frequentSmall = { recency_days: range(10, 1, 10), txn_recency_days: range(10, 1, 10), txn_count_all: range(10, 40, 60), txn_avg_basket: range(10, 5, 10), volume_trend: range(10, -0.1, 0.1) };
  const occasionalLarge = { recency_days: range(10, 20, 40), txn_recency_days: range(10, 20, 40), txn_count_all: range(10, 2, 4), txn_avg_basket: range(10, 500, 900), volume_trend: range(10, -0.1, 0.1) };
  const steady = { recency_days: range(10, 10, 30), txn_recency_days: range(10, 10, 30), txn_count_all: range(10, 9, 13), txn_avg_basket: range(10, 55, 85), volume_trend: range(10, -0.1, 0.1) };
  const segments = [lapsed, frequentSmall, occasionalLarge, steady];
  const cards = mapHandMade(segments);
  const all = (f: keyof typeof lapsed) => segments.flatMap((s) => s[f]);

  it('names the lapsed segment by its recency, never "shrinking volume", and only because its median is ≥ 90 days', () => {
    expect(median(lapsed.txn_recency_days)).toBeGreaterThanOrEqual(90);
    expect(cards[0]!.name.en).toMatch(/^Lapsed: no purchase in 90 days/);
    expect(cards[0]!.name.zh).toMatch(/^流失：90天无购买/);
    expect(cards[0]!.name.en).not.toMatch(/shrinking/i);
    expect(cards.slice(1).every((c) => !/lapsed/i.test(c.name.en))).toBe(true);
    // the evidence quotes the median the test computes: (135 + 145) / 2
    expect(cards[0]!.behaviour.facts[0]!.evidence.en).toMatch(/^median 140 days since last purchase/);
  });

  it('names frequency and basket size together, and only as the medians say', () => {
    expect(cards[1]!.name.en).toMatch(/^Frequent small baskets/);
    expect(cards[1]!.name.zh).toMatch(/^高频小额购买/);
    expect(median(frequentSmall.txn_count_all)).toBeGreaterThan(median(all('txn_count_all')));
    expect(median(frequentSmall.txn_avg_basket)).toBeLessThan(median(all('txn_avg_basket')));
    expect(cards[2]!.name.en).toMatch(/^Occasional large baskets/);
    expect(median(occasionalLarge.txn_count_all)).toBeLessThan(median(all('txn_count_all')));
    expect(median(occasionalLarge.txn_avg_basket)).toBeGreaterThan(median(all('txn_avg_basket')));
  });

  it('gives every segment its own name and no lens words', () => {
    expect(new Set(cards.map((c) => c.name.en)).size).toBe(4);
    expect(new Set(cards.map((c) => c.name.zh)).size).toBe(4);
    for (const c of cards) expect(c.name.en).not.toMatch(/businesses|Early-stage|Mixed-profile/);
  });

  it('wins back the lapsed segment and sells it nothing: no paid services, no edition above the lens default', () => {
    const p = cards[0]!.playbook;
    expect(p.play).toBe('win_back');
    expect(rules(cards[0]!)).toEqual(expect.arrayContaining(['lapsed.win_back', 'lapsed.keep_cost_low']));
    expect(p.actions!.every((a) => !a.sells && a.evidence.length > 0)).toBe(true);
    expect(p.service).not.toMatch(/paid implementation|sandbox|add-on|consulting/i);
    const ladder = PLAYBOOK_TABLE.editions.map((e) => e.id);
    const lensOnly = playbookFor({ size: 'unknown', industry: 'unknown', lifecycle: 'unknown', technology: 'unknown', buyerRole: 'unknown' } as never);
    expect(ladder.indexOf(p.editionId)).toBeLessThanOrEqual(ladder.indexOf(lensOnly.editionId));
    expect(p.service).toContain('median 140 days since last purchase');
  });

  it('gives segments that behave differently different playbooks and messages', () => {
    const keys = cards.map((c) => JSON.stringify([c.playbook.play, rules(c), c.playbook.leadModules]));
    expect(new Set(keys).size).toBe(cards.length);
    expect(new Set(cards.map((c) => c.playbook.message)).size).toBe(cards.length);
    expect(new Set(cards.map((c) => c.playbook.zh.message)).size).toBe(cards.length);
  });
});

describe('lenses that are not measurable', () => {
  it('name and steer nothing, whether given or computed from the lenses', () => {
    const a = { device_mobile_share: range(6, 0.7, 0.9), events_90: range(6, 10, 20) };
    const b = { device_mobile_share: range(6, 0.0, 0.2), events_90: range(6, 10, 20) };
    const lenses = { size: [...Array(6).fill('micro'), ...Array(6).fill('large')], industry: Array(12).fill('retail') };
    const measured = mapHandMade([a, b], { lenses });
    expect(measured[0]!.name.en).toBe('Micro retailers · mobile-first');
    // Size not measurable: both subjects would read "Retailers", which tells them nothing apart.
    const [m0] = mapSegments({
      labels: Int32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]),
      k: 2,
      lenses: Object.fromEntries(LENS_NAMES.map((l) => [l, (lenses as Record<string, string[]>)[l] ?? Array(12).fill('unknown')])) as unknown as CustomerLenses,
      features: fromRows([a, b].flatMap((seg) => [0, 1, 2, 3, 4, 5].map((i) => [seg.device_mobile_share[i]!, seg.events_90[i]!]))),
      featureNames: ['device_mobile_share', 'events_90'],
      customerIds: Array.from({ length: 12 }, (_, i) => `c${i}`),
      lensMeasurability: Object.fromEntries(LENS_NAMES.map((l) => [l, { measurable: l !== 'size', unknownShare: l === 'size' ? 0.95 : 0, needs: '' }])) as never,
    }).cards;
    expect(m0!.name.en).toBe('Mobile-first');
    expect(m0!.playbook.actions!.map((a) => a.rule)).not.toContain('size.service');
    expect(m0!.playbook.editionId).toBe(PLAYBOOK_TABLE.size.default.edition);
  });
});

describe('playbooks from evidence', () => {
  it('retains a declining mid-size segment at low cost: no paid implementation, usage change cited', () => {
    const declining = { usage_trend: Array(8).fill(Math.log(0.5)), events_90: range(8, 10, 20), module_breadth_90: range(8, 2, 3), share_general_ledger: Array(8).fill(0.6) };
    const steady = { usage_trend: range(8, -0.05, 0.05), events_90: range(8, 30, 50), module_breadth_90: range(8, 4, 6), share_general_ledger: Array(8).fill(0.2) };
    const size = [...Array(8).fill('medium'), ...Array(8).fill('small')];
    const [d] = mapHandMade([declining, steady], { lenses: { size } });
    expect(d!.playbook.play).toBe('retain');
    expect(rules(d!)).toEqual(expect.arrayContaining(['declining.retention', 'declining.cost_control']));
    expect(rules(d!)).not.toContain('size.service');
    expect(d!.playbook.service).not.toMatch(/paid implementation service/);
    expect(d!.playbook.service).toContain('usage −50% vs the previous 90 days');
    expect(d!.playbook.leadModules).toEqual(['general_ledger']);
    expect(d!.name.en).toMatch(/shrinking usage/);
  });

  it("takes the retention and onboarding texts from the vendor's playbook table", () => {
    const declining = { usage_trend: Array(4).fill(Math.log(0.5)), tenure_days: range(4, 900, 1000) };
    const fresh = { usage_trend: range(4, -0.05, 0.05), tenure_days: range(4, 10, 40) };
    const steady = { usage_trend: range(4, -0.05, 0.05), tenure_days: range(4, 700, 800) };
    const table = parsePlaybookTable({
      lifecycle: { decline: { service: { en: 'three-year maintenance at a fixed price', zh: '三年固定价格维护' } }, startup: { service: { en: 'a free first month', zh: '首月免费' } } },
    });
    const rows = [declining, fresh, steady];
    const featureNames = Object.keys(declining);
    const args = {
      labels: Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]),
      k: 3,
      lenses: Object.fromEntries(LENS_NAMES.map((l) => [l, Array(12).fill('unknown')])) as unknown as CustomerLenses,
      features: fromRows(rows.flatMap((seg) => [0, 1, 2, 3].map((i) => featureNames.map((f) => seg[f as keyof typeof seg][i]!)))),
      featureNames,
      customerIds: Array.from({ length: 12 }, (_, i) => `c${i}`),
    };
    const cards = mapSegments({ ...args, playbooks: table }).cards;
    expect(cards[0]!.playbook.actions!.find((a) => a.rule === 'declining.cost_control')).toMatchObject({ en: 'Cost control: three-year maintenance at a fixed price; no paid implementation', zh: '成本控制：三年固定价格维护；不推付费实施' });
    expect(cards[1]!.playbook.actions![0]).toMatchObject({ rule: 'new.onboarding', en: 'Onboarding: a free first month, with a check-in after the first month' });
    // A vendor's upward shift for decline does not sell a declining segment a higher edition.
    const shifted = mapSegments({ ...args, playbooks: parsePlaybookTable({ lifecycle: { decline: { editionShift: 2 } } }) }).cards;
    expect(shifted[0]!.playbook.editionId).toBe(PLAYBOOK_TABLE.size.default.edition);
  });

  it('offers a growing segment the modules its more advanced peers use, with their shares', () => {
    const growing = { usage_trend: Array(6).fill(Math.log(1.6)), module_breadth_90: Array(6).fill(2), share_invoicing: Array(6).fill(0.8), share_budgeting: Array(6).fill(0), share_vendor_bank_feeds: Array(6).fill(0), share_payroll: Array(6).fill(0) };
    const advanced = { usage_trend: Array(6).fill(0), module_breadth_90: Array(6).fill(6), share_invoicing: Array(6).fill(0.2), share_budgeting: Array(6).fill(0.3), share_vendor_bank_feeds: Array(6).fill(0.25), share_payroll: Array(6).fill(0) };
    // Less advanced (one module) peers are not whom a growing segment follows: payroll is not proposed.
    const narrow = { usage_trend: Array(6).fill(0), module_breadth_90: Array(6).fill(1), share_invoicing: Array(6).fill(0), share_budgeting: Array(6).fill(0), share_vendor_bank_feeds: Array(6).fill(0), share_payroll: Array(6).fill(0.9) };
    const [g] = mapHandMade([growing, advanced, narrow], { featureLabels: { share_vendor_bank_feeds: { en: 'Bank feeds', zh: '银行流水' } } });
    expect(g!.playbook.play).toBe('expand');
    const action = g!.playbook.actions!.find((a) => a.rule === 'growing.peer_modules')!;
    expect(action.en).toBe('Expansion: propose budgeting, Bank feeds, which peers with broader use rely on');
    expect(action.zh).toContain('银行流水');
    expect(action.en).not.toMatch(/payroll/);
    expect(action.evidence.map((e) => e.en)).toEqual(['usage +60% vs the previous 90 days (median customer; base +0%)', "budgeting: 30% of peers' activity vs 0% here", "Bank feeds: 25% of peers' activity vs 0% here"]);
    expect(g!.playbook.leadModules[0]).toBe('budgeting');
  });

  it('never offers small mobile-heavy retailers a developer sandbox unless their API share says so', () => {
    const mobile = { device_mobile_share: Array(6).fill(0.8), device_api_share: Array(6).fill(0.02), share_api: Array(6).fill(0.01), events_90: range(6, 10, 20) };
    const api = { device_mobile_share: Array(6).fill(0.2), device_api_share: Array(6).fill(0.6), share_api: Array(6).fill(0.4), events_90: range(6, 10, 20) };
    const lenses = { size: Array(12).fill('small'), industry: Array(12).fill('retail'), technology: Array(12).fill('high') };
    const [m, a] = mapHandMade([mobile, api], { lenses });
    // the lens table alone would offer both the API channel and the sandbox
    const lensOnly = playbookFor({ size: 'small', industry: 'retail', lifecycle: 'mixed', technology: 'high', buyerRole: 'mixed' });
    expect(lensOnly.channels).toContain('api');
    expect(lensOnly.service).toMatch(/sandbox/);
    expect(m!.playbook.leadModules).not.toContain('api');
    expect(m!.playbook.channels).not.toContain('api');
    expect(m!.playbook.service).not.toMatch(/sandbox/);
    expect(rules(m!)).toContain('mobile.app');
    expect(a!.playbook.service).toMatch(/developer sandbox/);
    expect(a!.playbook.leadModules).toContain('api');
  });

  it('keeps the per-customer recommendation inside its segment playbook', () => {
    const lapsed = { txn_recency_days: range(6, 200, 300), txn_count_all: range(6, 5, 9) };
    const active = { txn_recency_days: range(6, 1, 20), txn_count_all: range(6, 5, 9) };
    const [l] = mapHandMade([lapsed, active]);
    const own = { size: 'large', industry: 'manufacturing', lifecycle: 'mature', technology: 'high', buyerRole: 'it' };
    const r = recommendFor({ size: 'unknown', industry: 'unknown', lifecycle: 'unknown', technology: 'unknown', buyerRole: 'unknown' } as never, own, PLAYBOOK_TABLE, l!.playbook);
    // A large firm alone would get the enterprise edition and new modules; in a lapsed segment it gets neither.
    expect(recommendFor({ size: 'unknown', industry: 'unknown', lifecycle: 'unknown', technology: 'unknown', buyerRole: 'unknown' } as never, own).editionId).toBe('enterprise');
    expect(r.editionId).toBe(l!.playbook.editionId);
    expect(r.leadModules).toEqual(l!.playbook.leadModules);
  });
});

describe('name uniqueness over many label and behaviour combinations', () => {
  const SIZES = ['micro', 'small', 'medium', 'large', 'unknown', 'mixed'];
  const INDUSTRIES = ['retail', 'services', 'unknown', 'mixed'];
  const STAGES = ['startup', 'growth', 'mature', 'decline', 'unknown', 'mixed'];
  const FEATURES = ['device_mobile_share', 'refund_share', 'txn_avg_size', 'events_90', 'share_vendor_bank_feeds', 'usage_trend', 'recency_days', 'share_invoicing'];
  const fact = (kind: BehaviourFact['kind'], feature: string, en: string, zh: string): BehaviourFact => ({ kind, features: [feature], tag: { en, zh }, evidence: { en, zh }, strength: 1 });
  const FACTS: BehaviourFact[] = [
    fact('lapsed', 'txn_recency_days', 'lapsed: no purchase in 90 days', '流失：90天无购买'),
    fact('frequent', 'txn_count_all', 'frequent purchases', '购买频繁'),
    // Two vendor modules whose Chinese labels coincide: the names must still differ in Chinese.
    fact('module', 'share_vendor_a', 'heavy users of Bank feeds', '重度使用银行'),
    fact('module', 'share_vendor_b', 'heavy users of Bank sync', '重度使用银行'),
    fact('mobile', 'device_mobile_share', 'mobile-first', '移动优先'),
  ];

  it('holds in English and Chinese for 400 seeded random models, including every lens unknown and identical segments', () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 48271) % 2147483647) % n;
    for (let trial = 0; trial < 400; trial++) {
      const k = 2 + rand(11);
      const allUnknown = trial % 4 === 0;
      const segments: NamingInput[] = Array.from({ length: k }, (_, id) => ({
        id,
        dominant: allUnknown ? { size: 'unknown', industry: 'unknown', lifecycle: 'unknown' } : { size: SIZES[rand(SIZES.length)]!, industry: INDUSTRIES[rand(INDUSTRIES.length)]!, lifecycle: STAGES[rand(STAGES.length)]! },
        distinguishing: Array.from({ length: rand(4) }, () => ({ feature: FEATURES[rand(FEATURES.length)]!, standardisedDifference: (rand(7) - 3) / 1.5 })),
        facts: Array.from({ length: rand(3) }, () => FACTS[rand(FACTS.length)]!).filter((f, i, xs) => xs.indexOf(f) === i),
      }));
      const names = nameSegments(segments);
      expect(new Set(names.map((n) => n.en)).size, JSON.stringify(names)).toBe(k);
      expect(new Set(names.map((n) => n.zh)).size, JSON.stringify(names)).toBe(k);
    }
  });

  it('tags a perfectly separating feature (report slice: perfect, sd 0) by the direction of its means', () => {
    const seg = (id: number, segmentMean: number): NamingInput => ({ id, dominant: { size: 'unknown', industry: 'unknown', lifecycle: 'unknown' }, distinguishing: [{ feature: 'device_mobile_share', standardisedDifference: 0, perfect: true, segmentMean, restMean: 0.5 }] });
    expect(nameSegments([seg(0, 1), seg(1, 0)]).map((n) => n.en)).toEqual(['Mobile-first', 'Rarely on mobile']);
  });

  it('separates segments that differ only in Chinese-colliding labels, and identical ones by id', () => {
    const seg = (id: number, facts: BehaviourFact[]): NamingInput => ({ id, dominant: { size: 'unknown', industry: 'unknown', lifecycle: 'unknown' }, distinguishing: [], facts });
    const names = nameSegments([seg(0, [FACTS[2]!]), seg(1, [FACTS[3]!]), seg(2, []), seg(3, [])]);
    expect(names.map((n) => n.en)).toEqual(['Heavy users of Bank feeds (segment 0)', 'Heavy users of Bank sync (segment 1)', 'Typical usage (segment 2)', 'Typical usage (segment 3)']);
    expect(new Set(names.map((n) => n.zh)).size).toBe(4);
  });
});
