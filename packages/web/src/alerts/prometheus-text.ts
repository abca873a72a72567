/** One sample of the Prometheus text exposition format. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?\s*$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/y;

/**
 * Parses the Prometheus text format (version 0.0.4) that every Hearth service serves on /metrics.
 * Comment and type lines are skipped; a malformed line is skipped too rather than failing the
 * whole scrape, and counted so the monitor can log it.
 */
export function parsePrometheusText(text: string): { samples: MetricSample[]; malformedLines: number } {
  const samples: MetricSample[] = [];
  let malformedLines = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = SAMPLE_LINE.exec(line);
    const labels = match ? parseLabels(match[3] ?? "") : undefined;
    const value = match ? parseValue(match[4]!) : undefined;
    if (!match || !labels || value === undefined) {
      malformedLines++;
      continue;
    }
    samples.push({ name: match[1]!, labels, value });
  }
  return { samples, malformedLines };
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const match = LABEL.exec(text);
    if (!match) return text.slice(start).trim() === "" ? labels : undefined;
    labels[match[1]!] = match[2]!.replace(/\\(["\\n])/g, (_all, character: string) =>
      character === "n" ? "\n" : character,
    );
  }
  return labels;
}

function parseValue(text: string): number | undefined {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}
