// wapt-get.ini is WAPT's file, and WAPT reads it with Python's configparser
// (RawConfigParser: no interpolation). This reads the same syntax, so a WAPT-made ini
// keeps every setting:
// - `key = value` and `key: value` (the first `=` or `:` splits; spaces around it go);
// - keys are case-insensitive (lower-cased), section names keep their case;
// - a line indented deeper than its key continues the value (joined with "\n");
// - whole-line comments start with `;` or `#` (also indented); no inline comments;
// - [DEFAULT] gives every other section its values unless that section sets them;
// - like configparser's strict mode: a duplicate section or key, a key outside any
//   section or a line without `=`/`:` is an error naming the file and line.
import { WaptError } from '../errors.js';

export interface IniValue {
  value: string;
  /** 1-based line of the key. */
  line: number;
}

export interface IniFile {
  /** Every section but DEFAULT, in file order, each already merged over DEFAULT. */
  sections: Map<string, Map<string, IniValue>>;
  defaults: Map<string, IniValue>;
}

const DEFAULT_SECTION = 'DEFAULT';

function syntaxError(file: string, line: number, what: string): WaptError {
  return new WaptError('CONFIG_INVALID', `${file}:${line}: ${what}`, { detail: { file, line } });
}

function indentOf(line: string): number {
  return line.length - line.trimStart().length;
}

export function parseIni(text: string, file: string): IniFile {
  const own = new Map<string, Map<string, IniValue>>();
  let section: Map<string, IniValue> | null = null;
  let sectionName = '';
  // the key a continuation line would extend, with its indent and the lines so far
  let open: { key: string; indent: number; lines: string[]; at: IniValue } | null = null;
  const close = () => {
    if (!open) return;
    while (open.lines.length > 1 && open.lines[open.lines.length - 1] === '') open.lines.pop();
    open.at.value = open.lines.join('\n');
    open = null;
  };

  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const stripped = raw.trim();
    if (stripped.startsWith('#') || stripped.startsWith(';')) return;
    if (stripped === '') {
      if (open) open.lines.push('');
      return;
    }
    const indent = indentOf(raw);
    if (open && indent > open.indent) {
      open.lines.push(stripped);
      return;
    }
    close();
    const header = /^\[(.+)\]/.exec(stripped);
    if (header && indent === 0) {
      sectionName = header[1]!;
      if (own.has(sectionName)) throw syntaxError(file, lineNo, `section [${sectionName}] appears twice`);
      section = new Map();
      own.set(sectionName, section);
      return;
    }
    const m = /^(.*?)\s*[=:]\s*(.*)$/.exec(stripped);
    if (!m || m[1] === '') throw syntaxError(file, lineNo, `cannot read ${JSON.stringify(stripped)}: expected key = value or key: value`);
    if (!section) throw syntaxError(file, lineNo, `key '${m[1]}' is outside any [section]`);
    const key = m[1]!.toLowerCase();
    if (section.has(key)) throw syntaxError(file, lineNo, `key '${key}' appears twice in [${sectionName}]`);
    const at: IniValue = { value: m[2]!, line: lineNo };
    section.set(key, at);
    open = { key, indent, lines: [m[2]!], at };
  });
  close();

  const defaults = own.get(DEFAULT_SECTION) ?? new Map<string, IniValue>();
  const sections = new Map<string, Map<string, IniValue>>();
  for (const [name, values] of own) {
    if (name === DEFAULT_SECTION) continue;
    sections.set(name, new Map([...defaults, ...values]));
  }
  return { sections, defaults };
}
