// Windows command lines, built and read without a shell. Node quotes each argument
// for CommandLineToArgvW; msiexec parses its own command line and wants PROPERTY="v a l"
// (quotes around the value only), so msiexec lines are built here and passed verbatim.

/** Quotes one argument by the MSVCRT/CommandLineToArgvW rules (backslashes before a quote doubled). */
export function quoteWindowsArg(arg: string): string {
  if (arg !== '' && !/[\s"]/.test(arg)) return arg;
  let out = '"';
  let slashes = 0;
  for (const ch of arg) {
    if (ch === '\\') {
      slashes++;
      continue;
    }
    if (ch === '"') out += '\\'.repeat(slashes * 2 + 1) + '"';
    else out += '\\'.repeat(slashes) + ch;
    slashes = 0;
  }
  return out + '\\'.repeat(slashes * 2) + '"';
}

/** One msiexec public property: NAME="value" with inner quotes doubled (msiexec's own rule). */
export function msiProperty(name: string, value: string): string {
  if (!/^[A-Z_][A-Z0-9_.]*$/.test(name)) throw new Error(`MSI property ${JSON.stringify(name)}: public properties are UPPERCASE letters, digits, _ and .`);
  if (/[\r\n\0]/.test(value)) throw new Error(`MSI property ${name}: the value may not contain a line break or NUL`);
  return `${name}="${value.replace(/"/g, '""')}"`;
}

/**
 * Splits a registered command line (UninstallString) into the program and the rest of
 * the line, kept verbatim: the rest is handed to the program exactly as registered.
 * `"C:\Program Files\App\unins000.exe" /SILENT` and `C:\App\uninst.exe /S` both work,
 * as does an unquoted path with spaces that ends in .exe.
 */
export function splitProgram(line: string): { program: string; rest: string } {
  const s = line.trim();
  if (s.startsWith('"')) {
    const end = s.indexOf('"', 1);
    if (end < 0) throw new Error(`unbalanced quote in command line ${JSON.stringify(line)}`);
    return { program: s.slice(1, end), rest: s.slice(end + 1).trim() };
  }
  const exe = /^(.+?\.exe)(?=\s|$)/i.exec(s);
  if (exe) return { program: exe[1]!, rest: s.slice(exe[1]!.length).trim() };
  const sp = s.search(/\s/);
  return sp < 0 ? { program: s, rest: '' } : { program: s.slice(0, sp), rest: s.slice(sp + 1).trim() };
}

const SYSTEM_TOOLS: Record<string, string> = {
  'msiexec.exe': 'System32\\msiexec.exe',
  'reg.exe': 'System32\\reg.exe',
  'sc.exe': 'System32\\sc.exe',
  taskkill: 'System32\\taskkill.exe',
  whoami: 'System32\\whoami.exe',
  net: 'System32\\net.exe',
  icacls: 'System32\\icacls.exe',
  'powershell.exe': 'System32\\WindowsPowerShell\\v1.0\\powershell.exe',
};

/**
 * The absolute path of a Windows system tool under %SystemRoot%: a hook or task running
 * as SYSTEM must not pick up a `reg.exe` planted in a user-writable PATH directory.
 * Unknown names are returned unchanged.
 */
export function systemTool(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const rel = SYSTEM_TOOLS[name];
  return rel ? `${(env.SystemRoot || env.windir || 'C:\\Windows').replace(/\\+$/, '')}\\${rel}` : name;
}
