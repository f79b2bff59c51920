import { Controller, Get, Header, NotFoundException, Param, Query, Res, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';

import { GenesysConfig } from '../config/genesys.config.js';
import { panelSignIn, WidgetConfig } from './widget.config.js';
import { WidgetAssets } from './widget-assets.js';
import { widgetCsp, widgetFrameAncestors } from './widget-csp.js';

/**
 * The agent side panel: a static page that Genesys Cloud frames as an Interaction Widget. The page
 * carries no data and no secret; it signs the agent in to Genesys Cloud itself (PKCE, when
 * WIDGET_OAUTH_CLIENT_ID is set) or takes a token from its URL fragment, and fetches the customer
 * through /v1 with it, under the same guards as every other consumer.
 */
@ApiExcludeController()
@Controller({ path: 'widget', version: VERSION_NEUTRAL })
export class WidgetController {
  private readonly csp: string;

  constructor(
    private readonly assets: WidgetAssets,
    config: WidgetConfig,
    genesys: GenesysConfig,
  ) {
    const signIn = panelSignIn(genesys);
    this.csp = widgetCsp(widgetFrameAncestors(config.frameAncestors, genesys.region), signIn ? [signIn.loginOrigin] : []);
  }

  @Get()
  @Header('cache-control', 'no-store')
  page(@Res({ passthrough: true }) reply: FastifyReply): Buffer {
    // helmet put its global policy (frame-ancestors 'none', X-Frame-Options) on the raw response;
    // this page is meant to be framed by the Genesys desktop, so it gets its own policy instead
    reply.raw.removeHeader('x-frame-options');
    void reply.header('content-security-policy', this.csp).type('text/html; charset=utf-8');
    return this.assets.html;
  }

  @Get('assets/:name')
  asset(@Param('name') name: string, @Query('v') version: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Buffer {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundException('No such file');
    // a versioned URL never changes content; an unversioned or outdated one must be revalidated
    const cache = version === asset.version ? 'public, max-age=31536000, immutable' : 'no-cache';
    void reply.header('cache-control', cache).type(asset.contentType);
    return asset.body;
  }
}
