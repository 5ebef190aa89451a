// Which ini keys exist, and a "did you mean" for those that do not: a mistyped key
// (`repo_ur`, `verfy_cert`) is otherwise silently ignored. Keys the loader reads are
// learnt as it reads them (TrackedSection), so a key added to config.ts needs no list
// here; WAPT_KEYS are WAPT's own keys that wapt-get accepts and ignores.
import { didYouMean } from '../did-you-mean.js';

/** WAPT 1.8/2.x agent keys we do not use: present in real wapt-get.ini files, never a typo. */
const WAPT_KEYS = `
  dnsdomain waptupdate_task_period waptupgrade_task_period waptaudit_task_period waptservice_port
  waptservice_sslport waptservice_user waptservice_password waptservice_admin_filter
  max_gpo_script_wait pre_shutdown_timeout hiberboot_enabled notify_user use_kerberos
  check_certificates_validity language send_usage_report wapt_server_timeout waptwua_enabled
  use_fqdn_as_uuid templates_repo_url default_maturity personal_certificate_password sign_digests
  upload_cmd after_upload allow_user_service_restart host_certificate host_key
  host_organizational_unit_dn log_to_windows_events websockets_verify_cert ldap_auth_server
  ldap_auth_base_dn ldap_auth_ssl_enabled editor_for_packages wapt_temp_dir public_certs_dir uuid
  dbpath repositories wapt_server host_profiles default_sources_root default_package_prefix
`
  .trim()
  .split(/\s+/);

/** Keys read only on some paths (a host repository, a per-repository override). */
const CONDITIONAL_KEYS = ['priority', 'client_certificate', 'client_private_key', 'allow_insecure_http', 'allow_unsigned_index', 'timeout'];

/** A section map that records every key asked of it: what was asked is, by definition, known. */
export class TrackedSection<V> extends Map<string, V> {
  constructor(
    private readonly asked: Set<string>,
    entries?: Iterable<readonly [string, V]>,
  ) {
    super(entries ?? []);
  }
  override get(key: string): V | undefined {
    this.asked?.add(key);
    return super.get(key);
  }
}

export interface UnknownKey {
  section: string;
  key: string;
  origin: string;
  suggestion: string | undefined;
}

/** Keys of the file that nothing asked for, with the nearest known key. */
export function unknownKeys(sections: Map<string, Map<string, { origin: string }>>, asked: Set<string>): UnknownKey[] {
  const known = new Set([...asked, ...WAPT_KEYS, ...CONDITIONAL_KEYS]);
  const out: UnknownKey[] = [];
  for (const [section, values] of sections) {
    for (const [key, raw] of values) {
      if (known.has(key)) continue;
      out.push({ section, key, origin: raw.origin, suggestion: didYouMean(key, [...asked, ...CONDITIONAL_KEYS]) });
    }
  }
  return out;
}

export function unknownKeyWarning(u: UnknownKey): string {
  return `unknown key '${u.key}' in [${u.section}] (${u.origin}) is ignored${u.suggestion ? ` (did you mean ${u.suggestion}?)` : ''}`;
}
