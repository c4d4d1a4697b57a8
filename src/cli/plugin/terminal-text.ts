/**
 * Text from the issuer (error descriptions, user codes, URLs, user names) reaches the user's terminal.
 * A hostile or broken issuer could hide ANSI/OSC escape sequences in it that recolour the screen,
 * rewrite earlier lines, set the window title or (OSC 52) write to the clipboard. Every server string
 * goes through `printable` before it is written: C0 and C1 control characters and DEL are removed
 * (what is left of an escape sequence is harmless text), and the length is capped.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** The longest server string we print; longer ones are cut with an ellipsis. */
export const MAX_PRINTED_LENGTH = 500;

/** `text` without control characters, at most `max` characters long. */
export function printable(text: unknown, max = MAX_PRINTED_LENGTH): string {
  const clean = String(text).replace(CONTROL, '');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
