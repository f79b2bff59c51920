import { allBindings } from '../../src/app.config.js';
import type { ConnectorRegistration } from '../../src/connectors/connector-registration.js';

/** The README's configuration table, generated from the config classes (`npm run config:table`), for the registered systems or `connectors`. */
export function configTable(connectors?: readonly ConnectorRegistration[]): string {
  const rows = allBindings(connectors).map((b) => {
    const empty = b.defaultValue === undefined || b.defaultValue === '' || (Array.isArray(b.defaultValue) && b.defaultValue.length === 0);
    const def = empty ? '—' : `\`${String(b.defaultValue)}\``;
    return `| \`${b.name}\` | ${def} | ${b.secret ? 'yes (`_FILE` ok)' : ''} | ${b.doc} |`;
  });
  return ['| Variable | Default | Secret | Meaning |', '|---|---|---|---|', ...rows].join('\n');
}

if (process.argv[1]?.endsWith('config-table.js')) process.stdout.write(`${configTable()}\n`);
