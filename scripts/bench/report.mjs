// Turns the bench's raw results into one Markdown table: a row per figure with mta, Postfix,
// mta/Postfix and the target (shown, never asserted). Medians of the successful runs; a
// figure with failed runs says so.

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Returns one row per (scenario, metric): the median for each server and how many runs failed. */
export function summarise(results) {
  const rows = [];
  for (const { scenario, perServer } of results) {
    for (const metric of scenario.metrics) {
      const cell = (name) => {
        const slot = perServer.get(name);
        const values = slot.values.map((v) => v[metric.key]).filter((v) => Number.isFinite(v));
        return { value: values.length > 0 ? median(values) : undefined, runs: values.length, failed: slot.errors.length, error: slot.errors[0] };
      };
      rows.push({ title: scenario.title, metric, mta: cell('mta'), postfix: cell('Postfix') });
    }
  }
  return rows;
}

function number(value) {
  if (value === undefined) return 'failed';
  if (Number.isInteger(value)) return value.toLocaleString('en');
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function cellText(cell) {
  const text = number(cell.value);
  return cell.failed > 0 && cell.value !== undefined ? `${text} (${cell.failed} run${cell.failed > 1 ? 's' : ''} failed)` : text;
}

function targetText(row) {
  const t = row.metric.target;
  if (t === undefined) return '';
  const m = row.mta.value;
  const p = row.postfix.value;
  if (t.ratioAtLeast !== undefined) {
    const met = m !== undefined && p !== undefined && m / p >= t.ratioAtLeast;
    return `≥ ${t.ratioAtLeast}× Postfix: ${met ? 'met' : 'not met'}`;
  }
  const met = m !== undefined && m <= t.mtaAtMost;
  return `≤ ${t.mtaAtMost}: ${met ? 'met' : 'not met'}`;
}

/** Formats the summary as a Markdown table, with the first failure of each failed figure below it. */
export function formatTable(rows) {
  const lines = ['| Scenario | Figure | mta | Postfix | mta/Postfix | Target |', '|---|---|--:|--:|--:|---|'];
  const failures = [];
  let previous;
  for (const row of rows) {
    const m = row.mta.value;
    const p = row.postfix.value;
    const ratio = m !== undefined && p !== undefined && p !== 0 ? `${number(m / p)}×` : '—';
    lines.push(`| ${row.title === previous ? '' : row.title} | ${row.metric.unit} | ${cellText(row.mta)} | ${cellText(row.postfix)} | ${ratio} | ${targetText(row)} |`);
    previous = row.title;
    for (const [name, cell] of [['mta', row.mta], ['Postfix', row.postfix]]) {
      if (cell.error && !failures.some((f) => f.startsWith(`- ${row.title}, ${name}`))) failures.push(`- ${row.title}, ${name}: ${cell.error.split('\n')[0]}`);
    }
  }
  return failures.length > 0 ? `${lines.join('\n')}\n\nFailed runs:\n${failures.join('\n')}` : lines.join('\n');
}
