/**
 * Control characters made visible: a NUL byte in a Coda cell is shown as ␀, a bell as ␇, and so
 * on (the Unicode "control pictures"), so no report or terminal line ever carries a raw one.
 * Line breaks and tabs are kept only where the caller says so.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CONTROL_AND_LAYOUT = /[\u0000-\u001f\u007f]/g;

function picture(character: string): string {
  const code = character.charCodeAt(0);
  return code === 0x7f ? '\u2421' : String.fromCharCode(0x2400 + code);
}

/** Every control character as its picture; `keepLayout` keeps line breaks and tabs as they are. */
export function visible(text: string, { keepLayout = false } = {}): string {
  return text.replace(keepLayout ? CONTROL : CONTROL_AND_LAYOUT, picture);
}
