/** Semantic versions of installed models (major.minor.patch). */
export function parseVersion(version: string): [number, number, number] | undefined {
  const match = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(version.trim());
  return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : undefined;
}

export function compareVersions(a: string, b: string): number {
  const left = parseVersion(a) ?? [0, 0, 0];
  const right = parseVersion(b) ?? [0, 0, 0];
  for (let index = 0; index < 3; index++)
    if (left[index] !== right[index]) return left[index]! - right[index]!;
  return 0;
}

/** The next version after the highest of `versions`: a minor bump (new weights, same name). */
export function nextVersion(versions: string[]): string {
  if (versions.length === 0) return "1.0.0";
  const highest = [...versions].sort(compareVersions).at(-1)!;
  const [major, minor] = parseVersion(highest) ?? [1, 0, 0];
  return `${major}.${minor + 1}.0`;
}
