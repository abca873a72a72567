import { request } from "node:http";

/**
 * GETs a URL with another `Host` header, as a browser does after DNS rebinding (the page's own name,
 * now resolving to this machine); fetch cannot set Host.
 */
export function getAsHost(url: string, host: string): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    request({
      host: target.hostname,
      port: target.port,
      path: `${target.pathname}${target.search}`,
      headers: { host },
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
