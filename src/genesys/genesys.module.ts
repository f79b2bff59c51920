import { Module } from '@nestjs/common';
import { AggregationModule } from '../aggregation/aggregation.module.js';
import { CustomActionController } from './custom-action.controller.js';

@Module({
  imports: [AggregationModule],
  controllers: [CustomActionController],
})
export class GenesysModule {}
