import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { parse as parseYaml } from 'yaml';

/*
 * The deployment artefacts as data, for the checks in this folder (one file per artefact): the
 * Helm chart's values, schema and templates, and the Dockerfile parsed into stages. Nothing here
 * needs helm or docker.
 */

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHART = join(ROOT, 'helm/customer360');
export const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

export type Tree = Record<string, unknown>;
export const values = parseYaml(read('helm/customer360/values.yaml')) as Tree;
export const schema = JSON.parse(read('helm/customer360/values.schema.json')) as Tree;
export const config = values.config as Record<string, string | number | boolean>;
export const secrets = values.secrets as { existingSecret: string; mountPath: string; files: Record<string, string> };
export const ports = values.ports as { http: number; management: number };

/** What an installer fills in for their own site before the chart's values make a production configuration. */
export const SITE_VALUES: Readonly<Record<string, string>> = Object.freeze({
  SALESFORCE_LOGIN_URL: 'https://acme.my.salesforce.com',
  SALESFORCE_CLIENT_ID: 'connected-app-key',
  SAP_BASE_URL: 'https://s4.acme.example',
  SAP_USERNAME: 'C360_TECH',
  SERVICENOW_BASE_URL: 'https://acme.service-now.com',
  SERVICENOW_USERNAME: 'c360.integration',
  TOKEN_CLIENT_ID: 'genesys-data-actions',
  PUBLIC_BASE_URL: 'https://c360.acme.example',
});

/** Helm's merge of user values over the chart's: maps merge, null deletes, anything else replaces. */
export function withValues(patch: Tree, base: Tree = values): Tree {
  const out: Tree = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (isMap(v) && isMap(out[k])) out[k] = withValues(v, out[k]);
    else out[k] = v;
  }
  return out;
}
export const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
export const templates = filesUnder(join(CHART, 'templates')).map((path) => ({ name: relative(CHART, path), text: readFileSync(path, 'utf8') }));
export const template = (name: string): string => templates.find((t) => t.name === `templates/${name}`)?.text ?? '';

export interface Instruction {
  keyword: string;
  args: string;
}
export interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

/** An exec-form (JSON array) instruction's words; a shell-form one yields ['/bin/sh', '-c', …] as Docker runs it. */
function execForm(args: string | undefined): string[] {
  if (args === undefined) return [];
  try {
    const words: unknown = JSON.parse(args);
    if (Array.isArray(words) && words.every((w) => typeof w === 'string')) return words;
  } catch {
    // shell form
  }
  return ['/bin/sh', '-c', args];
}

/** The Dockerfile as stages of instructions (comments dropped, continuation lines joined). */
export function dockerfile(): { globalArgs: Instruction[]; stages: Stage[]; user?: string; exposed: string[]; entrypoint: string[] } {
  const lines = read('Dockerfile')
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword, args] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: args.trim() };
    if (instruction.keyword === 'FROM') {
      const [, from, name] = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else if (stages.length === 0) globalArgs.push(instruction);
    else stages[stages.length - 1].instructions.push(instruction);
  }
  const final = stages[stages.length - 1];
  const last = (k: string) => final.instructions.filter((i) => i.keyword === k).pop();
  return {
    globalArgs,
    stages,
    user: last('USER')?.args.split(':')[0],
    exposed: final.instructions.filter((i) => i.keyword === 'EXPOSE').flatMap((i) => i.args.split(/\s+/)),
    entrypoint: execForm(last('ENTRYPOINT')?.args),
  };
}

