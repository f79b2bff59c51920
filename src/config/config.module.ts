import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CONFIG_SECTIONS, type AppConfig } from './app-config.js';

/** The validated configuration token (the whole object). */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Provides the validated configuration: the whole object under APP_CONFIG and each section
 * under its own class, so a module injects exactly the settings it owns
 * (`constructor(private readonly config: SapConfig)`).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    const sections = Object.entries(CONFIG_SECTIONS).map(([key, cls]) => ({ provide: cls, useValue: config[key as keyof AppConfig] }));
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, ...sections],
      exports: [APP_CONFIG, ...Object.values(CONFIG_SECTIONS)],
    };
  }
}
