import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { initCommand } from '../../pipeline/jobs/init.ts';
import { readFeatureFile } from '../../pipeline/02-features/feature-file.ts';
import { profileFeatureFile, validateProfileTable } from '../../pipeline/02-features/profile-table.ts';
import { defaultProfileTableParams, profileTableParamsRule, type ProfileTableParams } from '../../pipeline/02-features/params.ts';
import { loadConfig } from '../../pipeline/config/config.ts';
import { openDuck } from '../../pipeline/core/duck.ts';
import { InputError } from '../../pipeline/core/errors.ts';
import { parseSettings } from '../../pipeline/core/settings.ts';
import { quietLogger } from '../../pipeline/core/log.ts';
import { csvFields } from '../helpers/csv.ts';

/**
 * A profile table (one row per customer with measures, no event lines) on a hand-made export
 * whose every feature value can be read off the file, and init's proposal on the Telco sample.
 */
const root = mkdtempSync(join(tmpdir(), 'finseg-profile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// Six accounts: plan has three values, paper billing two (Yes is the less common), churned is an outcome.
const snapshot = [
  'Account,Plan,Paper,Charges,Sector,Churned',
  'A1,basic,Yes,10.5,Retail,Yes',
  'A2,pro,No,20,Retail,No',
  'A3,pro,No,,Health,No',
  'A4,team,No,40,Health,No',
  'A5,basic,Yes,50,Retail,Yes',
  'A6,basic,No,60,Retail,No',
].join('\n');
const params: ProfileTableParams = {
  ...defaultProfileTableParams,
  file: 'snapshot.csv',
  key: 'Account',
  exclude: ['Churned'],
  categorical: ['Plan', 'Paper'],
  attributes: { industry: 'Sector' },
  asOf: '2026-06-30',
};

async function read(dir: string, p: ProfileTableParams, model: readonly string[] | null) {
  const conn = await openDuck();
  const profile = await profileFeatureFile(conn, dir, p, model);
  try {
    return await readFeatureFile(conn, profile.path, { asOf: null, requiredFeatures: model, partition: null, missingValues: ['NA'], quarantineLimit: 1, quarantineDir: join(dir, 'q'), logger: quietLogger, source: profile.readAs });
  } finally {
    conn.closeSync();
    profile.remove();
  }
}

const column = (t: Awaited<ReturnType<typeof read>>['features'], name: string) => {
  const j = t.featureNames.indexOf(name);
  return Array.from({ length: t.X.rows }, (_, i) => t.X.data[i * t.X.cols + j]!);
};

describe('profile table: the vendor snapshot as a feature table', () => {
  const dir = join(root, 'snapshot');
  mkdirSync(dir);
  writeFileSync(join(dir, 'snapshot.csv'), snapshot);

  it('keys on the vendor id, keeps numbers, encodes categories as 0/1 (one indicator for a two-valued column), leaves the outcome out', async () => {
    const { features } = await read(dir, params, null);
    expect(features.customerIds).toEqual(['A1', 'A2', 'A3', 'A4', 'A5', 'A6']);
    expect([...features.featureNames].sort()).toEqual(['Charges', 'Paper=Yes', 'Plan=basic', 'Plan=pro', 'Plan=team']);
    expect(column(features, 'Charges').map((v) => (Number.isNaN(v) ? null : v))).toEqual([10.5, 20, null, 40, 50, 60]);
    expect(column(features, 'Plan=basic')).toEqual([1, 0, 0, 0, 1, 1]);
    expect(column(features, 'Plan=team')).toEqual([0, 0, 0, 1, 0, 0]);
    expect(column(features, 'Paper=Yes')).toEqual([1, 0, 0, 0, 1, 0]);
    expect(features.attributes.industry).toEqual(['Retail', 'Retail', 'Health', 'Health', 'Retail', 'Retail']);
    expect(features.asOf).toBe('2026-06-30');
  });

  it("scores with exactly the model's indicators: a value unseen at training sets none", async () => {
    const later = join(root, 'later');
    mkdirSync(later);
    writeFileSync(join(later, 'snapshot.csv'), ['Account,Plan,Paper,Charges,Sector,Churned', 'B1,enterprise,No,70,Retail,No', 'B2,team,Yes,5,Health,No'].join('\n'));
    const model = ['Plan=basic', 'Plan=pro', 'Plan=team', 'Paper=Yes', 'Charges'];
    const { features } = await read(later, params, model);
    expect(features.featureNames).toEqual(model);
    expect(column(features, 'Plan=basic')).toEqual([0, 0]);
    expect(column(features, 'Plan=pro')).toEqual([0, 0]);
    expect(column(features, 'Plan=team')).toEqual([0, 1]);
    expect(column(features, 'Paper=Yes')).toEqual([0, 1]);
  });

  it("quarantines a blank id and an unparseable number with the vendor's file and line, once per input", async () => {
    const dirty = join(root, 'dirty');
    mkdirSync(dirty);
    const lines = snapshot.split('\n');
    lines[2] = 'A2,pro,No,twenty,Retail,No'; // line 3
    lines[4] = ',team,No,40,Health,No'; // line 5
    writeFileSync(join(dirty, 'snapshot.csv'), lines.join('\n'));
    const first = await validateProfileTable(dirty, params, { missingValues: ['NA'], quarantineLimit: 0.5 }, join(dirty, 'q'));
    expect(first.exitCode).toBe(0);
    expect(first.text).toContain('rows: read 6, accepted 4, quarantined 2');
    const file = /→ (\S+features\.csv)/.exec(first.text)![1]!;
    const rows = readFileSync(file, 'utf8').trim().split('\n').slice(1).map(csvFields);
    expect(rows.map((r) => [r[0], r[1], r[2], r[3]])).toEqual([
      [resolve(dirty, 'snapshot.csv'), '3', 'unparseable', 'Charges'],
      [resolve(dirty, 'snapshot.csv'), '5', 'missing_key', 'customer_id'],
    ]);
    const again = await validateProfileTable(dirty, params, { missingValues: ['NA'], quarantineLimit: 0.2 }, join(dirty, 'q'));
    expect(again.exitCode).toBe(2);
    expect(/→ (\S+features\.csv)/.exec(again.text)![1]).toBe(file);
  });

  it('refuses a setting that cannot work, naming the key', async () => {
    const check = (p: ProfileTableParams) => parseSettings(profileTableParamsRule, p, 'c.json', 'profileTable');
    expect(() => check({ ...params, asOf: null })).toThrow(/^c\.json: profileTable\.asOf: expected the date the table describes/);
    expect(() => check({ ...params, attributes: { colour: 'Plan' } })).toThrow(/^c\.json: profileTable\.attributes\.colour: expected a customer attribute, got "colour"/);
    expect(() => check({ ...params, exclude: ['Plan'] })).toThrow(/^c\.json: profileTable\.exclude: expected no column both excluded and categorical, got "Plan"/);
    expect(() => check({ ...params, key: null })).toThrow(/^c\.json: profileTable\.key: expected the customer id column of /);
    await expect(read(dir, { ...params, categorical: ['Plann'] }, null)).rejects.toThrow(InputError);
  });
});

describe('init on the Telco sample: a profile table, by content', () => {
  it('proposes the key, the outcome left out, the 15 text columns as categories and the 4 numbers as features', async () => {
    const dir = join(root, 'telco');
    mkdirSync(dir);
    const csv = readFileSync(resolve(import.meta.dirname, '../fixtures/real/telco-churn/Telco-Customer-Churn.csv'), 'utf8');
    writeFileSync(join(dir, 'Telco-Customer-Churn.csv'), csv);
    await initCommand(dir, join(dir, 'finseg.config.json'), '.');
    const config = loadConfig(join(dir, 'finseg.config.json'));
    const header = csvFields(csv.split('\n')[0]!);
    // Independently: the text columns (any value not a number) other than the id and the outcome.
    const rows = csv.trim().split('\n').slice(1).map(csvFields);
    const text = header.filter((c, j) => c !== 'customerID' && c !== 'Churn' && rows.some((r) => r[j]!.trim() !== '' && Number.isNaN(Number(r[j]))));
    expect(config.profileTable).toMatchObject({ file: 'Telco-Customer-Churn.csv', key: 'customerID', exclude: ['Churn'] });
    expect([...config.profileTable.categorical].sort()).toEqual([...text].sort());
    expect(text).toHaveLength(15);
  });
});
