import { Module } from '@nestjs/common';
import { WidgetAssets } from './widget-assets.js';
import { WidgetController } from './widget.controller.js';

/** The agent side panel (Genesys Cloud Interaction Widget): its page and static files. */
@Module({
  controllers: [WidgetController],
  providers: [WidgetAssets],
})
export class WidgetModule {}
