// Issue 18, part 2, the chart's side: no container of the operator's own workloads gets a Secret
// through its environment (test/unit/secret-env.test.ts covers what the operator renders).
import { describe, expect, inject, it } from 'vitest';
import { secretFedEnv } from '../support/secret-env.js';
import { NON_DEFAULT_VALUES, helmTemplate } from './support/chart.js';
import './provided-context.js';

const helm = inject('helmBinary');

describe('helm template', () => {
  it.each([
    ['default values', {}],
    ['non-default values', NON_DEFAULT_VALUES],
  ])('feeds no environment variable from a Secret, with %s', async (_name, values) => {
    const objects = await helmTemplate(helm, values);
    expect(objects.some((o) => o['kind'] === 'Deployment')).toBe(true);
    expect(objects.flatMap((o) => secretFedEnv(o).map((f) => `${o['kind']}/${o['metadata']['name']} ${f}`))).toEqual([]);
  });
});
