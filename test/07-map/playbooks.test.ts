import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../pipeline/config/config.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import type { CustomerLenses } from '../../pipeline/06-categorize/lenses.ts';
import { PLAYBOOK_TABLE, playbookFor, type DominantLenses } from '../../pipeline/07-map/playbooks.ts';
import { parsePlaybookTable } from '../../pipeline/07-map/params.ts';
import { dominantLensesOf, recommendCustomers, recommendFor } from '../../pipeline/07-map/recommend.ts';

/** The thrown InputError of `f`, for checking its message and listed problems. */
function inputError(f: () => unknown): InputError {
  try {
    f();
  } catch (e) {
    if (e instanceof InputError) return e;
    throw e;
  }
  throw new Error('expected an InputError');
}

describe('the playbooks config slice', () => {
  it('defaults to the seed table, without sharing objects with it', () => {
    const t = parsePlaybookTable(undefined);
    expect(t).toEqual(PLAYBOOK_TABLE);
    t.size.small.modules.push('api');
    expect(PLAYBOOK_TABLE.size.small.modules).toEqual(['general_ledger', 'invoicing', 'tax']);
    expect(parseConfig({}).playbooks).toEqual(PLAYBOOK_TABLE);
  });

  it('lets a vendor rename and add editions, and change modules and messages, without code', () => {
    const t = parsePlaybookTable({
      editions: [
        { id: 'starter', en: 'Starter', zh: '入门版' },
        { id: 'standard', en: 'Standard', zh: '标准版' },
        { id: 'professional', en: 'Professional', zh: '专业版' },
        { id: 'enterprise', en: 'Enterprise', zh: '企业版' },
        { id: 'group', en: 'Group', zh: '集团版' },
      ],
      size: { micro: { edition: 'starter' }, large: { edition: 'group', modules: ['consolidation', 'api'] } },
      industry: { retail: { modules: ['inventory', 'reporting'] } },
      buyerRole: { executive: { message: { en: 'Group-wide numbers in one place', zh: '集团数据一处掌握' } } },
    });
    const base: DominantLenses = { size: 'large', industry: 'retail', lifecycle: 'mature', technology: 'medium', buyerRole: 'executive' };
    const large = playbookFor(base, t);
    expect(large).toMatchObject({ editionId: 'group', edition: 'Group', leadModules: ['inventory', 'reporting', 'consolidation', 'api'], message: 'Group-wide numbers in one place' });
    expect(large.zh).toMatchObject({ edition: '集团版', message: '集团数据一处掌握' });
    // growth steps one rung up from starter; startup one down, clamped at the bottom
    expect(playbookFor({ ...base, size: 'micro', lifecycle: 'growth' }, t).editionId).toBe('standard');
    expect(playbookFor({ ...base, size: 'micro', lifecycle: 'startup' }, t).editionId).toBe('starter');
    expect(playbookFor({ ...base, lifecycle: 'growth' }, t).editionId).toBe('group');
    // untouched entries keep their defaults, texts merge per language
    expect(t.size.small).toEqual(PLAYBOOK_TABLE.size.small);
    expect(parsePlaybookTable({ size: { small: { service: { en: 'Phone support' } } } }).size.small.service).toEqual({ en: 'Phone support', zh: '友好界面与在线支持' });
  });

  it('names the key of an unknown setting or a wrong type', () => {
    expect(() => parsePlaybookTable({ size: { tiny: { edition: 'standard' } } })).toThrowError(/playbooks\.size\.tiny: unknown setting/);
    expect(() => parsePlaybookTable({ size: { small: { editon: 'standard' } } })).toThrowError(/playbooks\.size\.small\.editon: unknown setting/);
    expect(() => parsePlaybookTable({ maxLeadModules: '5' })).toThrowError(/playbooks\.maxLeadModules: expected an integer >= 1, got "5"/);
    expect(() => parsePlaybookTable({ industry: { retail: { modules: 'inventory' } } })).toThrowError(/playbooks\.industry\.retail\.modules: expected a list of module ids, got "inventory"/);
  });

  it('checks ids against the ladder, the module catalog, channels and deployments, listing every problem', () => {
    const e = inputError(() =>
      parsePlaybookTable({
        size: { micro: { edition: 'starter' } },
        industry: { retail: { modules: ['inventory', 'pos'], channels: ['fax'] } },
        technology: { low: { deployment: 'mainframe' } },
        lifecycle: { growth: { editionShift: 1.5 } },
        buyerRole: { it: { message: { en: 'Secure', zh: '' } } },
        maxLeadModules: 0,
      }),
    );
    expect(e.message).toBe('config: playbooks.maxLeadModules: expected an integer >= 1, got 0');
    expect(e.detail).toEqual([
      'and 6 more problems:',
      'playbooks.lifecycle.growth.editionShift: expected a whole number of steps on the edition ladder, got 1.5',
      'playbooks.technology.low.deployment: expected a deployment (one of cloud, on_prem, hybrid), got "mainframe"',
      expect.stringMatching(/^playbooks\.industry\.retail\.modules\[1\]: expected a module \(one of general_ledger, .*\), got "pos"$/),
      'playbooks.industry.retail.channels[0]: expected a channel (one of web, desktop, mobile, api), got "fax"',
      'playbooks.buyerRole.it.message.zh: expected a non-empty string, got ""',
      'playbooks.size.micro.edition: expected an edition id from playbooks.editions (one of basic_cloud, standard, professional, enterprise), got "starter"',
    ]);
  });

  it('checks the edition ladder itself', () => {
    expect(() => parsePlaybookTable({ editions: [] })).toThrowError(/playbooks\.editions: expected at least one edition \(the ladder, cheapest first\), got \[\]/);
    const e = inputError(() => parsePlaybookTable({ editions: [{ id: 'a', en: 'A', zh: '甲' }, { id: 'a', en: 'B' }] }));
    expect(e.message).toBe('config: playbooks.editions[1].zh: expected a value, got nothing');
    expect(e.detail).toContain('playbooks.editions[1].id: expected an edition id not used before, got "a"');
    // the default size entries name editions the new ladder lacks
    expect(e.detail).toContain('playbooks.size.micro.edition: expected an edition id from playbooks.editions (one of a), got "basic_cloud"');
  });

  it('accepts the example override of docs/lenses.md', () => {
    const doc = readFileSync(resolve(import.meta.dirname, '../../docs/lenses.md'), 'utf8');
    const example = /```json\n([\s\S]*?)```/.exec(doc)![1]!;
    const t = parseConfig(JSON.parse(example)).playbooks;
    expect(t.editions.map((e) => e.id)).toEqual(['starter', 'standard', 'professional', 'enterprise', 'group']);
    expect(playbookFor({ size: 'large', industry: 'mixed', lifecycle: 'mature', technology: 'high', buyerRole: 'executive' }, t)).toMatchObject({ editionId: 'group', message: 'Group-wide numbers in one place' });
  });

  it('is validated by parseConfig, naming the config file', () => {
    expect(() => parseConfig({ playbooks: { size: { micro: { edition: 'gold' } } } }, 'vendor.json')).toThrowError(/^vendor\.json: playbooks\.size\.micro\.edition: expected an edition id from playbooks\.editions/);
  });
});

