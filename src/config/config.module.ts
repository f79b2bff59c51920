import { type DynamicModule,Global, Module } from '@nestjs/common';

/** The validated configuration token (the whole object). */
export const APP_CONFIG = Symbol('APP_CONFIG');

/**
 * Provides a validated configuration: the whole object under APP_CONFIG and each section under
 * its own class, so a module injects exactly the settings it owns
 * (`constructor(private readonly config: SapConfig)`).
 */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: object): DynamicModule {
    const sections = Object.values(config) as object[];
    const providers = sections.map((section) => ({ provide: section.constructor, useValue: section }));
    return {
      module: ConfigModule,
      providers: [{ provide: APP_CONFIG, useValue: config }, ...providers],
      exports: [APP_CONFIG, ...providers.map((p) => p.provide)],
    };
  }
}
