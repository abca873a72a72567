export function serviceFromArgs(args: string[]): "web" | "model" | "search" | "knowledge";
export function healthUrl(
  service: "web" | "model" | "search" | "knowledge",
  env: Record<string, string | undefined>,
): string;
