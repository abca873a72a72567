import type { ReactNode } from "react";

/**
 * An icon drawn in lines of the text's colour (24-unit paths), hidden from screen readers: its
 * button is named in words. Drawn, not an emoji: a system without an emoji font shows one as a box.
 */
export function LineIcon(props: { size: number; children: ReactNode }) {
  return (
    <svg
      aria-hidden="true"
      width={props.size}
      height={props.size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="2"
      strokeLinecap="round"
      strokeLinejoin="round"
    >
      {props.children}
    </svg>
  );
}
