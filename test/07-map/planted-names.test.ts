import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingest } from '../../pipeline/01-ingest/ingest.ts';
import { computeFeatures } from '../../pipeline/02-features/features.ts';
import { categorize } from '../../pipeline/06-categorize/lenses.ts';
import { defaultLensParams } from '../../pipeline/06-categorize/params.ts';
import { PLAYBOOK_TABLE } from '../../pipeline/07-map/playbooks.ts';
import { mapSegments, type SegmentCard } from '../../pipeline/07-map/segments.ts';
import { defaultConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { ARCHETYPE_NAMES, type ArchetypeName } from '../../pipeline/generate/archetypes.ts';
import { defaultGenerateParams, generateDataset } from '../../pipeline/generate/generate.ts';
import { lensInputFrom } from '../../pipeline/model/lens-input.ts';

/**
 * The map stage on generated data, with the planted archetypes themselves as the segments, so
 * what is tested is the lenses, composition and naming, not how well k-means finds the archetypes.
 */
const dir = mkdtempSync(join(tmpdir(), 'finseg-names-'));
let cards: SegmentCard[];
let cramers: Record<string, number>;
const card = (a: ArchetypeName) => cards[ARCHETYPE_NAMES.indexOf(a)]!;
const dominant = (a: ArchetypeName, lens: string) => card(a).lenses.find((l) => l.lens === lens)!;

beforeAll(async () => {
  await generateDataset(dir, { ...defaultGenerateParams, customers: 6000, seed: 5 }, 'parquet', quietLogger);
  const conn = await openDuck();
  try {
    const ingested = await ingest(conn, dir, defaultConfig().ingest, null, quietLogger);
    const features = await computeFeatures(conn, ingested.asOf, defaultConfig().features, ingested.absentTables);
    const truth = new Map(
      readFileSync(join(dir, 'truth.csv'), 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((line) => line.split(',') as [string, ArchetypeName]),
    );
    const labels = Int32Array.from(features.customerIds, (id) => ARCHETYPE_NAMES.indexOf(truth.get(id)!));
    const mapped = mapSegments({
      labels,
      k: ARCHETYPE_NAMES.length,
      lenses: categorize(lensInputFrom(features), defaultLensParams),
      features: features.X,
      featureNames: features.featureNames,
      customerIds: features.customerIds,
    });
    cards = mapped.cards;
    cramers = mapped.cramersV;
  } finally {
    conn.closeSync();
  }
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('segments named from their lenses and behaviour (planted archetypes as segments)', () => {
  it('names the multinational groups large, with multi-currency behaviour, in English and Chinese', () => {
    expect(dominant('multinational_group', 'size')).toMatchObject({ dominant: 'large' });
    expect(dominant('multinational_group', 'size').lift).toBeGreaterThan(5);
    expect(card('multinational_group').name.en).toMatch(/^Mature large businesses · .*currenc/);
    expect(card('multinational_group').name.zh).toMatch(/^成熟期大型企业 · .*多币种/);
  });

  it('names the platform businesses as such', () => {
    expect(dominant('platform_business', 'industry')).toMatchObject({ dominant: 'platform_economy' });
    expect(card('platform_business').name.en).toMatch(/platform businesses · /);
    expect(card('platform_business').name.zh).toMatch(/平台企业 · /);
  });

  it('names the small mobile retailers, the new micro service firms and the clinics in the seed’s terms', () => {
    expect(card('small_retail_mobile').name).toMatchObject({ en: expect.stringMatching(/retailers · /), zh: expect.stringMatching(/零售企业 · /) });
    expect(card('new_micro_services').name.en).toMatch(/^Early-stage micro service firms · /);
    expect(card('new_micro_services').name.zh).toMatch(/^初创期微型服务企业 · /);
    expect(card('clinic').name.en).toMatch(/healthcare providers · compliance & payroll$/);
    expect(card('construction_contractor').name.en).toMatch(/construction firms · contracts & project costing$/);
  });

  it('calls the planted declining firms declining and the growing SMEs growth-stage (over half of each)', () => {
    expect(dominant('declining_firm', 'lifecycle').dominant).toBe('decline');
    expect(dominant('declining_firm', 'lifecycle').dominantShare).toBeGreaterThan(0.5);
    expect(card('declining_firm').name).toEqual({ en: 'Declining mid-size businesses · desktop-bound', zh: '衰退期中型企业 · 桌面端为主' });
    expect(dominant('growing_sme', 'lifecycle').dominant).toBe('growth');
    expect(dominant('growing_sme', 'lifecycle').dominantShare).toBeGreaterThan(0.5);
    expect(card('growing_sme').name).toEqual({ en: 'Growth-stage small businesses · heavy users of multi-currency', zh: '成长期小型企业 · 重度使用多币种' });
  });

  it('gives every segment a distinct name in both languages, and a lens association between 0 and 1', () => {
    expect(new Set(cards.map((c) => c.name.en)).size).toBe(cards.length);
    expect(new Set(cards.map((c) => c.name.zh)).size).toBe(cards.length);
    for (const v of Object.values(cramers)) expect(v).toBeGreaterThan(0.2);
    for (const v of Object.values(cramers)) expect(v).toBeLessThanOrEqual(1);
  });

  it('gives segments that behave differently different playbooks, and no default message to more than one', () => {
    expect(new Set(cards.map((c) => c.playbook.message)).size).toBe(cards.length);
    expect(new Set(cards.map((c) => c.playbook.zh.message)).size).toBe(cards.length);
    const fallback = PLAYBOOK_TABLE.buyerRole.default.message.en;
    expect(cards.filter((c) => c.playbook.message.includes(fallback)).length).toBeLessThanOrEqual(1);
    const behaviour = (c: SegmentCard) => JSON.stringify(c.behaviour.facts.map((f) => [f.kind, f.features]));
    const playbook = (c: SegmentCard) => JSON.stringify([c.playbook.play, c.playbook.actions!.map((a) => a.rule), c.playbook.leadModules, c.playbook.editionId]);
    for (const a of cards) for (const b of cards) if (a !== b && behaviour(a) !== behaviour(b)) expect(playbook(a)).not.toBe(playbook(b));
    // every action cites numbers
    for (const c of cards) for (const a of c.playbook.actions!) expect(a.evidence.some((e) => /\d/.test(e.en) && /\d/.test(e.zh))).toBe(true);
  });

  it('retains the declining firms without selling, and offers no sandbox to the mobile retailers', () => {
    const declining = card('declining_firm').playbook;
    expect(declining.play).toBe('retain');
    expect(declining.actions!.some((a) => a.sells)).toBe(false);
    expect(declining.service).not.toMatch(/paid implementation service/);
    const mobile = card('small_retail_mobile').playbook;
    expect(mobile.service).not.toMatch(/sandbox/);
    expect(mobile.leadModules).not.toContain('api');
    expect(mobile.channels).not.toContain('api');
    expect(card('growing_sme').playbook.play).toBe('expand');
  });
});
