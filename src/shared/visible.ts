/**
 * Control characters made visible: a NUL byte in a Coda cell is shown as ␀, a bell as ␇, and so
 * on (the Unicode "control pictures"), so no report or terminal line ever carries a raw one.
 * Line breaks and tabs are kept only where the caller says so. Pages read in a browser name them
 * instead ("[NUL]"): many fonts have no control pictures and would draw a missing-glyph box.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is this module's job
const CONTROL_AND_LAYOUT = /[\u0000-\u001f\u007f]/g;

/** The ASCII names of the control characters, by code (DEL apart). */
const NAMES =
  'NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN EM SUB ESC FS GS RS US'.split(
    ' ',
  );

function picture(character: string): string {
  const code = character.charCodeAt(0);
  return code === 0x7f ? '\u2421' : String.fromCharCode(0x2400 + code);
}

/** The pictures themselves, as text made visible earlier (a quoted value) carries them. */
const PICTURES = /[\u2400-\u241f\u2421]/g;

function named(character: string): string {
  const code = character.charCodeAt(0);
  if (code === 0x7f || code === 0x2421) return '[DEL]';
  return `[${NAMES[code >= 0x2400 ? code - 0x2400 : code]}]`;
}

/**
 * Every control character as its picture, or with `names` as its name in brackets (a picture
 * already in the text too); `keepLayout` keeps line breaks and tabs as they are.
 */
export function visible(text: string, { keepLayout = false, names = false } = {}): string {
  const shown = text.replace(keepLayout ? CONTROL : CONTROL_AND_LAYOUT, names ? named : picture);
  return names ? shown.replace(PICTURES, named) : shown;
}
