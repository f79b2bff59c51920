import { IsArray, Matches } from 'class-validator';

import { Env } from '../config/env.decorator.js';
import type { GenesysConfig } from '../config/genesys.config.js';

/** An origin a browser compares frame-ancestors with: https (optionally one leading wildcard label), or http on loopback for local tests. */
export const FRAME_ANCESTOR_ORIGIN = /^(https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+|http:\/\/(127\.0\.0\.1|localhost))(:\d{1,5})?$/;

/** The agent side panel (Genesys Cloud Interaction Widget) served at /widget. */
export class WidgetConfig {
  @Env('WIDGET_FRAME_ANCESTORS', { doc: 'Origins allowed to frame the agent side panel (CSP frame-ancestors), comma-separated; empty = the Genesys Cloud desktop of GENESYS_REGION (https://apps.<region>)', type: 'list' })
  @IsArray()
  @Matches(FRAME_ANCESTOR_ORIGIN, { each: true, message: 'WIDGET_FRAME_ANCESTORS entries must be origins such as https://apps.mypurecloud.com (no path)' })
  frameAncestors: string[] = [];
}

/** What the page needs to sign the agent in with PKCE: the login host (GENESYS_LOGIN_URL or login.<GENESYS_REGION>) and the public client id (WIDGET_OAUTH_CLIENT_ID, a Genesys setting: the agent-token check pins it too). */
export interface PanelSignIn {
  loginUrl: string;
  loginOrigin: string;
  clientId: string;
}

/** The panel's own sign-in, when WIDGET_OAUTH_CLIENT_ID is set. */
export function panelSignIn(genesys: GenesysConfig): PanelSignIn | undefined {
  if (!genesys.agentOauthClientId) return undefined;
  const loginUrl = genesys.resolvedLoginUrl.replace(/\/+$/, '');
  return { loginUrl, loginOrigin: new URL(loginUrl).origin, clientId: genesys.agentOauthClientId };
}
