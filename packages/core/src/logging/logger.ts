import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * Paths that may hold secrets; pino replaces them before a line is written. Provider configs,
 * request headers and bodies are the usual leaks in this field (STYLE.md, "Swallowed or leaked errors").
 */
export const REDACTED_PATHS = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['x-api-key']",
  "req.headers['x-hearth-service-token']",
  "res.headers['set-cookie']",
  "*.apiKey",
  "*.token",
  "*.password",
  "*.secret",
  "*.clientSecret",
  "apiKey",
  "token",
  "password",
  "secret",
  "clientSecret",
];

export interface LoggerOptions {
  level?: string;
  service?: string;
  /** Defaults to stdout; tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: options.service ? { service: options.service } : {},
      redact: { paths: REDACTED_PATHS, censor: "[redacted]" },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ sync: false }),
  );
}

/**
 * Writes lines for people (a start-up banner) to the logger's own destination, after the lines it
 * still holds: it writes asynchronously, so a console.log could come out before lines logged earlier.
 */
export function writeAfterLogs(logger: Logger, text: string): void {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as
    | { write?: (chunk: string) => unknown }
    | undefined;
  if (typeof stream?.write === "function") stream.write(`${text}\n`);
  else console.log(text);
}
