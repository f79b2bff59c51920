import { IsArray, Matches } from 'class-validator';
import { Env } from '../config/env.decorator.js';

/** An origin a browser compares frame-ancestors with: https (optionally one leading wildcard label), or http on loopback for local tests. */
export const FRAME_ANCESTOR_ORIGIN = /^(https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)+|http:\/\/(127\.0\.0\.1|localhost))(:\d{1,5})?$/;

/** The agent side panel (Genesys Cloud Interaction Widget) served at /widget. */
export class WidgetConfig {
  @Env('WIDGET_FRAME_ANCESTORS', { doc: 'Origins allowed to frame the agent side panel (CSP frame-ancestors), comma-separated; empty = the Genesys Cloud desktop of GENESYS_REGION (https://apps.<region>)', type: 'list' })
  @IsArray()
  @Matches(FRAME_ANCESTOR_ORIGIN, { each: true, message: 'WIDGET_FRAME_ANCESTORS entries must be origins such as https://apps.mypurecloud.com (no path)' })
  frameAncestors: string[] = [];
}
