import { describe, expect, it } from 'vitest';
import { LENS_RULES_MARKDOWN, categorize, type LensInput } from '../../pipeline/06-categorize/lenses.ts';
import { defaultLensParams, parseLensParams, type LensParams } from '../../pipeline/06-categorize/params.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { INDUSTRY_CODES } from '../../pipeline/generate/archetypes.ts';

/** One customer per entry of `overrides`; anything not given is missing (NaN / null). */
interface Customer {
  industry?: string | null;
  employees?: number;
  annualRevenue?: number;
  foundedYear?: number;
  deployment?: string | null;
  buyerRole?: string | null;
  tenureDays?: number;
  usageTrend?: number;
  volumeTrend?: number;
  events90?: number;
  recencyDays?: number;
  mobileShare?: number;
  apiShare?: number;
  moduleBreadth?: number;
}

const AS_OF = '2024-06-30';

function input(customers: Customer[]): LensInput {
  const num = (key: keyof Customer) => Float64Array.from(customers, (c) => (c[key] as number | undefined) ?? Number.NaN);
  const str = (key: keyof Customer) => customers.map((c) => (c[key] as string | null | undefined) ?? null);
  return {
    asOf: AS_OF,
    industry: str('industry'),
    employees: num('employees'),
    annualRevenue: num('annualRevenue'),
    foundedYear: num('foundedYear'),
    deployment: str('deployment'),
    buyerRole: str('buyerRole'),
    tenureDays: num('tenureDays'),
    usageTrend: num('usageTrend'),
    volumeTrend: num('volumeTrend'),
    events90: num('events90'),
    recencyDays: num('recencyDays'),
    mobileShare: num('mobileShare'),
    apiShare: num('apiShare'),
    moduleBreadth: num('moduleBreadth'),
  };
}

const lens = (customers: Customer[], params: LensParams = defaultLensParams) => categorize(input(customers), params);

describe('size lens', () => {
  it('bands head count at the inclusive ceilings 9 / 49 / 249', () => {
    const employees = [0, 9, 10, 49, 50, 249, 250, 10_000];
    expect(lens(employees.map((e) => ({ employees: e }))).size).toEqual(['micro', 'micro', 'small', 'small', 'medium', 'medium', 'large', 'large']);
  });

  it('uses the revenue band when head count is missing', () => {
    const revenue = [0, 15_000, 15_001, 80_000, 80_001, 400_000, 400_001];
    expect(lens(revenue.map((r) => ({ annualRevenue: r }))).size).toEqual(['micro', 'micro', 'small', 'small', 'medium', 'medium', 'large']);
  });

  it('takes the larger band when both are known', () => {
    expect(lens([{ employees: 5, annualRevenue: 100_000 }, { employees: 300, annualRevenue: 1_000 }, { employees: 20, annualRevenue: 20_000 }]).size).toEqual([
      'medium',
      'large',
      'small',
    ]);
  });

  it('is unknown when both are missing, and treats a negative value as missing', () => {
    expect(lens([{}, { employees: -1 }, { employees: -1, annualRevenue: 90_000 }]).size).toEqual(['unknown', 'unknown', 'medium']);
  });

  it('follows configured ceilings', () => {
    const params = parseLensParams({ size: { microMaxEmployees: 19, smallMaxEmployees: 299, mediumMaxEmployees: 999 } });
    expect(lens([{ employees: 19 }, { employees: 20 }, { employees: 300 }, { employees: 1000 }], params).size).toEqual(['micro', 'small', 'medium', 'large']);
  });
});

