import { describe, expect, it } from 'vitest';
import { importCircles, importGraph } from '../support/import-graph.js';

describe('imports between source files', () => {
  it('form no circle (type-only imports included)', () => {
    expect(importCircles(importGraph('src'))).toEqual([]);
  });

  it('the check finds a circle when there is one', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(importCircles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
