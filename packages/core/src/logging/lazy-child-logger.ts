import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions } from "pino";

type LogMethod = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * Fastify gives every request a child logger carrying its request id. pino builds a child eagerly
 * (its bindings serialised, its methods set up): tens of microseconds on a cold request path, for a
 * logger most requests never use. This one builds the child on its first use, so a request that
 * logs gets the same line it always did and one that does not pays nothing.
 */
export function lazyChildLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  let child: FastifyBaseLogger | undefined;
  const real = () => {
    child ??= parent.child(bindings, options);
    return child;
  };
  const forward =
    (method: LogMethod) =>
    (...args: unknown[]) =>
      (real()[method] as (...args: unknown[]) => void)(...args);
  return {
    get level() {
      return real().level;
    },
    set level(level) {
      real().level = level;
    },
    fatal: forward("fatal"),
    error: forward("error"),
    warn: forward("warn"),
    info: forward("info"),
    debug: forward("debug"),
    trace: forward("trace"),
    silent: forward("silent"),
    child: (childBindings, childOptions) => real().child(childBindings, childOptions),
  };
}
