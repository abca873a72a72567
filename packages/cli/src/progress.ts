/** A size in decimal units, as download sizes are given (1.5 GB), or in binary ones (1.5 GiB). */
export function formatBytes(bytes: number, units: "decimal" | "binary" = "decimal"): string {
  const base = units === "binary" ? 1024 : 1000;
  const names = units === "binary" ? ["B", "KiB", "MiB", "GiB", "TiB"] : ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= base && unit < names.length - 1) {
    value /= base;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${names[unit]}`;
}

/** One step of a long command: a status line, or a bar when `completed` of `total` bytes are known. */
export interface Progress {
  status: string;
  total?: number;
  completed?: number;
}

export type ProgressPrinter = ((progress: Progress) => void) & {
  /** Ends a bar left open on a terminal, so that what is written next starts on a line of its own. */
  end(): void;
};

/**
 * Progress on stderr: a one-line bar, redrawn in place on a terminal and printed every 10% otherwise,
 * and each new status on a line of its own (`hearth models pull`, `hearth backup`).
 */
export function progressPrinter(stderr: NodeJS.WritableStream & { isTTY?: boolean }): ProgressPrinter {
  let lastTenth = -1;
  let lastStatus = "";
  let barOnLine = false; // a terminal's bar is redrawn with \r and not yet ended with a newline
  const end = () => {
    if (barOnLine) stderr.write("\n");
    barOnLine = false;
  };
  const print = (progress: Progress) => {
    if (progress.total && progress.completed !== undefined) {
      if (progress.status !== lastStatus) {
        lastStatus = progress.status;
        lastTenth = -1;
      }
      const fraction = Math.min(1, progress.completed / progress.total);
      const bar = `${"#".repeat(Math.round(fraction * 30)).padEnd(30, ".")}`;
      const line = `${progress.status} [${bar}] ${(fraction * 100).toFixed(0).padStart(3)}% ${formatBytes(progress.completed)}/${formatBytes(progress.total)}`;
      if (stderr.isTTY) {
        stderr.write(`\r${line}`);
        barOnLine = true;
      } else if (Math.floor(fraction * 10) > lastTenth) {
        lastTenth = Math.floor(fraction * 10);
        stderr.write(`${line}\n`);
      }
      return;
    }
    if (progress.status === lastStatus) return;
    lastStatus = progress.status;
    end();
    stderr.write(`${progress.status}\n`);
  };
  return Object.assign(print, { end });
}
