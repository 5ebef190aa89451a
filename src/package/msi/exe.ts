// Which installer framework built a setup .exe, from the markers each leaves in its
// stub, manifest or version resource, and the silent switches it takes (WAPT's
// make-template does the same guess). Pure over the file's first bytes.
import { open } from 'node:fs/promises';
import { WaptError } from '../../errors.js';

export type ExeInstallerKind = 'inno' | 'nsis' | 'installshield' | 'unknown';

export interface ExeInstaller {
  kind: ExeInstallerKind;
  /** The marker that decided, for messages. */
  marker: string | null;
  /** Proposed silent install arguments, one argv element each. */
  silentArgs: string[];
}

/** Markers in ASCII and in UTF-16LE (version resources are UTF-16). */
const MARKERS: { kind: Exclude<ExeInstallerKind, 'unknown'>; texts: string[] }[] = [
  { kind: 'inno', texts: ['Inno Setup Setup Data', 'Inno Setup'] },
  { kind: 'nsis', texts: ['NullsoftInst', 'Nullsoft.NSIS', 'Nullsoft Install System'] },
  { kind: 'installshield', texts: ['InstallShield'] },
];

export const SILENT_ARGS: Record<ExeInstallerKind, string[]> = {
  inno: ['/VERYSILENT', '/SUPPRESSMSGBOXES', '/NORESTART', '/SP-'],
  nsis: ['/S'],
  // /s: silent setup.exe; /v passes what follows to msiexec (Basic MSI projects).
  installshield: ['/s', '/v/qn'],
  unknown: [],
};

/** How much of the file is scanned: markers sit in the stub, its resources and the start of the payload. */
export const EXE_SCAN_BYTES = 32 << 20;

export function detectExeInstaller(head: Uint8Array): ExeInstaller {
  const buf = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  for (const m of MARKERS) {
    for (const t of m.texts) {
      if (buf.includes(Buffer.from(t, 'latin1')) || buf.includes(Buffer.from(t, 'utf16le')))
        return { kind: m.kind, marker: t, silentArgs: SILENT_ARGS[m.kind] };
    }
  }
  return { kind: 'unknown', marker: null, silentArgs: [] };
}

/** Reads the head of `file`, checks it is a Windows executable (MZ), and detects the framework. */
export async function readExeInstaller(file: string): Promise<ExeInstaller> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(EXE_SCAN_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead < 2 || buf[0] !== 0x4d || buf[1] !== 0x5a) {
      throw new WaptError('USAGE', `${file} is not a Windows executable (no MZ header)`, { detail: { path: file } });
    }
    return detectExeInstaller(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}
