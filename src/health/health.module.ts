import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ConnectorsModule } from '../connectors/connectors.module.js';
import { HealthController } from './health.controller.js';
import { ReadinessIndicators } from './readiness.indicators.js';
import { ShutdownState } from './shutdown.state.js';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), ConnectorsModule],
  controllers: [HealthController],
  providers: [ReadinessIndicators, ShutdownState],
  exports: [ShutdownState],
})
export class HealthModule {}