describe('industry lens', () => {
  it('maps names and NAICS sector codes, ignoring case, spacing and dash style', () => {
    const codes = ['Retail', 'RETAIL TRADE', '  health   care ', '31-33', '31 – 33', '44', '23', '62', '54', '56', '81', 'Sharing Economy', '制造业'];
    expect(lens(codes.map((industry) => ({ industry }))).industry).toEqual([
      'retail',
      'retail',
      'healthcare',
      'manufacturing',
      'manufacturing',
      'retail',
      'construction',
      'healthcare',
      'services',
      'services',
      'services',
      'platform_economy',
      'manufacturing',
    ]);
  });

  it('falls back from a detailed NAICS code to its sector, unless switched off', () => {
    const customers = [{ industry: '311110' }, { industry: '4451' }, { industry: '621' }];
    expect(lens(customers).industry).toEqual(['manufacturing', 'retail', 'healthcare']);
    expect(lens(customers, parseLensParams({ industryNaicsFallback: false })).industry).toEqual(['other', 'other', 'other']);
  });

  it('sends an unmapped code to other and a missing one to unknown', () => {
    expect(lens([{ industry: 'Underwater basket weaving' }, { industry: '99' }, { industry: null }, { industry: '  ' }]).industry).toEqual([
      'other',
      'other',
      'unknown',
      'unknown',
    ]);
  });

  it('lets user codes extend and override the default table', () => {
    const params = parseLensParams({ industryMap: { Fintech: 'platform_economy', RETAIL: 'other' } });
    expect(lens([{ industry: 'fintech' }, { industry: 'Retail' }, { industry: 'Construction' }], params).industry).toEqual(['platform_economy', 'other', 'construction']);
  });

  it('maps every raw code the synthetic generator writes to the industry it means', () => {
    const result = lens(INDUSTRY_CODES.map((c) => ({ industry: c.code }))).industry;
    expect(result).toEqual(INDUSTRY_CODES.map((c) => c.industry));
  });
});

