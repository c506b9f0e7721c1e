import { describe, expect, it } from 'vitest';
import { FEATURE_NAMES } from '../../pipeline/02-features/catalog.ts';
import type { CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { BEHAVIOUR_TAGS, behaviourTag, nameSegments, type NamingInput } from '../../pipeline/07-map/naming.ts';
import { MODULES } from '../../pipeline/01-ingest/contract.ts';
import { PLAYBOOK_TABLE, playbookFor, type DominantLenses, type PlaybookTable } from '../../pipeline/07-map/playbooks.ts';
import { cramersV, lensComposition, mapSegments, segmentDifferences, standardisedDifference } from '../../pipeline/07-map/segments.ts';
import { fromRows } from '../../pipeline/core/matrix.ts';
import { makeRng } from '../../pipeline/core/random.ts';

describe("Cramér's V", () => {
  it('is 1 for the same partition under other label codes', () => {
    expect(cramersV([0, 0, 1, 1, 2, 2], [5, 5, 3, 3, 9, 9])).toBeCloseTo(1, 12);
  });

  it('is 0 for independent balanced partitions', () => {
    expect(cramersV([0, 0, 1, 1], [0, 1, 0, 1])).toBe(0);
  });

  it('matches the hand-computed 2x2 value (3,1 / 1,3 → |ad − bc| / √(row and column sums) = 8 / 16)', () => {
    expect(cramersV([0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 0, 1, 1, 1])).toBeCloseTo(0.5, 12);
  });

  it('is 0 when one side has a single category', () => {
    expect(cramersV([0, 1, 2, 3], [7, 7, 7, 7])).toBe(0);
  });
});

describe('standardised difference', () => {
  it('is (mean in − mean out) / pooled standard deviation', () => {
    // in: 1, 2, 3 (mean 2, Σd² 2); out: 4, 5, 6, 7 (mean 5.5, Σd² 5); pooled var = 7 / 5
    const d = standardisedDifference([1, 4, 2, 5, 3, 6, 7], [true, false, true, false, true, false, false]);
    expect(d.segmentMean).toBe(2);
    expect(d.restMean).toBe(5.5);
    expect(d.standardisedDifference).toBeCloseTo(-3.5 / Math.sqrt(1.4), 12);
  });

  it('skips NaN values and is 0 when neither group varies', () => {
    const d = standardisedDifference([1, Number.NaN, 1, 1], [true, true, false, false]);
    expect(d).toEqual({ segmentMean: 1, restMean: 1, standardisedDifference: 0 });
  });
  it('for all segments at once (segmentDifferences) equals the per-segment computation within 1e-9', () => {
    // Skewed, partly missing columns on a large scale (transaction volumes), plus a constant one.
    const r = makeRng(7);
    const rng = () => r.next();
    const n = 3000;
    const p = 4;
    const k = 5;
    const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * k));
    const data = new Float64Array(n * p);
    for (let i = 0; i < n; i++) {
      data[i * p] = rng() < 0.1 ? Number.NaN : labels[i]! + rng();
      data[i * p + 1] = 1e7 * Math.exp(3 * rng()) + labels[i]! * 1e6;
      data[i * p + 2] = labels[i] === 3 ? Number.NaN : rng();
      data[i * p + 3] = 2.5;
    }
    const fast = segmentDifferences({ rows: n, cols: p, data }, labels, k);
    for (let s = 0; s < k; s++) {
      for (let j = 0; j < p; j++) {
        const column = Array.from({ length: n }, (_, i) => data[i * p + j]!);
        const ref = standardisedDifference(column, Array.from(labels, (l) => l === s));
        const got = fast[s]![j]!;
        for (const key of ['segmentMean', 'restMean', 'standardisedDifference'] as const) {
          if (Number.isNaN(ref[key])) expect(got[key], `${s} ${j} ${key}`).toBeNaN();
          else expect(Math.abs(got[key] - ref[key]), `${s} ${j} ${key}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(ref[key])));
        }
      }
    }
    // The segment without values of column 2 has no mean there, and no difference.
    expect(fast[3]![2]!.standardisedDifference).toBeNaN();
    expect(fast[0]![3]!.standardisedDifference).toBe(0);
  });
});

describe('lens composition', () => {
  it('reports counts, shares, dominant label and lift', () => {
    // size labels: micro small medium large unknown; segment 3 small + 1 micro; base micro 3, small 4, medium 2, large 1
    const c = lensComposition('size', [1, 3, 0, 0, 0], [3, 4, 2, 1, 0], 0.25, 0.5);
    expect(c.counts).toEqual({ micro: 1, small: 3, medium: 0, large: 0, unknown: 0 });
    expect(c.shares).toEqual({ micro: 0.25, small: 0.75, medium: 0, large: 0, unknown: 0 });
    expect(c.dominant).toBe('small');
    expect(c.dominantShare).toBe(0.75);
    expect(c.lift).toBeCloseTo(0.75 / 0.4, 12);
    expect(c.cramersV).toBe(0.25);
  });

  it("says 'mixed' below the dominance share, with the plurality's share and lift 1", () => {
    const c = lensComposition('size', [2, 1, 2, 1, 0], [3, 4, 2, 1, 0], 0, 0.5);
    expect(c.dominant).toBe('mixed');
    expect(c.plurality).toBe('micro'); // ties with medium at 1/3: canonical order decides
    expect(c.dominantShare).toBeCloseTo(1 / 3, 12);
    expect(c.lift).toBe(1);
  });
});

/** Ten customers: segment 0 = the first four, segment 1 = the other six. */
function tenCustomers() {
  const labels = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
  const lenses: CustomerLenses = {
    size: ['small', 'small', 'small', 'micro', 'micro', 'micro', 'medium', 'medium', 'large', 'small'],
    industry: Array(10).fill('retail'),
    lifecycle: ['growth', 'growth', 'growth', 'growth', 'mature', 'mature', 'mature', 'mature', 'mature', 'mature'],
    technology: Array(10).fill('high'),
    buyerRole: Array(10).fill('owner'),
  };
  const mobile = [0.8, 0.9, 0.7, 0.8, 0.1, 0.2, 0.1, 0.0, 0.2, 0.1];
  const avgSize = [100, 200, 300, Number.NaN, 150, 250, 200, 100, 300, 200];
  const constant = Array(10).fill(1);
  const features = fromRows(mobile.map((m, i) => [avgSize[i]!, m, constant[i]!]));
  const featureNames = ['txn_avg_size', 'device_mobile_share', 'share_payroll'];
  const customerIds = Array.from({ length: 10 }, (_, i) => `c${i}`);
  const distances = Float64Array.from([0.5, 0.1, 0.3, 0.2, 1, 2, 3, 4, 5, 0.5]);
  return { labels, k: 2, lenses, features, featureNames, customerIds, distances };
}

describe('mapSegments on ten hand-checked customers', () => {
  const { cards, cramersV: v } = mapSegments(tenCustomers());
  const lensOf = (s: number, lens: string) => cards[s]!.lenses.find((l) => l.lens === lens)!;

  it('counts segment sizes and shares', () => {
    expect(cards.map((c) => [c.id, c.size, c.share])).toEqual([
      [0, 4, 0.4],
      [1, 6, 0.6],
    ]);
  });

  it('composes the size lens: segment 0 is small (lift 1.875), segment 1 is mixed', () => {
    const s0 = lensOf(0, 'size');
    expect(s0.counts).toEqual({ micro: 1, small: 3, medium: 0, large: 0, unknown: 0 });
    expect(s0.dominant).toBe('small');
    expect(s0.dominantShare).toBe(0.75);
    expect(s0.lift).toBeCloseTo(1.875, 12);
    const s1 = lensOf(1, 'size');
    expect(s1.counts).toEqual({ micro: 2, small: 1, medium: 2, large: 1, unknown: 0 });
    expect(s1.dominant).toBe('mixed');
    expect(s1.lift).toBe(1);
  });

  it('gives lifts over the base for the lifecycle lens: 1 / 0.4 and 1 / 0.6', () => {
    expect(lensOf(0, 'lifecycle').lift).toBeCloseTo(2.5, 12);
    expect(lensOf(1, 'lifecycle').lift).toBeCloseTo(1 / 0.6, 12);
    expect(lensOf(0, 'industry')).toMatchObject({ dominant: 'retail', dominantShare: 1, lift: 1 });
  });

  it("returns Cramér's V per lens: √59 / 12 for size, 1 for lifecycle, 0 for a constant lens", () => {
    // size table rows (1,3,0,0) and (2,1,2,1): χ² = 295 / 72, n = 10, min(r, c) − 1 = 1
    expect(v.size).toBeCloseTo(Math.sqrt(59) / 12, 12);
    expect(v.lifecycle).toBeCloseTo(1, 12);
    expect(v.industry).toBe(0);
    expect(Object.keys(v)).toEqual(['size', 'industry', 'lifecycle', 'technology', 'buyerRole']);
    expect(lensOf(1, 'size').cramersV).toBe(v.size);
  });

  it('ranks distinguishing features by |standardised difference|, skipping NaN values', () => {
    const d0 = cards[0]!.distinguishing;
    expect(d0.map((f) => f.feature)).toEqual(['device_mobile_share', 'txn_avg_size', 'share_payroll']);
    expect(d0[0]!.segmentMean).toBeCloseTo(0.8, 12);
    expect(d0[0]!.restMean).toBeCloseTo(0.7 / 6, 12);
    expect(d0[0]!.standardisedDifference).toBeGreaterThan(0);
    expect(d0[1]).toEqual({ feature: 'txn_avg_size', segmentMean: 200, restMean: 200, standardisedDifference: 0 });
    expect(cards[1]!.distinguishing[0]!.standardisedDifference).toBeCloseTo(-d0[0]!.standardisedDifference, 12);
  });

  it('names the segments from their dominant lenses and top behaviour', () => {
    expect(cards[0]!.name).toEqual({ en: 'Growth-stage small retailers · mobile-first', zh: '成长期小型零售企业 · 移动优先' });
    expect(cards[1]!.name).toEqual({ en: 'Mature retailers · rarely on mobile', zh: '成熟期零售企业 · 少用移动端' });
  });

  it('lists example customers nearest the centroid first', () => {
    expect(cards[0]!.exampleCustomerIds).toEqual(['c1', 'c3', 'c2', 'c0']);
    expect(cards[1]!.exampleCustomerIds).toEqual(['c9', 'c4', 'c5', 'c6', 'c7']);
    const { cards: noDistances } = mapSegments({ ...tenCustomers(), distances: undefined });
    expect(noDistances[1]!.exampleCustomerIds).toEqual(['c4', 'c5', 'c6', 'c7', 'c8']);
  });

  it('attaches the playbook of the dominant labels and the behaviour, citing its numbers', () => {
    // Growth-stage small retailers: the growth motion and edition (standard + 1); mobile-first,
    // so the mobile app, but no API channel: nobody's events go through the API.
    expect(cards[0]!.playbook).toMatchObject({
      play: 'expand',
      editionId: 'professional',
      deployment: 'cloud',
      leadModules: ['inventory', 'invoicing', 'multi_currency', 'tax', 'budgeting'],
      channels: ['mobile'],
    });
    const rules = cards[0]!.playbook.actions!.map((a) => a.rule);
    expect(rules).toEqual(['growing.add_ons', 'mobile.app', 'size.service']);
    // 4 of 4 in growth, whose base share is 0.4; mobile mean 0.8 against 3.9 / 10 over all
    expect(cards[0]!.playbook.actions![0]!.evidence[0]!.en).toBe('100% of customers in the growth lifecycle stage (2.5× the base)');
    expect(cards[0]!.playbook.actions![1]!.evidence[0]!.en).toBe('mobile carries 80% of events (base 39%)');
    expect(cards[0]!.playbook.service).not.toMatch(/sandbox/);
  });

  it('is deterministic', () => {
    expect(mapSegments(tenCustomers())).toEqual(mapSegments(tenCustomers()));
  });

  it('rejects mismatched inputs and out-of-range labels', () => {
    expect(() => mapSegments({ ...tenCustomers(), customerIds: ['c0'] })).toThrowError(/1 customer ids for 10 labels/);
    expect(() => mapSegments({ ...tenCustomers(), k: 1 })).toThrowError(/segment 1, outside \[0, 1\)/);
  });
});

describe('segment names', () => {
  const retailGrowth = { size: 'small', industry: 'retail', lifecycle: 'growth' };
  const seg = (id: number, distinguishing: [string, number][], dominant = retailGrowth): NamingInput => ({
    id,
    dominant,
    distinguishing: distinguishing.map(([feature, standardisedDifference]) => ({ feature, standardisedDifference })),
  });

  it('disambiguates equal names by the second distinguishing feature, then by id', () => {
    const names = nameSegments([
      seg(0, [['device_mobile_share', 2], ['refund_share', 1]]),
      seg(1, [['device_mobile_share', 1.5], ['txn_avg_size', -1]]),
      seg(2, [['device_mobile_share', 1.2]]),
      seg(3, [['device_mobile_share', 1.1]]),
      seg(4, [['usage_trend', -2], ['events_90', -1]], { size: 'micro', industry: 'retail', lifecycle: 'decline' }),
    ]);
    expect(names).toEqual([
      { en: 'Growth-stage small retailers · mobile-first · refund-heavy', zh: '成长期小型零售企业 · 移动优先 · 退款频繁' },
      { en: 'Growth-stage small retailers · mobile-first · small tickets', zh: '成长期小型零售企业 · 移动优先 · 小额交易' },
      { en: 'Growth-stage small retailers · mobile-first (segment 2)', zh: '成长期小型零售企业 · 移动优先（第2组）' },
      { en: 'Growth-stage small retailers · mobile-first (segment 3)', zh: '成长期小型零售企业 · 移动优先（第3组）' },
      // A trend is named only through a measured state fact, never from the sign of its mean alone.
      { en: 'Declining micro retailers · light usage', zh: '衰退期微型零售企业 · 轻度使用' },
    ]);
    expect(new Set(names.map((n) => n.en)).size).toBe(names.length);
    expect(new Set(names.map((n) => n.zh)).size).toBe(names.length);
  });

  it('uses a combined tag when its features distinguish together', () => {
    const platform = { size: 'medium', industry: 'platform_economy', lifecycle: 'mixed' };
    const [flood, plain] = nameSegments([
      seg(0, [['txn_count_90', 2.5], ['small_ticket_share', 1.4]], platform),
      seg(1, [['txn_count_90', 2.5], ['small_ticket_share', 0.3]], { ...platform, size: 'large' }),
    ]);
    expect(flood).toEqual({ en: 'Mid-size platform businesses · micro-transaction flood', zh: '中型平台企业 · 海量小额交易' });
    expect(plain).toEqual({ en: 'Large platform businesses · frequent transactions', zh: '大型平台企业 · 交易频繁' });
  });

  it('falls back to generic words when nothing dominates or stands out', () => {
    const mixed = { size: 'mixed', industry: 'unknown', lifecycle: 'mixed' };
    const [name] = nameSegments([seg(0, [['events_90', 0.3]], mixed)]);
    expect(name).toEqual({ en: 'Mixed-profile businesses · typical usage', zh: '混合型企业 · 常规使用' });
    const [noIndustry] = nameSegments([seg(0, [['recency_days', 1]], { size: 'large', industry: 'mixed', lifecycle: 'decline' })]);
    expect(noIndustry).toEqual({ en: 'Declining large businesses · gone quiet', zh: '衰退期大型企业 · 近期沉寂' });
  });

  it('has a bilingual tag for every catalog feature in both directions, and a generic one otherwise', () => {
    for (const f of FEATURE_NAMES) {
      for (const dir of ['high', 'low'] as const) {
        const tag = BEHAVIOUR_TAGS[f]?.[dir];
        expect(tag, `${f} ${dir}`).toBeDefined();
        expect(tag!.en.length).toBeGreaterThan(0);
        expect(tag!.zh.length).toBeGreaterThan(0);
      }
    }
    expect(behaviourTag('share_consolidation', 'high')).toEqual({ en: 'consolidation-heavy', zh: '合并报表为主' });
    expect(behaviourTag('nps_mean', 'low')).toEqual({ en: 'low nps_mean', zh: 'nps_mean偏低' });
  });
});

describe('playbookFor', () => {
  // The rules on a hand-made table, so every expected value below follows from the entries set
  // here and the rule, not from the shipped table: lead modules in the order industry, lifecycle,
  // size, technology, without repeats, capped; the edition shifted along the ladder and clamped;
  // an exclusive lifecycle leads with its own modules only; unknown or mixed labels use `default`.
  const bi = (en: string, zh: string) => ({ en, zh });
  const T: PlaybookTable = structuredClone(PLAYBOOK_TABLE);
  T.maxLeadModules = 4;
  T.editions = [{ id: 'bronze', ...bi('Bronze', '铜') }, { id: 'silver', ...bi('Silver', '银') }, { id: 'gold', ...bi('Gold', '金') }];
  for (const e of Object.values(T.size)) Object.assign(e, { edition: 'silver', modules: [] });
  Object.assign(T.size.small, { edition: 'silver', modules: ['tax', 'invoicing'] });
  Object.assign(T.size.large, { edition: 'gold' });
  Object.assign(T.size.micro, { edition: 'bronze' });
  for (const e of Object.values(T.lifecycle)) Object.assign(e, { editionShift: 0, modules: [], exclusiveModules: false });
  Object.assign(T.lifecycle.growth, { editionShift: 1, modules: ['budgeting'] });
  Object.assign(T.lifecycle.startup, { editionShift: -1, modules: ['invoicing'] });
  Object.assign(T.lifecycle.decline, { editionShift: -1, modules: ['general_ledger'], exclusiveModules: true });
  for (const e of Object.values(T.technology)) Object.assign(e, { deployment: 'hybrid', channels: [], modules: [] });
  Object.assign(T.technology.high, { deployment: 'cloud', channels: ['api'], modules: ['api'] });
  Object.assign(T.technology.low, { deployment: 'on_prem', channels: ['desktop'] });
  for (const e of Object.values(T.industry)) Object.assign(e, { modules: [], channels: ['web'] });
  Object.assign(T.industry.retail, { modules: ['inventory', 'invoicing'], channels: ['mobile', 'web'], why: bi('shops sell goods', '门店销售商品') });
  T.buyerRole.it = { message: bi('IT text', '信息部门文案') };
  T.buyerRole.default = { message: bi('Default text', '默认文案') };
  const base: DominantLenses = { size: 'small', industry: 'retail', lifecycle: 'growth', technology: 'high', buyerRole: 'it' };

  it('leads with industry, then lifecycle, size and technology modules, without repeats, capped', () => {
    // inventory, invoicing | budgeting | tax, (invoicing) | api → the first four
    const p = playbookFor(base, T);
    expect(p.leadModules).toEqual(['inventory', 'invoicing', 'budgeting', 'tax']);
    expect(p.channels).toEqual(['mobile', 'web', 'api']);
    expect(p.deployment).toBe('cloud');
    expect(playbookFor({ ...base, lifecycle: 'mature', size: 'medium' }, T).leadModules).toEqual(['inventory', 'invoicing', 'api']);
  });

  it('moves the edition with the lifecycle, clamped to the ladder', () => {
    expect(playbookFor(base, T)).toMatchObject({ editionId: 'gold', edition: 'Gold', zh: { edition: '金' } }); // silver + 1
    expect(playbookFor({ ...base, size: 'large' }, T).editionId).toBe('gold'); // gold + 1, clamped at the top
    expect(playbookFor({ ...base, size: 'micro', lifecycle: 'startup' }, T).editionId).toBe('bronze'); // bronze − 1, clamped at the bottom
    expect(playbookFor({ ...base, lifecycle: 'mature' }, T).editionId).toBe('silver');
  });

  it('keeps an exclusive lifecycle (decline) on its own modules, deployed as its technology says', () => {
    const p = playbookFor({ ...base, lifecycle: 'decline', technology: 'low' }, T);
    expect(p.leadModules).toEqual(['general_ledger']);
    expect(p.editionId).toBe('bronze');
    expect(p.deployment).toBe('on_prem');
    expect(p.channels).toEqual(['mobile', 'web', 'desktop']);
  });

  it('uses the default entries for mixed and unknown labels', () => {
    const p = playbookFor({ size: 'mixed', industry: 'mixed', lifecycle: 'mixed', technology: 'mixed', buyerRole: 'unknown' }, T);
    expect(p).toMatchObject({ editionId: 'silver', leadModules: [], channels: ['web'], deployment: 'hybrid', message: 'Default text' });
  });

  it('speaks to the buyer role and gives the reasons, in English and Chinese', () => {
    const p = playbookFor(base, T);
    expect([p.message, p.zh.message]).toEqual(['IT text', '信息部门文案']);
    expect(p.rationale).toContain('industry retail: shops sell goods');
    expect(p.zh.rationale).toContain('行业：门店销售商品');
  });

  it('gives every combination of the shipped table a valid playbook that follows the same rules', () => {
    const ladder = PLAYBOOK_TABLE.editions.map((e) => e.id);
    const keys = <K extends string>(r: Record<K, unknown>) => [...(Object.keys(r) as K[]).filter((k) => k !== 'default'), 'mixed'] as const;
    let combinations = 0;
    for (const size of keys(PLAYBOOK_TABLE.size)) {
      for (const industry of keys(PLAYBOOK_TABLE.industry)) {
        for (const lifecycle of keys(PLAYBOOK_TABLE.lifecycle)) {
          for (const technology of keys(PLAYBOOK_TABLE.technology)) {
            const dominant = { size, industry, lifecycle, technology, buyerRole: 'finance' } as DominantLenses;
            const p = playbookFor(dominant);
            const entry = <E,>(r: Record<string, E>, label: string) => r[label] ?? r['default']!;
            const life = entry(PLAYBOOK_TABLE.lifecycle, lifecycle);
            const from = ladder.indexOf(entry(PLAYBOOK_TABLE.size, size).edition);
            expect(ladder.indexOf(p.editionId)).toBe(Math.min(ladder.length - 1, Math.max(0, from + life.editionShift)));
            expect(new Set(p.leadModules).size).toBe(p.leadModules.length);
            expect(p.leadModules.length).toBeLessThanOrEqual(PLAYBOOK_TABLE.maxLeadModules);
            for (const m of p.leadModules) expect(MODULES).toContain(m);
            const industryModules = [...new Set(entry(PLAYBOOK_TABLE.industry, industry).modules)].slice(0, PLAYBOOK_TABLE.maxLeadModules);
            expect(p.leadModules.slice(0, industryModules.length)).toEqual(life.exclusiveModules ? life.modules.slice(0, industryModules.length) : industryModules);
            expect(p.deployment).toBe(entry(PLAYBOOK_TABLE.technology, technology).deployment);
            combinations++;
          }
        }
      }
    }
    expect(combinations).toBeGreaterThan(100);
  });

  it('fills the lead modules up to the table limit when the lenses offer enough', () => {
    const p = playbookFor({ size: 'large', industry: 'manufacturing', lifecycle: 'growth', technology: 'high', buyerRole: 'executive' });
    expect(p.leadModules.length).toBe(PLAYBOOK_TABLE.maxLeadModules);
  });
});
