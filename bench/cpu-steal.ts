import { readFileSync } from "node:fs";

/** The machine's CPU time so far (/proc/stat, all CPUs), in clock ticks; undefined off Linux. */
function cpuTicks(): { steal: number; total: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    // user nice system idle iowait irq softirq steal (guest time is counted in user already)
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (ticks.length < 8 || ticks.some(Number.isNaN)) return undefined;
    return { steal: ticks[7]!, total: ticks.reduce((sum, value) => sum + value, 0) };
  } catch {
    return undefined;
  }
}

/**
 * Starts counting "steal": time the hypervisor ran other guests while this virtual machine's CPUs
 * had work. On a shared VM it stalls every process at once, for milliseconds, and lands on the
 * tail of any latency measured meanwhile; benchmarks print it beside their p99s. The returned
 * function gives the share of all CPU time since the start, in per cent (NaN off Linux).
 */
export function stealMeter(): () => number {
  const start = cpuTicks();
  return () => {
    const now = cpuTicks();
    if (!start || !now || now.total === start.total) return Number.NaN;
    return (100 * (now.steal - start.steal)) / (now.total - start.total);
  };
}
