import 'reflect-metadata';

import { type ArgumentMetadata, BadRequestException, ValidationPipe, type ValidationPipeOptions } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, MaxLength, type ValidationError } from 'class-validator';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { CustomerIdParams, CustomerSearchQuery } from '../aggregation/dto/customer-lookup.dto.js';
import { CustomActionRequest } from '../genesys/dto/custom-action.dto.js';
import { CompiledValidationPipe } from './validation.pipe.js';

/** The options the app gives its global pipe (app.factory.ts). */
const APP_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  stopAtFirstError: false,
  exceptionFactory: (errors: ValidationError[]) => new BadRequestException(errors.map((e) => ({ property: e.property, constraints: e.constraints }))),
};

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({ type: 'body', metatype, data: undefined });

/** What a pipe makes of a value: the instance (its class and own properties) or the refusal. */
async function outcome(pipe: ValidationPipe, value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
  try {
    const result = (await pipe.transform(value, metadata)) as object;
    return { ok: true, cls: result?.constructor?.name, props: { ...result } };
  } catch (err) {
    return { ok: false, status: (err as BadRequestException).getStatus(), response: (err as BadRequestException).getResponse() };
  }
}

class WithTransform {
  @IsString()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  name: string;
}

class WithEmail {
  @IsOptional()
  @IsString()
  @MaxLength(10)
  @IsEmail()
  email?: string;
}

describe('the compiled validation pipe', () => {
  const compiled = new CompiledValidationPipe(APP_OPTIONS);
  const reference = new ValidationPipe(APP_OPTIONS);

  it('takes the fast path for a valid custom action body and path parameter, giving the same instance', async () => {
    for (const [value, metadata] of [
      [{ customerId: '0010100001' }, body(CustomActionRequest)],
      [{ phone: '+1 (415) 555-0100', actionType: 'clickToDial' }, body(CustomActionRequest)],
      [{ customerId: null, phone: '+14155550100' }, body(CustomActionRequest)],
      [Object.assign(Object.create(null) as object, { customerId: '0010100001' }), { type: 'param', metatype: CustomerIdParams, data: undefined }],
    ] as const) {
      const fast = compiled.fastPath(value, metadata as ArgumentMetadata);
      expect(fast).toBeInstanceOf(metadata.metatype);
      expect(await outcome(compiled, value, metadata as ArgumentMetadata)).toEqual(await outcome(reference, value, metadata as ArgumentMetadata));
    }
  });

  it('takes it for route parameters as Fastify gives them (an object whose prototype is empty and has none), never for an object inheriting anything', async () => {
    // find-my-way's NullObject: `new NullObject()` with NullObject.prototype = Object.create(null)
    const NullObject = function (this: object) {} as unknown as new () => Record<string, unknown>;
    NullObject.prototype = Object.create(null) as object;
    const params = Object.assign(new NullObject(), { customerId: '0010100001' });
    const metadata: ArgumentMetadata = { type: 'param', metatype: CustomerIdParams, data: undefined };
    for (let i = 0; i < 2; i++) {
      expect(compiled.fastPath(params, metadata)).toBeInstanceOf(CustomerIdParams);
      expect(await outcome(compiled, params, metadata)).toEqual(await outcome(reference, params, metadata));
    }
    const inheriting = Object.assign(Object.create({ extra: 'x' }) as object, { customerId: '0010100001' });
    expect(compiled.fastPath(inheriting, metadata)).toBeUndefined();
    const chained = Object.assign(Object.create(Object.create(null) as object) as object, { customerId: '0010100001' });
    expect(compiled.fastPath(Object.assign(Object.create(chained) as object, { customerId: '0010100001' }), metadata)).toBeUndefined();
  });

  it('leaves every refusal to class-validator, worded as before', async () => {
    for (const value of [{ customerId: 'no spaces allowed' }, { phone: 'x'.repeat(33) }, { actionType: 'delete' }, { customerId: '1', extra: 'x' }, { customerId: 42 }, { customerId: ['0010100001'] }, [], 'text', null, undefined]) {
      expect(compiled.fastPath(value, body(CustomActionRequest))).toBeUndefined();
      expect(await outcome(compiled, value, body(CustomActionRequest))).toEqual(await outcome(reference, value, body(CustomActionRequest)));
    }
    expect(await outcome(compiled, { customerId: 'no spaces allowed' }, body(CustomActionRequest))).toMatchObject({ ok: false, status: 400 });
  });

  it('never compiles a class with a rule it does not know, or that class-transformer changes', async () => {
    expect(compiled.fastPath({ email: 'a@b.example' }, body(CustomerSearchQuery))).toBeUndefined();
    expect(compiled.fastPath({ email: 'a@b.co' }, body(WithEmail))).toBeUndefined();
    expect(compiled.fastPath({ name: ' padded ' }, body(WithTransform))).toBeUndefined();
    expect(await outcome(compiled, { name: ' padded ' }, body(WithTransform))).toEqual({ ok: true, cls: 'WithTransform', props: { name: 'padded' } });
  });

  it('keeps the full path for other pipe options, and for custom decorators and primitives', () => {
    const lenient = new CompiledValidationPipe({ ...APP_OPTIONS, forbidNonWhitelisted: false });
    expect(lenient.fastPath({ customerId: '0010100001' }, body(CustomActionRequest))).toBeUndefined();
    expect(compiled.fastPath({ customerId: '0010100001' }, { type: 'custom', metatype: CustomActionRequest })).toBeUndefined();
    expect(compiled.fastPath('0010100001', { type: 'param', metatype: String, data: 'customerId' })).toBeUndefined();
  });

  it('agrees with the plain ValidationPipe on any flat value (property-based)', async () => {
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,70}$/), fc.constantFrom('customerLookup', 'clickToDial', '+14155550100', '😀'.repeat(17)));
    const field = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text, { maxLength: 2 }));
    const value = fc.dictionary(fc.constantFrom('customerId', 'phone', 'actionType', 'other'), field, { maxKeys: 4 });
    const classes = fc.constantFrom(CustomActionRequest, CustomerIdParams, CustomerSearchQuery);
    await fc.assert(
      fc.asyncProperty(value, classes, async (v, metatype) => {
        const metadata = body(metatype);
        expect(await outcome(compiled, structuredClone(v), metadata)).toEqual(await outcome(reference, structuredClone(v), metadata));
      }),
      { numRuns: 400 },
    );
  });
});
