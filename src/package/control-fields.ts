// The attribute lists of WAPT/control (W-C2, W-C3, W-E3). Data only.

/** W-C2: validated on build; always written first, in this order. */
export const REQUIRED_FIELDS = ['package', 'version', 'architecture', 'section', 'priority'] as const;

/** W-C2: written after the required ones, in this order. */
export const OPTIONAL_FIELDS = [
  'name',
  'categories',
  'maintainer',
  'description',
  'depends',
  'conflicts',
  'maturity',
  'locale',
  'target_os',
  'min_os_version',
  'max_os_version',
  'min_wapt_version',
  'sources',
  'installed_size',
  'impacted_process',
  'description_fr',
  'description_pl',
  'description_de',
  'description_es',
  'description_pt',
  'description_it',
  'description_nl',
  'description_ru',
  'audit_schedule',
  'editor',
  'keywords',
  'licence',
  'homepage',
  'package_uuid',
  'valid_from',
  'valid_until',
  'forced_install_on',
  'changelog',
] as const;

/** W-C2/W-E1: set by signing. */
export const SIGNATURE_FIELDS = ['signer', 'signer_fingerprint', 'signature', 'signature_date', 'signed_attributes'] as const;

/**
 * W-C2/W-F1: written only in a `Packages` index entry, after everything else.
 * `sha256` (hex SHA-256 of the .wapt file) is ours; WAPT readers ignore it.
 */
export const INDEX_ONLY_FIELDS = ['filename', 'size', 'md5sum', 'sha256'] as const;

/** W-C2: the 43 attributes WAPT serialises, in order (index-only ones excluded). */
export const CANONICAL_ORDER: readonly string[] = [...REQUIRED_FIELDS, ...OPTIONAL_FIELDS, ...SIGNATURE_FIELDS];

/**
 * The attributes WAPT writes even when empty: its default signed list, i.e. every
 * canonical attribute except `signature` (WAPT's `ascontrol` + `get_default_signed_attributes`).
 */
export const ALWAYS_WRITTEN_FIELDS: readonly string[] = CANONICAL_ORDER.filter((k) => k !== 'signature');

/** W-E3: signed set of a legacy control (no signed_attributes, signature_date < "20170609"). */
export const LEGACY_SIGNED_ATTRIBUTES = ['package', 'version', 'architecture', 'section', 'priority', 'depends', 'conflicts', 'maturity'] as const;

/** W-C3: the sections a control may declare. */
export const SECTIONS = ['base', 'restricted', 'group', 'host', 'unit', 'profile', 'wsus', 'selfservice'] as const;
export type Section = (typeof SECTIONS)[number];

/**
 * W-C3: value of an absent attribute (WAPT's PackageEntry defaults). Attributes not
 * listed default to '' when canonical, and are absent (JSON null) otherwise.
 */
export const FIELD_DEFAULTS: Readonly<Record<string, string>> = {
  architecture: 'all',
  section: 'base',
  priority: 'optional',
};

/** W-C5: attributes read as integers when their text is an integer. */
export const INTEGER_FIELDS: readonly string[] = ['installed_size', 'size'];
