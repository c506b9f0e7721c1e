import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CAMPAIGNS, writeActionsTruth, type ActionPlan, type Membership } from '../../pipeline/generate/actions.ts';

const dir = mkdtempSync(join(tmpdir(), 'finseg-actions-truth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeActionsTruth at vendor scale', () => {
  it('writes the truth of a campaign with a million members (generate --customers 1000000)', () => {
    // Half a million members per campaign: far more than a spread of arguments allows.
    const perCampaign = 500_000;
    const base = 20_300;
    const memberships: Membership[] = [];
    for (let c = 0; c < CAMPAIGNS.length; c++)
      for (let i = 0; i < perCampaign; i++) memberships.push({ campaign: c, customer: i, day: base + c * 10 + (i % 5), treated: i % 2 === 0 });
    const n = memberships.length;
    const plan: ActionPlan = {
      memberships,
      byCustomer: new Map(),
      usedBefore: new Uint8Array(n),
      usedAfter: new Uint8Array(n),
      forced: new Uint8Array(n),
      npsEffects: CAMPAIGNS.map(() => null),
    };
    const path = writeActionsTruth(plan, join(dir, 'actions_truth.csv'));
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(CAMPAIGNS.length + 1);
    const header = lines[0]!.split(',');
    const day = header.indexOf('action_date');
    const treated = header.indexOf('treated');
    // Each campaign's first day is its earliest member's day, hand-computed from the plan above.
    CAMPAIGNS.forEach((_, c) => {
      const cells = lines[c + 1]!.split(',');
      expect(cells[day]).toBe(new Date((base + c * 10) * 86_400_000).toISOString().slice(0, 10));
      expect(Number(cells[treated])).toBe(perCampaign / 2);
    });
  });
});
