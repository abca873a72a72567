import { DataTable } from "./data-table.js";
import { fill, labelWithName, useI18n } from "./i18n.js";

export interface ApiKeyRow {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

/**
 * API keys (one's own in Settings, a user's in the admin page): name, prefix, creation and status,
 * with a Revoke button on each key still active, which asks before it calls `onRevoke`.
 */
export function ApiKeyTable<K extends ApiKeyRow>({
  keys,
  onRevoke,
}: {
  keys: readonly K[];
  /** `from` is the Revoke button, which goes with the key (focus goes near it, see keepFocusNear). */
  onRevoke(key: K, from: Element): void;
}) {
  const { t, locale } = useI18n();
  const revoke = (key: K, from: Element) => {
    if (window.confirm(fill(t.revokeKeyConfirm, { name: key.name }))) onRevoke(key, from);
  };
  return (
    <DataTable label={t.apiKeys} columns={[t.name, t.key, t.created, t.status]}>
      {keys.map((key) => (
        <tr key={key.id}>
          <td>{key.name}</td>
          <td>
            <code>{key.prefix}…</code>
          </td>
          <td>{new Date(key.createdAt).toLocaleString(locale)}</td>
          <td>
            {key.revokedAt ? (
              t.revoked
            ) : (
              <button
                type="button"
                aria-label={labelWithName(t, t.revoke, key.name)}
                onClick={(event) => revoke(key, event.currentTarget)}
              >
                {t.revoke}
              </button>
            )}
          </td>
        </tr>
      ))}
    </DataTable>
  );
}
