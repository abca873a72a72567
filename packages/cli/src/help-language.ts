import { type Command, Help } from "commander";
import type { Messages } from "./messages/index.js";
import { columnsOf } from "./text-width.js";

/** Breaks between Chinese characters as well as at spaces; closing punctuation stays on its line. */
const WRAP_CHUNK =
  /\s*[（《「『【“]*(?:[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]|[^\s\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]+)[，。、；：？！）》」』】”]*/gu;

/**
 * commander's help and parse errors in the language of `m`: the built-in help option, help command
 * and version option, the headings, and descriptions wrapped by terminal columns (a Chinese
 * character takes two). Applied to every command of the tree, as added commands inherit nothing.
 * English output is left exactly as commander writes it: call this for another language only.
 */
export function localizeCommands(program: Command, m: Messages): void {
  const help: Partial<Help> = {
    styleTitle: (title: string) => m.helpTitle(title),
    // commander writes "Usage: hearth …": a title ending in a full-width colon needs no space after it.
    formatHelp(command, helper) {
      return Help.prototype.formatHelp.call(this, command, helper).replace(/^(\S*：) /, "$1");
    },
    optionDescription(option) {
      return withExtras(Help.prototype.optionDescription.call(this, option), m);
    },
    argumentDescription(argument) {
      return withExtras(Help.prototype.argumentDescription.call(this, argument), m);
    },
    displayWidth: (text: string) => columnsOf(text.replace(/\x1b\[\d*(;\d+)*m/g, "")),
    boxWrap(text: string, width: number) {
      if (width < this.minWidthToWrap!) return text;
      return text
        .split(/\r\n|\n/)
        .map((line) => {
          const lines: string[] = [];
          let current = "";
          for (const chunk of line.match(WRAP_CHUNK) ?? []) {
            if (current && columnsOf(current) + columnsOf(chunk) > width) {
              lines.push(current);
              current = chunk.trimStart();
            } else current += chunk;
          }
          lines.push(current);
          return lines.join("\n");
        })
        .join("\n");
    },
  };
  const visit = (command: Command) => {
    command.configureHelp(help);
    command.configureOutput({
      outputError: (text, write) => write(m.commanderError(text)),
    });
    command.helpOption("-h, --help", m.helpOptionDescription);
    if (command.commands.length > 0) command.helpCommand("help [command]", m.helpOptionDescription);
    for (const sub of command.commands) visit(sub);
  };
  visit(program);
}

/** "(choices: …, default: …)" at the end of a description, in the language of `m`. */
function withExtras(description: string, m: Messages): string {
  return description.replace(/ \(((?:choices|default|preset|env): .*)\)$/, (_, extras: string) =>
    m.helpExtras(`（${extras}）`),
  );
}
