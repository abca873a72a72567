import { type KeyboardEvent, useEffect, useRef } from "react";

/** One choice of a suggestion list. */
export interface Suggestion {
  id: string;
  /** What it is called (a prompt's "/command", a knowledge base's "#name"). */
  label: string;
  /** What it is, after its label (a prompt's title). */
  description?: string;
  /** A note after that (a prompt shared with everyone, a knowledge base's document count). */
  note?: string;
}

/**
 * What the keys of a text box with a suggestion list open do, as the WAI-ARIA listbox pattern
 * with the focus kept in the box (aria-activedescendant): ↑/↓ move the choice (wrapping round),
 * Enter or Tab takes it, Escape closes the list. Returns true when the key was the list's (the
 * caller does nothing more with it). Enter that commits an input method's candidate is not taken.
 */
export function suggestionKey(
  event: KeyboardEvent<HTMLElement>,
  list: {
    count: number;
    active: number;
    onActive(index: number): void;
    onPick(index: number): void;
    onClose(): void;
  },
): boolean {
  if (list.count === 0) return false;
  const composing = event.nativeEvent.isComposing || event.keyCode === 229;
  if (composing) return false;
  const take = () => {
    event.preventDefault();
    return true;
  };
  switch (event.key) {
    case "ArrowDown":
      list.onActive((list.active + 1) % list.count);
      return take();
    case "ArrowUp":
      list.onActive((list.active - 1 + list.count) % list.count);
      return take();
    case "Enter":
    case "Tab":
      if (event.shiftKey) return false;
      list.onPick(list.active);
      return take();
    case "Escape":
      list.onClose();
      return take();
    default:
      return false;
  }
}

/** The id of a suggestion's option element, for the box's aria-activedescendant. */
export function suggestionOptionId(listId: string, index: number): string {
  return `${listId}-option-${index}`;
}

/**
 * A list of suggestions under a text box (the message box's "/" prompts and "#" knowledge bases): a
 * listbox whose options the box points to with aria-activedescendant while it keeps the focus, so a
 * screen reader reads the choice as it moves. A click takes an option without taking the focus from
 * the box.
 */
export function SuggestionList(props: {
  id: string;
  /** The list's accessible name. */
  label: string;
  suggestions: Suggestion[];
  active: number;
  onActive(index: number): void;
  onPick(index: number): void;
}) {
  const list = useRef<HTMLDivElement>(null);
  // The choice stays in view as ↑/↓ move it.
  useEffect(() => {
    const option = list.current?.querySelector<HTMLElement>(
      `#${CSS.escape(suggestionOptionId(props.id, props.active))}`,
    );
    option?.scrollIntoView?.({ block: "nearest" });
  }, [props.id, props.active]);
  return (
    <div ref={list} id={props.id} role="listbox" aria-label={props.label} className="suggestion-list">
      {props.suggestions.map((suggestion, index) => (
        // biome-ignore lint/a11y/useKeyWithClickEvents: the keys are the text box's (aria-activedescendant), which keeps the focus
        <div
          key={suggestion.id}
          id={suggestionOptionId(props.id, index)}
          role="option"
          tabIndex={-1}
          aria-selected={index === props.active}
          className={index === props.active ? "active" : undefined}
          onMouseDown={(event) => event.preventDefault()}
          onMouseEnter={() => props.onActive(index)}
          onClick={() => props.onPick(index)}
        >
          <span className="suggestion-label">{suggestion.label}</span>
          {suggestion.description && <span className="suggestion-description">{suggestion.description}</span>}
          {suggestion.note && <span className="muted suggestion-note">{suggestion.note}</span>}
        </div>
      ))}
    </div>
  );
}
