import { IsArray, IsOptional, Matches } from 'class-validator';
import { Env } from '../config/env.decorator.js';
import type { GenesysConfig } from '../genesys/genesys.config.js';

/** An origin a browser compares frame-ancestors with: https (optionally one leading wildcard label), or http on loopback for local tests. */
export const FRAME_ANCESTOR_ORIGIN = /^(https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+|http:\/\/(127\.0\.0\.1|localhost))(:\d{1,5})?$/;

/** The agent side panel (Genesys Cloud Interaction Widget) served at /widget. */
export class WidgetConfig {
  @Env('WIDGET_FRAME_ANCESTORS', { doc: 'Origins allowed to frame the agent side panel (CSP frame-ancestors), comma-separated; empty = the Genesys Cloud desktop of GENESYS_REGION (https://apps.<region>)', type: 'list' })
  @IsArray()
  @Matches(FRAME_ANCESTOR_ORIGIN, { each: true, message: 'WIDGET_FRAME_ANCESTORS entries must be origins such as https://apps.mypurecloud.com (no path)' })
  frameAncestors: string[] = [];

  @Env('WIDGET_OAUTH_CLIENT_ID', {
    doc: "Client id (public, not a secret) of the Genesys Cloud OAuth client of grant type Code Authorization with PKCE, redirect URI <PUBLIC_BASE_URL>/widget, that the side panel signs the agent in with; the service then accepts only that client's agent tokens (needs genesys-agent in INTERNAL_AUTH). Empty: the panel needs a #access_token",
  })
  @IsOptional()
  @Matches(/^[A-Za-z0-9._-]{1,128}$/, { message: 'WIDGET_OAUTH_CLIENT_ID must be an OAuth client id (letters, digits, . _ -)' })
  oauthClientId?: string;
}

/** What the page needs to sign the agent in with PKCE: the login host (GENESYS_LOGIN_URL or login.<GENESYS_REGION>) and the public client id. */
export interface PanelSignIn {
  loginUrl: string;
  loginOrigin: string;
  clientId: string;
}

/** The panel's own sign-in, when WIDGET_OAUTH_CLIENT_ID is set. */
export function panelSignIn(widget: WidgetConfig, genesys: GenesysConfig): PanelSignIn | undefined {
  if (!widget.oauthClientId) return undefined;
  const loginUrl = genesys.resolvedLoginUrl.replace(/\/+$/, '');
  return { loginUrl, loginOrigin: new URL(loginUrl).origin, clientId: widget.oauthClientId };
}