describe('lifecycle lens', () => {
  it('calls a company of at most 3 years a startup whatever its trend', () => {
    // as-of year 2024: founded 2021 → age 3, founded 2020 → age 4
    const result = lens([
      { foundedYear: 2021, usageTrend: -1, volumeTrend: -1 },
      { foundedYear: 2020, usageTrend: 0, volumeTrend: 0 },
    ]).lifecycle;
    expect(result).toEqual(['startup', 'mature']);
  });

  // An established firm with plenty of recent usage: only the trends vary below.
  const old = { foundedYear: 2000, events90: 40, recencyDays: 2, tenureDays: 2000 };

  it('calls growth at a usage trend of 0.35 and decline at −0.65, mature in between', () => {
    const result = lens([
      { ...old, usageTrend: 0.35, volumeTrend: 0 },
      { ...old, usageTrend: 0.34, volumeTrend: 0 },
      { ...old, usageTrend: -0.65, volumeTrend: 0 },
      { ...old, usageTrend: -0.64, volumeTrend: 0 },
      { ...old, usageTrend: 0.2, volumeTrend: 3 }, // volume alone never calls growth
      { ...old, usageTrend: -0.2, volumeTrend: -3 },
    ]).lifecycle;
    expect(result).toEqual(['growth', 'mature', 'decline', 'mature', 'mature', 'mature']);
  });

  it('lets a volume trend beyond ±1 veto the usage call it contradicts', () => {
    const result = lens([
      { ...old, usageTrend: 0.5, volumeTrend: -1 },
      { ...old, usageTrend: 0.5, volumeTrend: -1.01 },
      { ...old, usageTrend: -0.8, volumeTrend: 1 },
      { ...old, usageTrend: -0.8, volumeTrend: 1.01 },
      { ...old, usageTrend: 0.5, volumeTrend: Number.NaN }, // no transactions data: usage alone
    ]).lifecycle;
    expect(result).toEqual(['growth', 'mature', 'decline', 'mature', 'growth']);
  });

  it('needs 20 usage events over the two windows before calling growth', () => {
    // usage_trend = ln((e90 + 1) / (ePrev + 1)), so ePrev is recovered from the two
    const result = lens([
      { ...old, events90: 12, usageTrend: Math.log(13 / 9) }, // 12 + 8 = 20 events, trend 0.37
      { ...old, events90: 12, usageTrend: Math.log(13 / 8) }, // 12 + 7 = 19 events, trend 0.49
      { ...old, events90: 1, usageTrend: Math.log(2 / 1) }, // one event after none: trend 0.69 on 1 event
    ]).lifecycle;
    expect(result).toEqual(['growth', 'mature', 'mature']);
  });

  it('calls a customer quiet for 30 days or more declining whatever its trend', () => {
    const result = lens([
      { ...old, recencyDays: 30, usageTrend: 0.5, volumeTrend: 0.5 },
      { ...old, recencyDays: 29, usageTrend: 0.5, volumeTrend: 0.5 },
      { ...old, recencyDays: 400, events90: 0, usageTrend: 0, volumeTrend: 0 }, // quiet for over a year
    ]).lifecycle;
    expect(result).toEqual(['decline', 'growth', 'decline']);
  });

  it('has no lifecycle for an established firm that never used the product (recency reaches back to signup)', () => {
    const result = lens([
      { foundedYear: 2000, tenureDays: 45, recencyDays: 45, events90: 0, usageTrend: 0, volumeTrend: 0 },
      { foundedYear: 2000, tenureDays: 45, recencyDays: 44, events90: 0, usageTrend: -0.7, volumeTrend: 0 }, // used once, quiet since
      { foundedYear: 2022, tenureDays: 45, recencyDays: 45, events90: 0, usageTrend: 0, volumeTrend: 0 }, // young: startup by age
    ]).lifecycle;
    expect(result).toEqual(['unknown', 'decline', 'startup']);
  });

  // Transactions alone have thresholds of their own (invoice volume swings more than usage):
  // +0.7 / −1, with no count minimum when counts are not given.
  it('falls back to the volume trend, with its own thresholds, when there is no usage data', () => {
    const noUsage = { foundedYear: 2000, tenureDays: 2000 };
    const result = lens([{ ...noUsage, volumeTrend: 0.7 }, { ...noUsage, volumeTrend: -1 }, { ...noUsage, volumeTrend: 0.69 }, { ...noUsage, volumeTrend: -0.99 }]).lifecycle;
    expect(result).toEqual(['growth', 'decline', 'mature', 'mature']);
  });

  it('follows configured lifecycle thresholds', () => {
    const params = parseLensParams({ lifecycle: { growthMinTrend: 0.1, declineMaxTrend: -0.1, growthMinEvents: 0, volumeVeto: 0.5, quietDays: 10 } });
    const result = lens(
      [
        { ...old, usageTrend: 0.1, volumeTrend: -0.5 },
        { ...old, usageTrend: 0.1, volumeTrend: -0.6 },
        { ...old, usageTrend: -0.1, volumeTrend: 0 },
        { ...old, recencyDays: 10, usageTrend: 0, volumeTrend: 0 },
      ],
      params,
    ).lifecycle;
    expect(result).toEqual(['growth', 'mature', 'decline', 'decline']);
  });

  it('uses tenure as age without a founded year, and only when configured to', () => {
    const customers = [
      { tenureDays: 365, usageTrend: 0, volumeTrend: 0 },
      { tenureDays: 4 * 365.25, usageTrend: 0, volumeTrend: 0 },
      { foundedYear: 2030, tenureDays: 100, usageTrend: 0, volumeTrend: 0 },
    ];
    expect(lens(customers).lifecycle).toEqual(['startup', 'mature', 'startup']);
    expect(lens(customers, parseLensParams({ lifecycle: { ageFromTenureWhenFoundedMissing: false } })).lifecycle).toEqual(['mature', 'mature', 'mature']);
  });

  it('is unknown when no trend is known for a company that is not a startup', () => {
    expect(lens([{ foundedYear: 2000 }, { foundedYear: 2023 }, {}]).lifecycle).toEqual(['unknown', 'startup', 'unknown']);
  });
});

