import { Module } from '@nestjs/common';
import { AggregationModule } from '../aggregation/aggregation.module.js';
import { CustomActionController } from './custom-action.controller.js';
import { GenesysPlatformModule } from './platform/genesys-platform.module.js';

@Module({
  imports: [AggregationModule, GenesysPlatformModule],
  controllers: [CustomActionController],
})
export class GenesysModule {}
