// Just enough PromQL reading to list the metric names and label names an expression uses. Not a parser:
// the expressions are also checked by promtool (`check rules` parses them for real); this only has to
// find identifiers reliably in the rules we write.

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

export interface ExpressionNames {
  metrics: string[];
  labels: string[];
}

export function namesInExpression(expr: string): ExpressionNames {
  const labels = new Set<string>();
  let rest = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  rest = rest.replace(/\{([^}]*)\}/g, (_m, inner: string) => {
    for (const matcher of inner.split(',')) {
      const name = matcher.trim().match(/^([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/)?.[1];
      if (name) labels.add(name);
    }
    return ' ';
  });
  rest = rest.replace(GROUPING, (_m, _kw: string, inner: string) => {
    for (const l of inner.split(',').map((s) => s.trim()).filter(Boolean)) labels.add(l);
    return ' ';
  });
  rest = rest.replace(/\[[^\]]*\]/g, ' ');
  const metrics = new Set<string>();
  for (const m of rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = rest.slice((m.index ?? 0) + word.length);
    const before = rest.slice(0, m.index ?? 0);
    if (/^\s*\(/.test(after)) continue; // a function call
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/[0-9.]$/.test(before) || /^[eE]$/.test(word)) continue; // part of a number such as 1e3
    metrics.add(word);
  }
  return { metrics: [...metrics], labels: [...labels] };
}

/** Labels an annotation or label template reads: {{ $labels.tenant }}. */
export function templateLabels(text: string): string[] {
  return [...text.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1]!);
}