describe('technology lens', () => {
  it('scores deployment, mobile + API share and module breadth', () => {
    const result = lens([
      { deployment: 'cloud', mobileShare: 0.3, apiShare: 0.2, moduleBreadth: 7 }, // 1 + 1 + 1 = 3
      { deployment: 'cloud', mobileShare: 0.4, apiShare: 0, moduleBreadth: 3 }, // 1 + 1 + 0 = 2 (at highMinPoints)
      { deployment: 'cloud', mobileShare: 0.39, apiShare: 0, moduleBreadth: 3 }, // 1 + 0 + 0 = 1
      { deployment: 'hybrid', mobileShare: 0.2, apiShare: 0, moduleBreadth: 3 }, // 0
      { deployment: 'on_prem', mobileShare: 0.2, apiShare: 0, moduleBreadth: 3 }, // −1 (at lowMaxPoints)
      { deployment: 'hybrid', mobileShare: 0.05, apiShare: 0.05, moduleBreadth: 2 }, // 0 − 1 − 1 = −2
    ]).technology;
    expect(result).toEqual(['high', 'high', 'medium', 'medium', 'low', 'low']);
  });

  it('reads the usage signals only from 5 usage events in the window on (breadth 0 of no usage is no signal)', () => {
    const result = lens([
      { deployment: 'cloud', events90: 0, moduleBreadth: 0 }, // +1 only
      { deployment: 'cloud', events90: 4, mobileShare: 0, apiShare: 0, moduleBreadth: 1 }, // +1 only
      { deployment: 'cloud', events90: 5, mobileShare: 0, apiShare: 0, moduleBreadth: 1 }, // +1 − 1 − 1
      { deployment: 'on_prem', events90: 0, moduleBreadth: 0 }, // −1 only
    ]).technology;
    expect(result).toEqual(['medium', 'medium', 'low', 'low']);
    const everyEvent = parseLensParams({ technology: { minUsageEvents: 0 } });
    expect(lens([{ deployment: 'cloud', events90: 0, moduleBreadth: 0 }], everyEvent).technology).toEqual(['medium']); // +1 − 1
  });

  it('normalises the deployment spelling and skips missing signals', () => {
    const result = lens([
      { deployment: ' On-Prem ', mobileShare: 0.0, apiShare: 0.0, moduleBreadth: 3 }, // −1 − 1 = −2
      { deployment: null, moduleBreadth: 8 }, // +1
      { deployment: 'mainframe', mobileShare: 0.5 }, // +1 (unrecognised deployment is no signal)
      {},
    ]).technology;
    expect(result).toEqual(['low', 'medium', 'medium', 'unknown']);
  });
});

describe('buyer role lens', () => {
  it('keeps the contract roles and marks missing or unrecognised ones unknown', () => {
    const roles = ['finance', 'IT', ' Owner ', 'executive', 'other', null, 'cfo'];
    expect(lens(roles.map((buyerRole) => ({ buyerRole }))).buyerRole).toEqual(['finance', 'it', 'owner', 'executive', 'other', 'unknown', 'unknown']);
  });
});

describe('categorize input checks', () => {
  it('rejects columns of different lengths, naming the column', () => {
    const bad = { ...input([{}, {}]), usageTrend: new Float64Array(1) };
    expect(() => categorize(bad, defaultLensParams)).toThrowError(/usageTrend has 1 values, employees has 2/);
  });
});

