import { request } from "node:http";

/**
 * Sends a request exactly as given, as curl --path-as-is would: fetch cannot set `Host` (a browser
 * sends the page's own name after DNS rebinding) and resolves `..` and `%2E%2E` in paths.
 */
export function rawRequest(
  baseUrl: string,
  options: { method?: string; path: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string }> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    request({
      host: base.hostname,
      port: base.port,
      method: options.method ?? "GET",
      path: options.path,
      headers: options.headers ?? {},
    })
      .on("response", (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      })
      .on("error", reject)
      .end();
  });
}
