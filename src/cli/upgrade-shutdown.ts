// The unit add-upgrade-shutdown writes: a oneshot service that is "started" at boot and
// whose ExecStop runs `wapt-get upgrade` when the machine shuts down, before the network
// goes (After=network-online.target stops it first), within a time budget — WAPT's waptexit.
export const SHUTDOWN_UNIT = 'wapt-get-upgrade-shutdown.service';

export function shutdownUnit(command: string, budgetSeconds: number): string {
  return [
    '[Unit]',
    'Description=wapt-get: upgrade packages before shutdown',
    'Documentation=man:wapt-get(1)',
    'DefaultDependencies=no',
    'After=network-online.target local-fs.target',
    'Wants=network-online.target',
    'Before=shutdown.target',
    'Conflicts=shutdown.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    'ExecStart=/bin/true',
    // --lock-timeout: a cron upgrade still running gets a short wait, never the whole budget.
    `ExecStop=${command} upgrade --quiet --lock-timeout 60`,
    `TimeoutStopSec=${budgetSeconds}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** "30m", "900", "1h" → seconds (at least 60: an upgrade needs time to do anything). */
export function parseBudget(text: string): number | null {
  const m = /^(\d+)\s*(s|m|h)?$/i.exec(text.trim());
  if (!m) return null;
  const s = Number(m[1]) * { s: 1, m: 60, h: 3600 }[(m[2] ?? 's').toLowerCase() as 's'];
  return s >= 60 ? s : null;
}
