// Just enough Markdown for the evidence report: tables, inline code, escaping. Values come from
// specs and cluster objects, so anything that could break a table or a code span is neutralised.

/** Text for a table cell or a paragraph: no line breaks, no pipes that would split a cell. */
export function text(value: unknown): string {
  return String(value ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/\|/g, '\\|');
}

/** An inline code span; a backtick inside would end it early, so it becomes a quote. */
export function code(value: unknown): string {
  return `\`${text(value).replace(/`/g, "'")}\``;
}

export const codeList = (values: readonly unknown[]): string => (values.length === 0 ? '(none)' : values.map(code).join(', '));

export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

export const bullets = (items: readonly string[]): string => items.map((i) => `- ${i}`).join('\n');
