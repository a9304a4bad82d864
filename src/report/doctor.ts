/**
 * `erp doctor` in words: one line per finding, OK / WARN / FAIL, what was found, and for anything
 * not OK the fix, as the operator runs it on the droplet (docs/RUNBOOK.md, "Monitoring").
 */
import type { Finding, Level } from '../health/checks.ts';

const LABEL: Record<Level, string> = { ok: 'OK  ', warn: 'WARN', fail: 'FAIL' };

const RUN_OUTCOME: Record<string, string> = {
  committed: 'committed',
  committed_report_failed: 'committed, but its reports could not be written',
  rolled_back: 'rolled back (nothing was changed)',
  failed: 'failed (nothing was changed)',
  interrupted: 'interrupted (nothing was changed)',
  abandoned: 'abandoned: its process died (nothing was changed)',
  undone: 'undone',
  reconciled: 'Postgres matches Coda',
  differences: 'found differences between Postgres and Coda',
  running: 'still running',
};

function formatBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatAge(hours: number): string {
  if (hours < 1) return `${Math.max(0, Math.round(hours * 60))} minutes`;
  if (hours < 48) return `${Math.round(hours)} hours`;
  return `${Math.round(hours / 24)} days`;
}

const when = (at: Date) => at.toISOString().replace(/\.\d+Z$/, 'Z');
const runsFix = 'its report is in coda/runs/ on the droplet (summary.txt), with what to do next';

/** What was found, and the fix when there is one to make. */
function describe(finding: Finding): { found: string; fix?: string } {
  switch (finding.check) {
    case 'database':
      return finding.code === 'reachable'
        ? { found: `reachable, ${formatBytes(finding.sizeBytes)} of data` }
        : {
            found: `cannot be reached (${finding.error})`,
            fix: 'docker compose ps postgres-erp (is it running and healthy?); docker compose logs postgres-erp; check DATABASE_URL and the password in .env',
          };
    case 'migrations':
      if (finding.code === 'current') return { found: 'every migration of this version is applied' };
      if (finding.code === 'pending')
        return {
          found: `${finding.names.length} migration(s) of this version not applied: ${finding.names.join(', ')}`,
          fix: 'docker compose run --rm migrate (a deploy runs it: docker compose up -d)',
        };
      if (finding.code === 'altered')
        return {
          found: `applied migration file(s) changed or missing since: ${finding.names.join(', ')}`,
          fix: 'check out the release that applied them (docs/RUNBOOK.md, "Rolling back"); never edit an applied migration',
        };
      return {
        found: `the database has migration(s) of a newer release: ${finding.names.join(', ')} (normal after an application rollback)`,
        fix: 'deploy that newer release again when it is fixed (docs/RUNBOOK.md, "Deploying a release")',
      };
    case 'postgrest':
      if (finding.code === 'ready') return { found: `ready (${finding.url})` };
      if (finding.code === 'not-configured')
        return {
          found: 'not checked: no PostgREST admin address given',
          fix: 'pass --postgrest-url http://postgrest-erp:3001 or set POSTGREST_ADMIN_URL',
        };
      return {
        found: `not ready at ${finding.url} (${finding.status ? `HTTP ${finding.status}` : finding.error})`,
        fix: 'docker compose ps postgrest-erp; docker compose logs postgrest-erp; docker compose up -d',
      };
    case 'backup':
      if (finding.code === 'none')
        return {
          found: `no backup (*.dump) in ${finding.folders.join(', ')}`,
          fix: 'take one now (docker compose run --rm backup backup) and check that the backup service runs (docs/RUNBOOK.md, "Backups off the droplet")',
        };
      {
        const { backup, ageHours } = finding;
        const found = `newest is ${backup.path}, ${formatAge(ageHours)} old, ${formatBytes(backup.sizeBytes)}`;
        if (finding.code === 'recent') return { found };
        if (finding.code === 'empty')
          return {
            found: `${found}: empty`,
            fix: 'take a new backup and check that pg_dump reports no error',
          };
        return {
          found,
          fix: 'take one now (docker compose run --rm backup backup); docker compose logs backup says why the nightly one is missing or FAILED (docs/RUNBOOK.md, "Backups off the droplet")',
        };
      }
    case 'disk': {
      const { disk } = finding;
      const found = `${formatBytes(disk.freeBytes)} free of ${formatBytes(disk.totalBytes)} (${Math.round((100 * disk.freeBytes) / (disk.totalBytes || 1))}%) where ${disk.path} is`;
      return finding.code === 'plenty'
        ? { found }
        : {
            found,
            fix: 'copy old backups off the droplet and delete them, docker system prune for unused images (keep the previous release), or grow the disk',
          };
    }
    case 'cutover':
    case 'reconcile': {
      const name = finding.check === 'cutover' ? 'last cutover' : 'last reconcile';
      if (finding.code === 'none') return { found: `no ${finding.check} yet` };
      const { run } = finding;
      if (finding.code === 'stale')
        return {
          found: `the cutover of ${when(run.startedAt)} has not been reconciled`,
          fix: 'docker compose --profile coda run --rm coda-migration reconcile',
        };
      const found = `${name} (${when(run.startedAt)}): ${RUN_OUTCOME[run.outcome] ?? run.outcome}`;
      if (finding.code === 'stuck')
        return {
          found: `${found} since more than a few hours`,
          fix: `the next run marks it abandoned; ${runsFix}`,
        };
      return finding.level === 'ok' ? { found } : { found, fix: runsFix };
    }
    case 'memories':
      return finding.code === 'swept'
        ? {
            found: `no expired agent memories waiting${finding.count ? ` (${finding.count} just expired)` : ''}`,
          }
        : {
            found: `${finding.count} expired agent memories waiting, the oldest since ${when(finding.oldestExpiry!)}`,
            fix: 'docker compose ps agent-sweep (it sweeps every 15 minutes); docker compose logs agent-sweep',
          };
  }
}

const CHECK_NAMES: Record<Finding['check'], string> = {
  database: 'Database',
  migrations: 'Migrations',
  postgrest: 'PostgREST',
  backup: 'Backup',
  disk: 'Disk',
  cutover: 'Cutover',
  reconcile: 'Reconcile',
  memories: 'Agent memory',
};

/** The doctor's lines, as the terminal and a cron mail show them. */
export function renderDoctor(findings: Finding[]): string {
  return findings
    .map((finding) => {
      const { found, fix } = describe(finding);
      const line = `${LABEL[finding.level]}  ${CHECK_NAMES[finding.check]}: ${found}`;
      return fix && finding.level !== 'ok' ? `${line}\n      fix: ${fix}` : line;
    })
    .join('\n');
}
