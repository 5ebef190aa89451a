// Changing one key of wapt-get.ini in place (generate-uuid, enable-check-certificate):
// every other line, comment and continuation is kept as written. Pure: text in, text out.
// Keys match case-insensitively and `key = value` and `key: value` are both read, as
// Python's configparser does; the key's continuation lines (indented) go with it.

const SECTION_RE = /^\s*\[([^\]]+)\]\s*$/;
const KEY_RE = /^([^\s=:;#][^=:]*?)\s*[=:]/;

/** Sets `key` in `[section]` to `value` (null removes it); the section is appended when absent. */
export function setIniValue(text: string, section: string, key: string, value: string | null): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
  const want = key.toLowerCase();
  let current: string | null = null;
  let sectionEnd = -1;
  let found = -1;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const s = SECTION_RE.exec(line);
    if (s) {
      current = s[1]!.trim();
      continue;
    }
    if (current !== section) continue;
    if (line.trim() !== '') sectionEnd = i;
    const k = KEY_RE.exec(line);
    if (k && !/^\s/.test(line) && k[1]!.trim().toLowerCase() === want && found < 0) found = i;
  }
  const entry = `${key} = ${value ?? ''}`;
  if (found >= 0) {
    // The key and its continuation lines (indented, non-empty) are replaced together.
    let end = found + 1;
    while (end < lines.length && /^\s+\S/.test(lines[end]!) && !SECTION_RE.test(lines[end]!)) end++;
    lines.splice(found, end - found, ...(value === null ? [] : [entry]));
  } else if (value !== null) {
    if (sectionEnd >= 0) lines.splice(sectionEnd + 1, 0, entry);
    else if (lines.some((l) => SECTION_RE.exec(l)?.[1]?.trim() === section)) {
      const at = lines.findIndex((l) => SECTION_RE.exec(l)?.[1]?.trim() === section);
      lines.splice(at + 1, 0, entry);
    } else lines.push(...(lines.length > 0 && lines[lines.length - 1]!.trim() !== '' ? [''] : []), `[${section}]`, entry);
  }
  return lines.join(eol) + eol;
}
