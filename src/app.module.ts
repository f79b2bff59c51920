import { Module, type DynamicModule } from '@nestjs/common';
import { AggregationModule } from './aggregation/aggregation.module.js';
import { AuthModule } from './auth/auth.module.js';
import type { AppConfig } from './config/app-config.js';
import { ConfigModule } from './config/config.module.js';
import { ConnectorsModule } from './connectors/connectors.module.js';
import { GenesysModule } from './genesys/genesys.module.js';
import { HealthModule } from './health/health.module.js';
import { ResilienceModule } from './resilience/resilience.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [ConfigModule.forRoot(config), ResilienceModule, AuthModule, ConnectorsModule, AggregationModule, GenesysModule, HealthModule],
    };
  }
}
