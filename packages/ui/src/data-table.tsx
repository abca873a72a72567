import { type ReactNode, useRef } from "react";
import { useKeyboardScrollable } from "./focus.js";
import { useI18n } from "./i18n.js";

/**
 * A table of rows under a header row of `columns`, scrolling in its own box when
 * wider than the screen (a phone) instead of widening the page. With `actions`, a last column for
 * the rows' buttons, its heading read out but not shown: it never wraps (a Chinese 删除 one
 * character a line) and stays at the box's right edge while the rest scrolls, so the buttons are
 * on the screen. With `pinFirst`, the first column
 * (a row's name) stays at the box's left edge while the rest scrolls, so a row scrolled to its last
 * columns is still named; the actions column is then scrolled to, not pinned too (a phone would
 * have little room left between the two). `nowrap` lists the columns (by index) whose heading never wraps (each
 * cell chooses its own class). Scrolling, the box is a region named `label` that takes focus, so a
 * keyboard scrolls it too.
 */
export function DataTable(props: {
  label: string;
  columns: string[];
  actions?: boolean;
  pinFirst?: boolean;
  nowrap?: number[];
  /** A class for the box, for a table styled apart (the knowledge page's documents, cards on a phone). */
  className?: string;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const box = useRef<HTMLDivElement>(null);
  useKeyboardScrollable(box, props.label);
  return (
    <div className={props.className ? `table-scroll ${props.className}` : "table-scroll"} ref={box}>
      <table
        className={
          [props.actions && "with-actions", props.pinFirst && "pin-first"].filter(Boolean).join(" ") ||
          undefined
        }
      >
        <thead>
          <tr>
            {props.columns.map((column, index) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: the columns are fixed per table, and texts may repeat (a group named "Role")
              <th key={index} className={props.nowrap?.includes(index) ? "nowrap" : undefined}>
                {column}
              </th>
            ))}
            {props.actions && (
              <th>
                <span className="visually-hidden">{t.actions}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
