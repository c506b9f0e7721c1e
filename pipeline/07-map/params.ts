/**
 * The playbook table's settings (config slice `playbooks`): user values over PLAYBOOK_TABLE key
 * by key, lists (`editions`, `modules`, `channels`) replacing the default whole. Module, channel
 * and deployment names come from the data contract; size entries name editions of the ladder.
 */
import * as v from 'valibot';
import { DEPLOYMENTS, DEVICES, MODULES } from '../01-ingest/contract.ts';
import { asWritten, boolean, expected, fieldsOf, integer, listOf, oneOf, parseSettings, settingsOf, text, type Problem, type Rule } from '../core/settings.ts';
import { PLAYBOOK_TABLE, type Bilingual, type Edition, type PlaybookTable } from './playbooks.ts';

const phrase = () => text('a non-empty string', true);
const bilingual = (defaults: Bilingual): Rule<Bilingual> => settingsOf(defaults, { en: phrase(), zh: phrase() });

/** The rule of each key an entry of a lens section may hold; an entry holds the keys of its default. */
const ENTRY_KEYS: Record<string, (defaults: never) => Rule<unknown>> = {
  edition: () => phrase(),
  editionShift: () => {
    const m = expected('a whole number of steps on the edition ladder');
    return v.pipe(v.number(m), v.integer(m));
  },
  exclusiveModules: () => boolean(),
  deployment: () => oneOf(DEPLOYMENTS, 'a deployment'),
  modules: () => listOf(oneOf(MODULES, 'a module'), 'module ids'),
  channels: () => listOf(oneOf(DEVICES, 'a channel'), 'channels'),
  service: bilingual,
  why: bilingual,
  message: bilingual,
};

function entryRule<E extends object>(defaults: E): Rule<E> {
  const rules = Object.fromEntries(Object.entries(defaults).map(([key, d]) => [key, ENTRY_KEYS[key]!(d as never)]));
  return settingsOf(defaults, rules as never);
}

function sectionRule<S extends Record<string, object>>(defaults: S): Rule<S> {
  const rules = Object.fromEntries(Object.entries(defaults).map(([label, entry]) => [label, entryRule(entry)]));
  return settingsOf(defaults, rules as never);
}

const isRecord = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === 'object' && !Array.isArray(x);

/** The ladder itself (not empty, ids unique) and the size entries' editions on it; looks only at what is well formed, so every problem is listed at once. */
function ladderProblems(t: unknown): Problem[] {
  if (!isRecord(t) || !Array.isArray(t['editions'])) return [];
  const editions = t['editions'] as unknown[];
  const problems: Problem[] = [];
  if (editions.length === 0) problems.push({ path: ['editions'], message: 'expected at least one edition (the ladder, cheapest first), got []' });
  const ids: string[] = [];
  editions.forEach((e, i) => {
    if (!isRecord(e) || typeof e['id'] !== 'string') return;
    if (ids.includes(e['id'])) problems.push({ path: ['editions', i, 'id'], message: `expected an edition id not used before, got ${JSON.stringify(e['id'])}` });
    else ids.push(e['id']);
  });
  const size = isRecord(t['size']) ? t['size'] : {};
  for (const [label, entry] of Object.entries(size)) {
    const edition = isRecord(entry) ? entry['edition'] : undefined;
    if (typeof edition === 'string' && !ids.includes(edition)) {
      problems.push({ path: ['size', label, 'edition'], message: `expected an edition id from playbooks.editions (one of ${ids.join(', ')}), got ${JSON.stringify(edition)}` });
    }
  }
  return problems;
}

/** The `playbooks` slice. */
export const playbookTableRule: Rule<PlaybookTable> = v.pipe(
  settingsOf(PLAYBOOK_TABLE, {
    kind: v.literal('finseg.playbooks', (i) => `expected "finseg.playbooks", got ${JSON.stringify(i.input)}`),
    version: v.literal(PLAYBOOK_TABLE.version, (i) => `expected ${PLAYBOOK_TABLE.version} (this finseg's playbook format), got ${JSON.stringify(i.input)}`),
    maxLeadModules: integer(1),
    // An edition in a user's list keeps its own key order, as the manifest records it.
    editions: listOf(asWritten(fieldsOf<Edition>({ id: phrase(), en: phrase(), zh: phrase() })), 'editions {"id", "en", "zh"}'),
    deployments: settingsOf(PLAYBOOK_TABLE.deployments, { cloud: bilingual(PLAYBOOK_TABLE.deployments.cloud), hybrid: bilingual(PLAYBOOK_TABLE.deployments.hybrid), on_prem: bilingual(PLAYBOOK_TABLE.deployments.on_prem) }),
    size: sectionRule(PLAYBOOK_TABLE.size),
    lifecycle: sectionRule(PLAYBOOK_TABLE.lifecycle),
    technology: sectionRule(PLAYBOOK_TABLE.technology),
    industry: sectionRule(PLAYBOOK_TABLE.industry),
    buyerRole: sectionRule(PLAYBOOK_TABLE.buyerRole),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    for (const p of ladderProblems(dataset.value)) addIssue({ message: p.message, input: undefined, path: p.path.map((key) => ({ type: 'unknown', origin: 'value', input: undefined, key, value: undefined })) as never });
  }),
);

/** Untrusted JSON (the `playbooks` slice, or undefined) as a PlaybookTable; every problem is listed, each naming `playbooks.<key path>`. */
export function parsePlaybookTable(json: unknown, source = 'config'): PlaybookTable {
  return parseSettings(playbookTableRule, json ?? {}, source, 'playbooks');
}
