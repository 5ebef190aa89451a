// msiexec argument building and exit codes (WAPT setuphelpers install_msi_if_needed /
// uninstall_cmd). Pure: tested on Linux; index.ts runs the commands.

/** Success codes: 0 done; 3010 done, reboot required; 1641 done, the installer started a reboot. */
export const MSI_SUCCESS = [0, 3010, 1641] as const;
/** ERROR_UNKNOWN_PRODUCT: removing what is not installed is not a failure. */
export const MSI_UNKNOWN_PRODUCT = 1605;

const MSI_MESSAGES: Record<number, string> = {
  1602: 'the user cancelled the installation',
  1603: 'fatal error during installation (see the msiexec log)',
  1618: 'another installation is already in progress; try again when it has finished',
  1619: 'the installation package could not be opened (missing or not an MSI)',
  1620: 'the installation package is invalid',
  1625: 'the installation is forbidden by system policy',
  1633: 'this installation package is not supported on this processor type',
  1638: 'another version of this product is already installed',
};

/** What the reader of an msiexec exit code needs. */
export interface MsiOutcome {
  ok: boolean;
  rebootRequired: boolean;
  /** Set when !ok. */
  message?: string;
}

export function msiOutcome(code: number, opts: { removing?: boolean } = {}): MsiOutcome {
  if (code === 0) return { ok: true, rebootRequired: false };
  if (code === 3010 || code === 1641) return { ok: true, rebootRequired: true };
  if (opts.removing && code === MSI_UNKNOWN_PRODUCT) return { ok: true, rebootRequired: false };
  return { ok: false, rebootRequired: false, message: `msiexec exit code ${code}: ${MSI_MESSAGES[code] ?? 'see the msiexec log'}` };
}

const PRODUCT_CODE = /^\{[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}\}$/i;

export function isProductCode(s: string): boolean {
  return PRODUCT_CODE.test(s);
}

/** msiexec words, each one token of the command line; properties already `NAME="value"`. */
export function msiInstallArgs(file: string, log: string, properties: string[]): string[] {
  return ['/i', file, '/qn', '/norestart', '/L*v', log, ...properties];
}

export function msiRemoveArgs(productCode: string, log: string): string[] {
  if (!isProductCode(productCode)) throw new Error(`removeMsi: ${JSON.stringify(productCode)} is not a ProductCode ({XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX})`);
  return ['/x', productCode.toUpperCase(), '/qn', '/norestart', '/L*v', log];
}
