import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { Injectable } from '@nestjs/common';

import { GenesysConfig } from '../config/genesys.config.js';
import { panelSignIn } from './widget.config.js';

export interface WidgetAsset {
  body: Buffer;
  contentType: string;
  /** Short content hash: asset URLs carry it, so a release never serves an old cached copy. */
  version: string;
}

/** The files of the side panel, by the name they are served under. */
const FILES = {
  'widget.js': 'text/javascript; charset=utf-8',
  'widget.css': 'text/css; charset=utf-8',
} as const;
export type WidgetAssetName = keyof typeof FILES;

/**
 * The side panel's static files, read once at start-up from `public/` beside this module (the
 * build copies `src/widget/public` to `dist/src/widget/public`). A missing file stops the start
 * with a message naming it, rather than serving a broken panel. The page's sign-in settings (the
 * Genesys login host and the public OAuth client id, or nothing) are written into its HTML here.
 */
@Injectable()
export class WidgetAssets {
  readonly html: Buffer;
  private readonly assets = new Map<string, WidgetAsset>();

  constructor(genesys: GenesysConfig) {
    const dir = new URL('./public/', import.meta.url);
    for (const [name, contentType] of Object.entries(FILES)) {
      const body = read(dir, name);
      this.assets.set(name, { body, contentType, version: createHash('sha256').update(body).digest('hex').slice(0, 12) });
    }
    const signIn = panelSignIn(genesys);
    const settings: Record<string, string> = { loginUrl: signIn?.loginUrl ?? '', clientId: signIn?.clientId ?? '' };
    this.html = Buffer.from(
      read(dir, 'widget.html')
        .toString('utf8')
        .replace(/\{\{asset:([a-z.]+)\}\}/g, (_, name: string) => {
          const asset = this.assets.get(name);
          if (!asset) throw new Error(`widget.html refers to an unknown asset ${name}`);
          return `/widget/assets/${name}?v=${asset.version}`;
        })
        .replace(/\{\{signin:([a-zA-Z]+)\}\}/g, (_, name: string) => {
          const value = settings[name];
          if (value === undefined) throw new Error(`widget.html refers to an unknown sign-in setting ${name}`);
          return escapeAttribute(value);
        }),
      'utf8',
    );
  }

  get(name: string): WidgetAsset | undefined {
    return this.assets.get(name);
  }
}

function read(dir: URL, name: string): Buffer {
  const url = new URL(name, dir);
  try {
    return readFileSync(url);
  } catch {
    throw new Error(`Agent side panel file missing: ${url.pathname} (run "npm run build", which copies src/widget/public)`);
  }
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