describe('parseLensParams', () => {
  it('gives the defaults for no overrides, without sharing objects with them', () => {
    const p = parseLensParams(undefined);
    expect(p).toEqual(defaultLensParams);
    p.size.microMaxEmployees = 1;
    expect(defaultLensParams.size.microMaxEmployees).toBe(9);
  });

  it('merges overrides over the defaults', () => {
    const p = parseLensParams({ size: { microMaxEmployees: 5 }, technology: { deploymentPoints: { hybrid: 1 } } });
    expect(p.size.microMaxEmployees).toBe(5);
    expect(p.size.smallMaxEmployees).toBe(49);
    expect(p.technology.deploymentPoints).toEqual({ cloud: 1, hybrid: 1, on_prem: -1 });
  });

  it('rejects unknown keys and wrong types, naming the key', () => {
    expect(() => parseLensParams({ size: { microMax: 5 } })).toThrowError(InputError);
    expect(() => parseLensParams({ size: { microMax: 5 } })).toThrowError(/lenses\.size\.microMax: unknown setting/);
    expect(() => parseLensParams({ size: { smallMaxEmployees: '49' } })).toThrowError(/lenses\.size\.smallMaxEmployees: expected a number >= 0, got "49"/);
    expect(() => parseLensParams({ lifecycle: 3 })).toThrowError(/lenses\.lifecycle: expected an object, got 3/);
  });

  it('rejects thresholds out of order or out of range, naming the key', () => {
    expect(() => parseLensParams({ size: { smallMaxEmployees: 5 } })).toThrowError(/lenses\.size\.smallMaxEmployees: expected more than microMaxEmployees \(9\), got 5/);
    expect(() => parseLensParams({ lifecycle: { growthMinTrend: -0.7 } })).toThrowError(/lenses\.lifecycle\.growthMinTrend: expected more than declineMaxTrend \(-0\.65\), got -0\.7/);
    expect(() => parseLensParams({ lifecycle: { quietDays: 0 } })).toThrowError(/lenses\.lifecycle\.quietDays: expected a number >= 1, got 0/);
    expect(() => parseLensParams({ lifecycle: { volumeVeto: -1 } })).toThrowError(/lenses\.lifecycle\.volumeVeto: expected a number >= 0, got -1/);
    expect(() => parseLensParams({ technology: { highMinDigitalShare: 1.5 } })).toThrowError(/lenses\.technology\.highMinDigitalShare: expected a number in \[0, 1\], got 1\.5/);
    expect(() => parseLensParams({ size: { microMaxRevenue: -1 } })).toThrowError(/lenses\.size\.microMaxRevenue: expected a number >= 0, got -1/);
  });

  it('rejects an industry map value that is not an industry, naming the code', () => {
    expect(() => parseLensParams({ industryMap: { Fintech: 'banking' } })).toThrowError(/lenses\.industryMap\.Fintech: expected one of manufacturing, .*, got "banking"/);
  });
});

describe('LENS_RULES_MARKDOWN', () => {
  it('documents every lens with the thresholds in force', () => {
    const text = LENS_RULES_MARKDOWN(defaultLensParams);
    for (const heading of ['### Size', '### Industry', '### Lifecycle', '### Technology acceptance', '### Buyer role']) expect(text).toContain(heading);
    expect(text).toContain('| micro | ≤ 9 | ≤ 15,000 |');
    expect(text).toContain('| large | > 249 | > 400,000 |');
    expect(text).toContain('| 1 | startup | age ≤ 3 years; without a founded year: first seen within the last 0.25 of the span (span ≥ 180 days) |');
    expect(text).toContain('| 4 | decline | usage trend ≤ -0.65, unless volume trend > 1 |');
    expect(text).toContain('| 3 | decline | gone quiet: no activity for ≥ 30 days (`recency_days`), or no transaction for ≥ 90 days (`txn_recency_days`) after earlier ones |');
    expect(text).toContain('| 4 | decline | volume trend ≤ -1 on ≥ 4 transactions in the two windows together, or none in the last window after some in the one before |');
    expect(text).toContain('`31-33`');
    const custom = LENS_RULES_MARKDOWN(parseLensParams({ lifecycle: { startupMaxAgeYears: 5 } }));
    expect(custom).toContain('| 1 | startup | age ≤ 5 years;');
  });
});