describe('per-customer recommendation', () => {
  const segment: DominantLenses = { size: 'small', industry: 'retail', lifecycle: 'mature', technology: 'high', buyerRole: 'owner' };
  const own = (o: Partial<Record<keyof DominantLenses, string>>) => ({ size: 'unknown', industry: 'unknown', lifecycle: 'unknown', technology: 'unknown', buyerRole: 'unknown', ...o });

  it('is the segment playbook when the customer has no labels of its own', () => {
    const r = recommendFor(segment, own({}));
    const p = playbookFor(segment);
    expect(r).toEqual({ editionId: p.editionId, deployment: p.deployment, leadModules: p.leadModules, fromSegment: ['size', 'industry', 'lifecycle', 'technology', 'buyerRole'] });
    expect(r).toMatchObject({ editionId: 'standard', deployment: 'cloud', leadModules: ['inventory', 'invoicing', 'reporting', 'general_ledger', 'tax'] });
  });

  it("follows the customer's own size, industry and technology, topping up modules from the segment", () => {
    // A large, low-technology manufacturer that behaves like small mobile retailers.
    const r = recommendFor(segment, own({ size: 'large', industry: 'manufacturing', technology: 'low', buyerRole: 'finance' }));
    expect(r.editionId).toBe('enterprise');
    expect(r.deployment).toBe('on_prem');
    // own: manufacturing, mature, large (5 already) — nothing left to top up
    expect(r.leadModules).toEqual(['inventory', 'project_costing', 'reporting', 'consolidation', 'multi_currency']);
    expect(r.fromSegment).toEqual(['lifecycle']);
    const healthcare = recommendFor({ ...segment, industry: 'mixed', size: 'mixed' }, own({ industry: 'healthcare', lifecycle: 'mature' }));
    // own healthcare and mature; size default, and technology high from the segment (so the API)
    expect(healthcare.leadModules).toEqual(['compliance', 'payroll', 'reporting', 'general_ledger', 'api']);
    expect(healthcare.fromSegment).toEqual(['size', 'technology', 'buyerRole']);
  });

  it('sells a declining customer nothing new, whatever its segment', () => {
    const r = recommendFor(segment, own({ lifecycle: 'decline', size: 'medium' }));
    expect(r.leadModules).toEqual(['general_ledger', 'receivables_payables']);
    expect(r.editionId).toBe('professional');
  });

  it('scores a batch columnar, sharing work between equal customers', () => {
    const lenses: CustomerLenses = {
      size: ['micro', 'large', 'micro'],
      industry: ['retail', 'unknown', 'retail'],
      lifecycle: ['startup', 'mature', 'startup'],
      technology: ['high', 'low', 'high'],
      buyerRole: ['owner', 'it', 'owner'],
    };
    const cards = [segment, { ...segment, industry: 'construction' as const }].map((d) => ({ lenses: Object.entries(d).map(([lens, dominant]) => ({ lens: lens as keyof DominantLenses, dominant })) }));
    const recs = recommendCustomers(Int32Array.from([0, 1, 0]), lenses, cards.map(dominantLensesOf));
    expect(recs.editionId).toEqual(['basic_cloud', 'enterprise', 'basic_cloud']);
    expect(recs.deployment).toEqual(['cloud', 'on_prem', 'cloud']);
    expect(recs.leadModules[1]).toEqual(['contracts', 'project_costing', 'reporting', 'consolidation', 'multi_currency']);
    expect(recs.fromSegment).toEqual([[], ['industry'], []]);
    expect(recs.leadModules[0]).toBe(recs.leadModules[2]);
    expect(() => recommendCustomers(Int32Array.from([2, 0, 0]), lenses, cards.map(dominantLensesOf))).toThrowError(/customer 0 has segment 2, the model has 2/);
  });
});
