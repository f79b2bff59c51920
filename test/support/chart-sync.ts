import { readFileSync, writeFileSync } from 'node:fs';

import { type Document, isMap, isScalar, type Pair, parseDocument, type Scalar, type YAMLMap } from 'yaml';

import { allBindings } from '../../src/app.config.js';

/**
 * The chart's settings derived from the service's: every setting the config classes bind has its
 * key in values.yaml (`config`, or `secrets.files` for a secret) and its type in
 * values.schema.json. `npm run chart:sync` writes what is missing (a new system's settings appear
 * after its neighbours in registration order, under a comment naming its section, with the
 * service's defaults) and drops what the service no longer reads; values and comments already
 * there are kept. The deployment test checks the committed chart is what this derives.
 */

type Binding = ReturnType<typeof allBindings>[number];

/** Set by the chart itself (deployment.yaml), so absent from values.config. */
export const SET_BY_THE_CHART: Readonly<Record<string, string>> = { NODE_ENV: 'production', HOST: '0.0.0.0', PORT: 'ports.http', MANAGEMENT_PORT: 'ports.management' };

export interface ChartFiles {
  /** values.yaml */
  values: string;
  /** values.schema.json */
  schema: string;
}

/** How the service parses a binding ('auto' follows the default's type, as load-config does). */
export function effectiveType(b: Pick<Binding, 'type' | 'defaultValue'>): 'number' | 'boolean' | 'list' | 'string' {
  if (b.type !== 'auto') return b.type;
  const d = b.defaultValue;
  return typeof d === 'number' ? 'number' : typeof d === 'boolean' ? 'boolean' : Array.isArray(d) ? 'list' : 'string';
}

const SCHEMA_REF = { number: '#/definitions/integerSetting', boolean: '#/definitions/booleanSetting', list: '#/definitions/listSetting', string: '#/definitions/stringSetting' } as const;

/** A default as values.yaml holds it: numbers and booleans as such, lists comma-joined, none as "". */
function chartDefault(b: Binding): string | number | boolean {
  const d = b.defaultValue;
  if (typeof d === 'number' || typeof d === 'boolean') return d;
  if (Array.isArray(d)) return d.join(',');
  return d === undefined || d === null ? '' : String(d);
}

/** Adds the missing keys of `wanted` (in order) after their nearest present predecessor, and removes keys not wanted. */
function syncMap(doc: Document, map: YAMLMap, wanted: Array<{ name: string; section: string; value: string | number | boolean }>): void {
  const names = new Set(wanted.map((w) => w.name));
  for (const item of [...map.items]) {
    const key = isScalar(item.key) ? String(item.key.value) : String(item.key);
    if (!names.has(key)) map.delete(key);
  }
  const keyOf = (item: Pair) => (isScalar(item.key) ? String(item.key.value) : String(item.key));
  wanted.forEach((w, i) => {
    if (map.has(w.name)) return;
    const before = wanted.slice(0, i).reverse().find((p) => map.has(p.name));
    const at = before === undefined ? 0 : map.items.findIndex((item) => keyOf(item) === before.name) + 1;
    const pair = doc.createPair(w.name, w.value) as Pair<Scalar, Scalar>;
    if (before?.section !== w.section) pair.key.commentBefore = ` ${w.section}`;
    map.items.splice(at, 0, pair);
  });
}

/** The chart files with the service's settings in them (unchanged when they are already there). */
export function syncChart(files: ChartFiles, bindings: readonly Binding[] = allBindings()): ChartFiles {
  const settable = bindings.filter((b) => !(b.name in SET_BY_THE_CHART));
  const plain = settable.filter((b) => !b.secret);
  const secret = settable.filter((b) => b.secret);

  const doc = parseDocument(files.values);
  const config = doc.get('config');
  const fileKeys = doc.getIn(['secrets', 'files']);
  if (!isMap(config) || !isMap(fileKeys)) throw new Error('values.yaml has no config or secrets.files map');
  syncMap(doc, config, plain.map((b) => ({ name: b.name, section: b.section, value: chartDefault(b) })));
  syncMap(doc, fileKeys, secret.map((b) => ({ name: b.name, section: b.section, value: '' })));

  const schema = JSON.parse(files.schema) as { properties: { config: { properties: Record<string, unknown> }; secrets: { properties: { files: { properties: Record<string, unknown> } } } } };
  const byName = new Map(settable.map((b) => [b.name, b]));
  const keysOf = (map: YAMLMap) => map.items.map((item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)));
  schema.properties.config.properties = Object.fromEntries(keysOf(config).map((name) => [name, { $ref: SCHEMA_REF[effectiveType(byName.get(name) as Binding)] }]));
  schema.properties.secrets.properties.files.properties = Object.fromEntries(keysOf(fileKeys).map((name) => [name, { $ref: '#/definitions/secretKey' }]));

  return { values: doc.toString({ lineWidth: 0 }), schema: `${JSON.stringify(schema, null, 2)}\n` };
}

/** `npm run chart:sync` (from the package root): rewrites the committed chart files from the service's settings. */
if (process.argv[1]?.endsWith('chart-sync.js')) {
  const paths = { values: 'helm/customer360/values.yaml', schema: 'helm/customer360/values.schema.json' };
  const synced = syncChart({ values: readFileSync(paths.values, 'utf8'), schema: readFileSync(paths.schema, 'utf8') });
  writeFileSync(paths.values, synced.values);
  writeFileSync(paths.schema, synced.schema);
  process.stdout.write(`synced ${paths.values} and ${paths.schema}\n`);
}
