// Result rows, targets and the printed table. ratio = peer_time / our_time, so a
// ratio above 1 means we are faster; PASS/MISS is informational only.

export type Target =
  | { kind: 'ratio'; min: number } // peer/ours must be ≥ min
  | { kind: 'max'; value: number; unit: string } // our figure must be ≤ value
  | { kind: 'none' };

export interface Row {
  bench: string;
  label: string;
  /** Our figure: seconds unless unit says otherwise. */
  ours: number | null;
  unit: 's' | 'MB';
  /** Throughput of our run when a byte count applies, MiB/s. */
  mibPerSec?: number;
  peerLabel: string;
  peer: number | null;
  ratio: number | null;
  target: string;
  pass: boolean | null;
  /** How it was measured, e.g. "min of 3". */
  runs: string;
  note?: string;
}

export function targetText(t: Target): string {
  if (t.kind === 'ratio') return `ratio ≥ ${Number(t.min.toFixed(2))}`;
  if (t.kind === 'max') return `≤ ${t.value} ${t.unit}`;
  return '—';
}

export interface RowInput {
  bench: string;
  label: string;
  ours: number | null;
  unit?: 's' | 'MB';
  bytes?: number;
  peerLabel?: string;
  peer?: number | null;
  target?: Target;
  runs: string;
  note?: string;
}

export function row(i: RowInput): Row {
  const t = i.target ?? { kind: 'none' };
  const peer = i.peer ?? null;
  const ratio = i.ours !== null && peer !== null && i.ours > 0 ? peer / i.ours : null;
  let pass: boolean | null = null;
  if (t.kind === 'ratio' && ratio !== null) pass = ratio >= t.min;
  if (t.kind === 'max' && i.ours !== null) pass = i.ours <= t.value;
  return {
    bench: i.bench,
    label: i.label,
    ours: i.ours,
    unit: i.unit ?? 's',
    mibPerSec: i.bytes !== undefined && i.ours ? i.bytes / (1024 * 1024) / i.ours : undefined,
    peerLabel: i.peerLabel ?? '—',
    peer,
    ratio,
    target: targetText(t),
    pass,
    runs: i.runs,
    note: i.note,
  };
}

/** A row for something that could not run (verb missing, tool missing). */
export function unavailable(bench: string, label: string, why: string): Row {
  return { bench, label, ours: null, unit: 's', peerLabel: '—', peer: null, ratio: null, target: '—', pass: null, runs: '—', note: `not available: ${why}` };
}

function num(v: number | null, unit: string): string {
  if (v === null) return 'n/a';
  if (unit === 'MB') return `${v.toFixed(1)} MB`;
  return v < 0.1 ? `${(v * 1000).toFixed(1)} ms` : `${v.toFixed(3)} s`;
}

export function cells(r: Row): string[] {
  const ours = num(r.ours, r.unit) + (r.mibPerSec ? ` (${r.mibPerSec.toFixed(0)} MiB/s)` : '');
  const peer = r.peer === null ? r.peerLabel : `${r.peerLabel}: ${num(r.peer, r.unit)}`;
  const verdict = r.pass === null ? '—' : r.pass ? 'PASS' : 'MISS';
  return [r.label, ours, peer, r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`, r.target, verdict, r.runs];
}

export const HEADER = ['benchmark', 'ours', 'peer', 'ratio', 'target', 'result', 'runs'];

export function renderTable(rows: Row[]): string {
  const data = [HEADER, ...rows.map(cells)];
  const widths = HEADER.map((_, c) => Math.max(...data.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => v.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  const out = [line(data[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...data.slice(1).map(line)];
  const notes = rows.filter((r) => r.note).map((r) => `  ${r.label}: ${r.note}`);
  return [...out, ...(notes.length ? ['', 'notes:', ...notes] : [])].join('\n');
}

/** The same table in Markdown, for docs/benchmarks.md. */
export function renderMarkdown(rows: Row[]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  return [`| ${HEADER.join(' | ')} |`, `|${HEADER.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${cells(r).map(esc).join(' | ')} |`)].join('\n');
}
