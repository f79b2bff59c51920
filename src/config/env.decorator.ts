import 'reflect-metadata';

/** What one environment variable means; drives loading, validation messages and the docs table. */
export interface EnvOptions {
  /** One line for the README's configuration table. */
  doc: string;
  /** A secret: never logged or echoed, and may be given as `<NAME>_FILE` (a mounted file). */
  secret?: boolean;
  /** How to parse the raw string; inferred from the property's type when omitted. */
  type?: 'string' | 'number' | 'boolean' | 'list';
}

/** 'auto': the type of the property's default value decides (for properties declared without an annotation). */
export type EnvType = 'string' | 'number' | 'boolean' | 'list' | 'auto';

export interface EnvBinding extends Required<Pick<EnvOptions, 'doc'>> {
  property: string;
  name: string;
  secret: boolean;
  type: EnvType;
}

const ENV_KEY = Symbol('config:env');

/** Binds a config property to an environment variable. */
export function Env(name: string, options: EnvOptions): PropertyDecorator {
  return (target, propertyKey) => {
    const designType = Reflect.getMetadata('design:type', target, propertyKey) as unknown;
    const inferred = designType === Number ? 'number' : designType === Boolean ? 'boolean' : designType === Array ? 'list' : designType === String ? 'string' : 'auto';
    const bindings: EnvBinding[] = [...((Reflect.getMetadata(ENV_KEY, target) as EnvBinding[] | undefined) ?? [])];
    bindings.push({ property: String(propertyKey), name, doc: options.doc, secret: options.secret ?? false, type: options.type ?? inferred });
    Reflect.defineMetadata(ENV_KEY, bindings, target);
  };
}

export function envBindings(cls: abstract new () => object): EnvBinding[] {
  return (Reflect.getMetadata(ENV_KEY, cls.prototype) as EnvBinding[] | undefined) ?? [];
}
