import { z } from 'zod';

/** A CEL rule as the CRD's `x-kubernetes-validations` wants it. */
export interface CelRule {
  rule: string;
  message: string;
  /** JSONPath-ish field the error is reported on, relative to the schema node holding the rule. */
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  /** Ratcheting rules see oldSelf only on update. */
  optionalOldSelf?: boolean;
}

/**
 * Attach the description (shown by `kubectl explain`) and, optionally, CEL rules to a schema node.
 * Everything the CRD generator needs travels as zod metadata, so the zod schema stays the one source.
 */
export function doc<T extends z.ZodType>(schema: T, description: string, rules: CelRule[] = []): T {
  const meta: Record<string, unknown> = { description };
  if (rules.length > 0) meta['x-kubernetes-validations'] = rules;
  return schema.meta(meta);
}

/** Extra OpenAPI keys that only the CRD understands (list types, preserve-unknown-fields). */
export function crdExtras<T extends z.ZodType>(schema: T, description: string, extras: Record<string, unknown>): T {
  return schema.meta({ description, ...extras });
}
