import { invalidArgument } from '../errors.js';

type Ctx = {
  provider: string;
  service: 'blob' | 'queue' | 'kv';
  operation: string;
  resource: { name: string };
};

/** Rejects non-objects and unknown option names, so a typo is not silently ignored. */
export function checkOptions(opts: unknown, allowed: readonly string[], ctx: Ctx): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) {
    throw invalidArgument(`${ctx.operation}: options must be an object`, ctx);
  }
  for (const k of Object.keys(opts)) {
    if (!allowed.includes(k)) {
      throw invalidArgument(
        `${ctx.operation} on ${ctx.service} "${ctx.resource.name}": unknown option "${k}"; allowed: ${allowed.join(', ')}`,
        ctx,
      );
    }
  }
}

export function checkInt(
  value: unknown,
  name: string,
  min: number,
  max: number,
  ctx: Ctx,
): asserts value is number | undefined {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidArgument(
      `${ctx.operation} on ${ctx.service} "${ctx.resource.name}": ${name} must be an integer from ${min} to ${max}, got ${String(value)}`,
      ctx,
    );
  }
}

export function checkString(value: unknown, name: string, ctx: Ctx): asserts value is string | undefined {
  if (value === undefined) return;
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgument(
      `${ctx.operation} on ${ctx.service} "${ctx.resource.name}": ${name} must be a non-empty string`,
      ctx,
    );
  }
}
