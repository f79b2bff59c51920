import { Module } from '@nestjs/common';

import { WidgetController } from './widget.controller.js';
import { WidgetAssets } from './widget-assets.js';

/** The agent side panel (Genesys Cloud Interaction Widget): its page and static files. */
@Module({
  controllers: [WidgetController],
  providers: [WidgetAssets],
})
export class WidgetModule {}
