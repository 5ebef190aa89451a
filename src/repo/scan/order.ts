// Stable index order: by package name, then version (W-B4), then signature date
// (W-B4b: a re-signed build sorts after), then file name. WAPT writes directory
// order; a stable order makes two scans of the same files give the same bytes.
import { compareVersions } from '../../package/index.js';

export interface Orderable {
  filename: string;
  package: string;
  version: string;
  signatureDate: string;
}

function cmpText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpVersion(a: string, b: string): number {
  try {
    return compareVersions(a, b);
  } catch {
    // An unparseable version still gets a place: text order, after nothing in particular.
    return cmpText(a, b);
  }
}

export function compareIndexEntries(a: Orderable, b: Orderable): number {
  return (
    cmpText(a.package, b.package) ||
    (a.version === b.version ? 0 : cmpVersion(a.version, b.version)) ||
    cmpText(a.signatureDate, b.signatureDate) ||
    cmpText(a.filename, b.filename)
  );
}
