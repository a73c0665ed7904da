import { describe, expect, it } from 'vitest';
import { memoizeStrings } from '../../src/controller/memo.js';

describe('memoizeStrings', () => {
  it('computes once per distinct arguments, and tells argument lists apart by position', () => {
    const calls: string[][] = [];
    const f = memoizeStrings((a: string, b: string) => (calls.push([a, b]), `${a}|${b}`));
    expect(f('ab', 'c')).toBe('ab|c');
    expect(f('ab', 'c')).toBe('ab|c');
    expect(f('a', 'bc')).toBe('a|bc');
    expect(calls).toEqual([['ab', 'c'], ['a', 'bc']]);
  });

  it('keeps only the most recent inputs', () => {
    let calls = 0;
    const f = memoizeStrings((a: string) => (calls++, a.length), 2);
    f('x');
    f('yy');
    f('zzz'); // evicts 'x'
    f('yy');
    expect(calls).toBe(3);
    f('x');
    expect(calls).toBe(4);
  });

  it('does not remember a throw or a rejection', async () => {
    let fail = true;
    const sync = memoizeStrings((a: string) => {
      if (fail) throw new Error('bad');
      return a;
    });
    expect(() => sync('k')).toThrow('bad');
    fail = false;
    expect(sync('k')).toBe('k');

    let rejects = true;
    const asyncF = memoizeStrings(async (a: string) => {
      if (rejects) throw new Error('no');
      return a;
    });
    await expect(asyncF('k')).rejects.toThrow('no');
    rejects = false;
    await expect(asyncF('k')).resolves.toBe('k');
  });
});
