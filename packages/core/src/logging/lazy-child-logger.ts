import type { FastifyBaseLogger } from "fastify";
import type { Bindings, ChildLoggerOptions, LevelWithSilentOrString } from "pino";

/**
 * Fastify gives every request a child logger carrying its request id. pino builds a child eagerly
 * (its bindings serialised, its methods set up): tens of microseconds on a cold request path, for a
 * logger most requests never use. This one builds the child on its first use, so a request that
 * logs gets the same line it always did and one that does not pays one small object.
 */
class LazyChildLogger implements FastifyBaseLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  #real(): FastifyBaseLogger {
    this.#child ??= this.parent.child(this.bindings, this.options);
    return this.#child;
  }

  get level(): LevelWithSilentOrString {
    return this.#real().level;
  }

  set level(level: LevelWithSilentOrString) {
    this.#real().level = level;
  }

  fatal(...args: unknown[]): void {
    (this.#real().fatal as (...args: unknown[]) => void)(...args);
  }

  error(...args: unknown[]): void {
    (this.#real().error as (...args: unknown[]) => void)(...args);
  }

  warn(...args: unknown[]): void {
    (this.#real().warn as (...args: unknown[]) => void)(...args);
  }

  info(...args: unknown[]): void {
    (this.#real().info as (...args: unknown[]) => void)(...args);
  }

  debug(...args: unknown[]): void {
    (this.#real().debug as (...args: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]): void {
    (this.#real().trace as (...args: unknown[]) => void)(...args);
  }

  silent(...args: unknown[]): void {
    (this.#real().silent as (...args: unknown[]) => void)(...args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#real().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`, building each request's child logger on first use. */
export function lazyChildLogger(
  parent: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new LazyChildLogger(parent, bindings, options);
}
