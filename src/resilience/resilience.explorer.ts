import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef, Reflector } from '@nestjs/core';

import { PolicyRegistry } from './policy.registry.js';
import { type ResilienceSettings, RESILIENT, type ResilientMetadata } from './resilient.decorator.js';

/**
 * At start-up, finds every provider method marked @Resilient and replaces it, on the instance,
 * with one that runs through its system's policy (its rate limit read from the settings class the
 * marker names). Connectors stay free of retry loops and breakers.
 */
@Injectable()
export class ResilienceExplorer implements OnModuleInit {
  private readonly logger = new Logger(ResilienceExplorer.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    private readonly registry: PolicyRegistry,
    private readonly modules: ModuleRef,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || !wrapper.isDependencyTreeStatic() || wrapper.isAlias) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const original = instance[name];
        if (typeof original !== 'function') continue;
        const meta = this.reflector.get<ResilientMetadata | undefined>(RESILIENT, original as (...args: unknown[]) => unknown);
        if (!meta) continue;
        const policy = this.registry.get(meta.source, this.settings(meta));
        instance[name] = (...args: unknown[]) => {
          const signal = [...args].reverse().find((a): a is AbortSignal => a instanceof AbortSignal);
          return policy.execute(() => (original as (...a: unknown[]) => Promise<unknown>).apply(instance, args), signal, meta.idempotent);
        };
        this.logger.debug({ msg: 'resilience applied', provider: wrapper.name, method: name, source: meta.source, idempotent: meta.idempotent });
      }
    }
  }

  /** The system's own settings (e.g. SapConfig) from the container; none when it is not provided there (tests of one module). */
  private settings(meta: ResilientMetadata): ResilienceSettings | undefined {
    if (!meta.settings) return undefined;
    try {
      return this.modules.get(meta.settings, { strict: false });
    } catch {
      this.logger.warn({ msg: 'no settings for a resilient system: its calls are not rate limited', source: meta.source, settings: meta.settings.name });
      return undefined;
    }
  }
}
