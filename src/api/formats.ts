// Validators for string formats that Kubernetes and cron use. Pure, no dependencies, so both the zod
// schema (controller side) and the tests share one definition of "valid".

/** RFC 1123 DNS label: what a namespace name must be. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_LABEL_MAX = 63;

// The patterns below end up in the CRD, where the API server evaluates them with Go's RE2: no
// lookahead, so lengths are limited by maxLength in the schema instead.

/** A DNS name as an XMPP domain: lower-case labels separated by dots, at least two labels. */
export const DNS_NAME = /^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)+$/;

/** A Kubernetes resource quantity (the canonical grammar, without exotic forms). */
export const QUANTITY = /^([+]?[0-9]+(\.[0-9]+)?|[+]?\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$/;

/** XMPP localpart we accept for provisioned accounts: conservative, no escaping needed anywhere. */
export const XMPP_LOCALPART = /^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$/;

/** Kubernetes object name (DNS subdomain). */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const addr = value.slice(0, slash);
  const prefixText = value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefixText)) return false;
  const prefix = Number(prefixText);
  if (addr.includes(':')) return isIPv6(addr) && prefix <= 128;
  return isIPv4(addr) && prefix <= 32;
}

function isIPv4(addr: string): boolean {
  const parts = addr.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255);
}

function isIPv6(addr: string): boolean {
  if (!/^[0-9a-fA-F:]+$/.test(addr)) return false;
  const doubles = addr.split('::').length - 1;
  if (doubles > 1) return false;
  const groups = addr.split(':').filter((g) => g !== '');
  if (groups.some((g) => g.length > 4)) return false;
  return doubles === 1 ? groups.length < 8 : groups.length === 8;
}

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

const CRON_MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/**
 * Checks a standard 5-field cron expression as the Kubernetes CronJob controller accepts it
 * (numbers, ranges, steps, lists, `*`, `?`, and the @-macros). Returns a message for the first
 * problem, or undefined when the expression is valid. Month and weekday names are not accepted:
 * numeric fields keep the schedule unambiguous for people reading it in an audit.
 */
export function cronProblem(expression: string): string | undefined {
  const trimmed = expression.trim();
  if (CRON_MACROS.has(trimmed)) return undefined;
  if (/^(TZ|CRON_TZ)=/.test(trimmed)) return 'time zones go in spec.backup.timeZone, not in the schedule';
  const fields = trimmed.split(/\s+/);
  if (fields.length !== 5) return `expected 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  for (const [i, field] of fields.entries()) {
    const spec = CRON_FIELDS[i]!;
    for (const item of field!.split(',')) {
      const problem = cronItemProblem(item, spec.min, spec.max);
      if (problem) return `${spec.name} field "${field}": ${problem}`;
    }
  }
  return undefined;
}

function cronItemProblem(item: string, min: number, max: number): string | undefined {
  const [range, step, extra] = item.split('/');
  if (extra !== undefined) return 'more than one "/"';
  if (step !== undefined && !/^[1-9][0-9]*$/.test(step)) return `step "${step}" is not a positive number`;
  if (range === '*' || range === '?') return undefined;
  const bounds = range!.split('-');
  if (bounds.length > 2) return `range "${range}" has more than one "-"`;
  const numbers: number[] = [];
  for (const b of bounds) {
    if (!/^[0-9]+$/.test(b)) return `"${b}" is not a number`;
    const n = Number(b);
    if (n < min || n > max) return `${n} is outside ${min}-${max}`;
    numbers.push(n);
  }
  if (numbers.length === 2 && numbers[0]! > numbers[1]!) return `range "${range}" runs backwards`;
  return undefined;
}
