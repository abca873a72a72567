import { readFileSync } from "node:fs";
import { totalmem } from "node:os";
import { Gauge, type Registry } from "prom-client";

/**
 * The memory this process may use: the cgroup limit in a container (v2, then v1), else the
 * machine's RAM. The memory alert divides resident memory by it.
 */
export function detectMemoryLimitBytes(): number {
  const machine = totalmem();
  for (const file of ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]) {
    try {
      const value = Number(readFileSync(file, "utf8").trim());
      if (Number.isFinite(value) && value > 0 && value < machine) return value;
    } catch {
      // Not in a cgroup with a limit: the machine's memory is the limit.
    }
  }
  return machine;
}

/**
 * Registers `hearth_memory_limit_bytes`, which deploy/monitoring/alert-rules.yaml (HearthMemoryHigh)
 * divides `hearth_process_resident_memory_bytes` by. Read at each scrape: a limit can change.
 */
export function registerMemoryLimitGauge(registry: Registry): Gauge {
  return new Gauge({
    name: "hearth_memory_limit_bytes",
    help: "Memory this process may use: the container's cgroup limit, else the machine's memory",
    registers: [registry],
    collect() {
      this.set(detectMemoryLimitBytes());
    },
  });
}
