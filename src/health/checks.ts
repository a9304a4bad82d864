/**
 * `erp doctor`'s verdicts: pure functions from the gathered facts (src/health/facts.ts) and the
 * time to one finding per check, each OK, WARN or FAIL with a code and the data its words need
 * (src/report/doctor.ts words them, with the fix). FAIL is what needs action now: the database or
 * the API is down, a migration is missing, the disk is nearly full, no usable backup for a week.
 * WARN is what needs a look today.
 */
import type { BackupFact, DiskFact, HealthFacts, RunFact } from './facts.ts';

export type Level = 'ok' | 'warn' | 'fail';

export type Finding = { level: Level } & (
  | { check: 'database'; code: 'reachable'; sizeBytes: number }
  | { check: 'database'; code: 'unreachable'; error: string }
  | { check: 'migrations'; code: 'current' | 'pending' | 'altered' | 'newer'; names: string[] }
  | { check: 'postgrest'; code: 'ready'; url: string }
  | { check: 'postgrest'; code: 'not-ready'; url: string; status?: number; error?: string }
  | { check: 'postgrest'; code: 'not-configured' }
  | { check: 'backup'; code: 'none'; folders: string[] }
  | { check: 'backup'; code: 'recent' | 'old' | 'stale' | 'empty'; backup: BackupFact; ageHours: number }
  | { check: 'disk'; code: 'plenty' | 'low' | 'full'; disk: DiskFact }
  | { check: 'cutover' | 'reconcile'; code: 'none' }
  | { check: 'cutover' | 'reconcile'; code: 'finished' | 'unfinished' | 'stuck' | 'stale'; run: RunFact }
  | { check: 'memories'; code: 'swept' | 'waiting'; count: number; oldestExpiry?: Date }
);

/** A nightly backup plus a few hours of slack; beyond a week there is no recent restore point. */
export const BACKUP_WARN_HOURS = 26;
export const BACKUP_FAIL_HOURS = 7 * 24;
/** Free space, as a share of the disk, under which Postgres and the backups are at risk. */
const DISK_WARN_SHARE = 0.15;
const DISK_FAIL_SHARE = 0.05;
/** agent-sweep runs every 15 minutes: memories expired longer than this mean it is not running. */
export const SWEEP_GRACE_MINUTES = 60;
/** A cutover or reconcile still "running" after this long has died (the next run marks it abandoned). */
const RUN_STUCK_HOURS = 6;

const HOUR = 3_600_000;

/** Ended as the owner wants it: a committed cutover, a clean reconcile. */
const GOOD_OUTCOME = { cutover: ['committed'], reconcile: ['reconciled'] } as const;

function judgeRun(check: 'cutover' | 'reconcile', run: RunFact | undefined, now: Date): Finding {
  if (!run) return { check, level: 'ok', code: 'none' };
  if (run.outcome === 'running') {
    const stuck = now.getTime() - run.startedAt.getTime() > RUN_STUCK_HOURS * HOUR;
    return { check, level: stuck ? 'warn' : 'ok', code: stuck ? 'stuck' : 'unfinished', run };
  }
  const good = (GOOD_OUTCOME[check] as readonly string[]).includes(run.outcome);
  return { check, level: good ? 'ok' : 'warn', code: 'finished', run };
}

function judgeBackup(facts: HealthFacts['backups'], now: Date): Finding {
  const backup = facts.newest;
  if (!backup) return { check: 'backup', level: 'warn', code: 'none', folders: facts.folders };
  const ageHours = (now.getTime() - backup.modifiedAt.getTime()) / HOUR;
  if (backup.sizeBytes === 0) return { check: 'backup', level: 'fail', code: 'empty', backup, ageHours };
  if (ageHours > BACKUP_FAIL_HOURS)
    return { check: 'backup', level: 'fail', code: 'stale', backup, ageHours };
  if (ageHours > BACKUP_WARN_HOURS) return { check: 'backup', level: 'warn', code: 'old', backup, ageHours };
  return { check: 'backup', level: 'ok', code: 'recent', backup, ageHours };
}

function judgeDisk(disk: DiskFact): Finding {
  const share = disk.totalBytes ? disk.freeBytes / disk.totalBytes : 0;
  if (share < DISK_FAIL_SHARE) return { check: 'disk', level: 'fail', code: 'full', disk };
  if (share < DISK_WARN_SHARE) return { check: 'disk', level: 'warn', code: 'low', disk };
  return { check: 'disk', level: 'ok', code: 'plenty', disk };
}

/** One finding per check, in the order an operator reads them: database first. */
export function judgeHealth(facts: HealthFacts, now: Date): Finding[] {
  const findings: Finding[] = [];
  const { database } = facts;
  if (!database.reachable)
    findings.push({ check: 'database', level: 'fail', code: 'unreachable', error: database.error });
  else {
    findings.push({ check: 'database', level: 'ok', code: 'reachable', sizeBytes: database.sizeBytes });
    if (database.altered.length)
      findings.push({ check: 'migrations', level: 'fail', code: 'altered', names: database.altered });
    else if (database.pending.length)
      findings.push({ check: 'migrations', level: 'fail', code: 'pending', names: database.pending });
    else if (database.newer.length)
      findings.push({ check: 'migrations', level: 'warn', code: 'newer', names: database.newer });
    else findings.push({ check: 'migrations', level: 'ok', code: 'current', names: [] });
  }

  const { postgrest } = facts;
  if (!postgrest.configured) findings.push({ check: 'postgrest', level: 'warn', code: 'not-configured' });
  else if (postgrest.ready)
    findings.push({ check: 'postgrest', level: 'ok', code: 'ready', url: postgrest.url });
  else
    findings.push({
      check: 'postgrest',
      level: 'fail',
      code: 'not-ready',
      url: postgrest.url,
      status: postgrest.status,
      error: postgrest.error,
    });

  findings.push(judgeBackup(facts.backups, now));
  // Folders on the same disk are one disk: judged once.
  const disks = new Map(facts.disks.map((disk) => [disk.device, disk]));
  findings.push(...[...disks.values()].map(judgeDisk));

  if (database.reachable) {
    findings.push(judgeRun('cutover', database.lastCutover, now));
    const reconcile = judgeRun('reconcile', database.lastReconcile, now);
    const cutover = database.lastCutover;
    const behind =
      cutover?.outcome === 'committed' &&
      (!database.lastReconcile || database.lastReconcile.startedAt < cutover.startedAt);
    findings.push(behind ? { check: 'reconcile', level: 'warn', code: 'stale', run: cutover } : reconcile);
    const { count, oldestExpiry } = database.expiredMemories;
    const late =
      oldestExpiry !== undefined && now.getTime() - oldestExpiry.getTime() > SWEEP_GRACE_MINUTES * 60_000;
    findings.push({
      check: 'memories',
      level: late ? 'warn' : 'ok',
      code: late ? 'waiting' : 'swept',
      count,
      oldestExpiry,
    });
  }
  return findings;
}

/** 0 all OK, 1 something to look at (WARN), 2 something broken (FAIL). */
export function doctorExitCode(findings: Finding[]): 0 | 1 | 2 {
  if (findings.some(({ level }) => level === 'fail')) return 2;
  return findings.some(({ level }) => level === 'warn') ? 1 : 0;
}
