// The conventional .wapt file name of a control (W-A3). Pure apart from MD5.
import { createHash } from 'node:crypto';
import { WaptError } from '../errors.js';
import { field, type ControlFields } from './control.js';

const FILENAME_SAFE_NAME = /^[A-Za-z0-9\-_~.]+$/;
// Characters WAPT deletes from the final name (sanitize_filename).
const DELETED_CHARS = /[@|():%/,\\[\]<>*?;`\n]/g;

/**
 * W-A3: `name_version[_arch][_maturity][_locale].wapt`, parts that are empty or
 * `all` left out (kept for `*-waptupgrade`, as WAPT does); host packages are
 * `<name>.wapt`; a name with other characters becomes the MD5 hex of its UTF-8 bytes.
 */
export function packageFilename(fields: ControlFields): string {
  const pkg = field(fields, 'package');
  if (pkg === '') throw new WaptError('CONTROL_INVALID', 'control field "package" is missing: cannot name the file', { detail: { field: 'package' } });
  const name = FILENAME_SAFE_NAME.test(pkg) ? pkg : createHash('md5').update(pkg, 'utf8').digest('hex');
  let parts: string[];
  if (field(fields, 'section') === 'host') {
    parts = [name];
  } else {
    const version = field(fields, 'version');
    if (version === '')
      throw new WaptError('CONTROL_INVALID', `control field "version" is missing: cannot name the file of ${pkg}`, { detail: { field: 'version' } });
    const locale = field(fields, 'locale')
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .join('-');
    const keepAll = name.toLowerCase().endsWith('-waptupgrade');
    const extra = [field(fields, 'architecture'), field(fields, 'maturity'), locale].filter((f) => f !== '' && (keepAll || f !== 'all'));
    parts = [name, version, ...extra];
  }
  return `${parts.join('_')}.wapt`.replace(/\.\./g, '_').replace(DELETED_CHARS, '').trim();
}
