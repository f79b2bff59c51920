/**
 * The layer rules of the README's "Architecture" section, checked by `npm run lint`.
 *
 * Every folder of src/ belongs to one layer; an import may only point down the layers, or
 * sideways to a folder listed earlier in the same layer when the layer says its folders are
 * ordered. Files directly in src/ (app.module, app.factory, app.config, main) are the
 * composition root and may import anything. The allowed imports form a strict order, so no two
 * folders can import each other. Unit specs (*.spec.ts) are tests: they may reach anywhere in
 * src/ and into test/, and are left out here.
 */

const LAYERS = [
  // typed settings; the vendor HTTP edge, UpstreamError, timers, outbound credentials; the shared Redis client (issue 19)
  { name: 'ground', folders: ['config', 'upstream', 'redis'], ordered: true },
  // logs/metrics/errors, the cache, breakers and limits, inbound authentication
  { name: 'mechanisms', folders: ['observability', 'cache', 'resilience', 'auth'], ordered: true },
  // one folder per system called
  { name: 'systems', folders: ['connectors', 'genesys/platform'], ordered: false },
  { name: 'use cases', folders: ['aggregation'], ordered: false },
  { name: 'edges', folders: ['genesys', 'widget', 'health'], ordered: false },
];

/**
 * Imports that still run against the order, each with its reason and the change that removes it.
 * Each names one file and what it may reach beyond its layer (type-only when `typeOnly`). Keep
 * this list short; an empty list is the goal.
 */
const KNOWN_EXCEPTIONS = [
  {
    file: 'src/cache/source-cache.ts',
    to: '^src/connectors/connector\\.ts$',
    typeOnly: true,
    why: "the cache names the connectors' canonical partial as the type it stores; making the cache generic over what it stores removes it",
  },
  {
    file: 'src/cache/profile-cache.ts',
    to: '^src/connectors/connector\\.ts$',
    typeOnly: true,
    why: "the cache policy's fetch returns the connectors' FetchResult (found or not): the same type the cache stores, removed with the one above",
  },
];

const SPEC = '\\.spec\\.ts$';
const literal = (file) => `^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
const pathOf = (folder) => (folder === 'genesys' ? '^src/genesys/(?!platform/)' : `^src/${folder}/`);
const FOLDERS = LAYERS.flatMap((layer, li) => layer.folders.map((folder, fi) => ({ folder, layer, li, fi })));
const folderOf = (file) => FOLDERS.find((f) => new RegExp(pathOf(f.folder)).test(file));

/** The folders a folder may import: every folder of a lower layer, earlier folders of an ordered layer, itself. */
function allowedFor({ li, fi }) {
  const lower = LAYERS.slice(0, li).flatMap((l) => l.folders);
  const layer = LAYERS[li];
  return [...lower, ...(layer.ordered ? layer.folders.slice(0, fi) : []), layer.folders[fi]];
}

const exceptionFiles = [...new Set(KNOWN_EXCEPTIONS.map((e) => e.file))];

const layerRules = FOLDERS.map((f) => ({
  name: `layer:${f.folder}`,
  severity: 'error',
  comment: `${f.folder}/ (${f.layer.name}) may import only: ${allowedFor(f).join(', ')} (and packages)`,
  from: { path: pathOf(f.folder), pathNot: [SPEC, ...exceptionFiles.filter((file) => folderOf(file) === f).map(literal)] },
  to: { path: '^src/', pathNot: allowedFor(f).map(pathOf) },
}));

const exceptionRules = exceptionFiles.flatMap((file) => {
  const own = KNOWN_EXCEPTIONS.filter((e) => e.file === file);
  return [
    {
      name: 'layer:known-exception',
      severity: 'error',
      comment: `${file} beyond its layer, for now: ${own.map((e) => e.why).join('; ')}`,
      from: { path: literal(file) },
      to: { path: '^src/', pathNot: [...allowedFor(folderOf(file)).map(pathOf), ...own.map((e) => e.to)] },
    },
    ...own
      .filter((e) => e.typeOnly)
      .map((e) => ({ name: 'layer:known-exception-type-only', severity: 'error', comment: `${file} may only name types of ${e.to}`, from: { path: literal(file) }, to: { path: e.to, dependencyTypesNot: ['type-only'] } })),
  ];
});

const KNOWN_FOLDERS = LAYERS.flatMap((l) => l.folders).map(pathOf);

module.exports = {
  forbidden: [
    ...layerRules,
    ...exceptionRules,
    {
      name: 'layer:unplaced-folder',
      severity: 'error',
      comment: 'every folder of src/ has a layer: add a new one to LAYERS in .dependency-cruiser.cjs (and to the README table)',
      from: { path: '^src/[^/]+/', pathNot: KNOWN_FOLDERS },
      to: {},
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'no module imports itself through others',
      from: { path: '^src/', pathNot: SPEC },
      to: { circular: true },
    },
    {
      name: 'no-src-to-test',
      severity: 'error',
      comment: 'the service never imports test code (simulators, helpers); unit specs may',
      from: { path: '^src/', pathNot: SPEC },
      to: { path: '^test/' },
    },
    {
      name: 'config-before-tracing',
      severity: 'error',
      comment:
        "main.ts loads the configuration before it starts tracing, and the OpenTelemetry Redis instrumentation only patches a @redis/client loaded after that: " +
        'nothing the configuration imports (connector registrations included) may reach src/redis/ (which loads it), or Redis spans silently vanish; a connector reaches Redis-backed providers through the Nest container (e.g. a @Resilient method), not by importing them',
      from: { path: '^src/app\\.config\\.ts$' },
      to: { path: '^src/redis/redis\\.(client|module)\\.ts$', reachable: true },
    },
    {
      name: 'no-src-to-dev-dependency',
      severity: 'error',
      comment: 'the service runs without devDependencies (the container image has none)',
      from: { path: '^src/', pathNot: SPEC },
      to: { dependencyTypes: ['npm-dev'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    // type-only imports count: a layer that needs another's types depends on it
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'], extensions: ['.ts', '.js'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
