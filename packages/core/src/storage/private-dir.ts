/**
 * How Hearth makes its data directory and the directories in it (and backups): open to the
 * service's own user only (0700), since the databases, uploads and backups inside are no other
 * local user's to read. Recursive, so any parent made on the way is private too.
 */
export const PRIVATE_DIR = { recursive: true, mode: 0o700 } as const;
