/** Prints a Markdown table: text columns left-aligned, the numeric ones (from `firstNumeric` on) right-aligned. */
export function printTable (header: string[], rows: string[][], firstNumeric = 2): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]): string => '| ' + cells.map((c, i) => (i >= firstNumeric ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number))).join(' | ') + ' |'
  console.log(line(header))
  console.log('|' + widths.map((w, i) => (i >= firstNumeric ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|') + '|')
  for (const row of rows) console.log(line(row))
}
