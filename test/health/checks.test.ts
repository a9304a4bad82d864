/**
 * `erp doctor`'s verdicts from facts made up here (src/health/checks.ts), and the words and fix
 * each gets (src/report/doctor.ts): every check can say OK, and says WARN or FAIL when it should.
 */
import { describe, expect, it } from 'vitest';
import {
  BACKUP_FAIL_HOURS,
  BACKUP_WARN_HOURS,
  doctorExitCode,
  type Finding,
  judgeHealth,
  SWEEP_GRACE_MINUTES,
} from '../../src/health/checks.ts';
import type { HealthFacts } from '../../src/health/facts.ts';
import { renderDoctor } from '../../src/report/doctor.ts';

const NOW = new Date('2026-12-07T12:00:00Z');
const hoursAgo = (hours: number) => new Date(NOW.getTime() - hours * 3_600_000);
const GB = 1024 ** 3;

function healthy(): HealthFacts {
  return {
    database: {
      reachable: true,
      sizeBytes: 42 * 1024 * 1024,
      pending: [],
      altered: [],
      newer: [],
      lastCutover: { outcome: 'committed', startedAt: hoursAgo(30), finishedAt: hoursAgo(29) },
      lastReconcile: { outcome: 'reconciled', startedAt: hoursAgo(20), finishedAt: hoursAgo(20) },
      expiredMemories: { count: 0 },
    },
    postgrest: { configured: true, url: 'http://postgrest-erp:3001', ready: true, status: 200 },
    backups: {
      folders: ['runs', 'backups'],
      newest: {
        path: 'backups/portfolio-20261207T020000Z.dump',
        modifiedAt: hoursAgo(10),
        sizeBytes: 5_000_000,
      },
    },
    disks: [{ path: 'backups', device: 1, freeBytes: 40 * GB, totalBytes: 80 * GB }],
  };
}

const finding = (facts: HealthFacts, check: Finding['check']) =>
  judgeHealth(facts, NOW).filter((one) => one.check === check);
const levels = (facts: HealthFacts) =>
  Object.fromEntries(judgeHealth(facts, NOW).map((one) => [one.check, one.level]));

describe('a healthy stack', () => {
  it('is OK on every line, exit code 0, with what was found', () => {
    const findings = judgeHealth(healthy(), NOW);
    expect(findings.map(({ check }) => check)).toEqual([
      'database',
      'migrations',
      'postgrest',
      'backup',
      'disk',
      'cutover',
      'reconcile',
      'memories',
    ]);
    expect(findings.every(({ level }) => level === 'ok')).toBe(true);
    expect(doctorExitCode(findings)).toBe(0);
    const text = renderDoctor(findings);
    expect(text).toMatch(/^OK {4}Database: reachable, 42\.0 MB of data$/m);
    expect(text).toMatch(
      /^OK {4}Backup: newest is backups\/portfolio-20261207T020000Z\.dump, 10 hours old, 4\.8 MB$/m,
    );
    expect(text).toMatch(/^OK {4}Disk: 40\.0 GB free of 80\.0 GB \(50%\)/m);
    expect(text).not.toMatch(/fix:/);
  });
});

describe('each check', () => {
  it('fails an unreachable database, and skips what needs it', () => {
    const facts = healthy();
    facts.database = { reachable: false, error: 'connect ECONNREFUSED 10.0.0.2:5432' };
    const findings = judgeHealth(facts, NOW);
    expect(findings.map(({ check }) => check)).toEqual(['database', 'postgrest', 'backup', 'disk']);
    expect(doctorExitCode(findings)).toBe(2);
    expect(renderDoctor(findings)).toMatch(
      /^FAIL {2}Database: cannot be reached \(connect ECONNREFUSED 10\.0\.0\.2:5432\)\n {6}fix: docker compose ps postgres-erp/m,
    );
  });

  it('fails pending or altered migrations, and warns about a newer release', () => {
    const pending = healthy();
    if (pending.database.reachable) pending.database.pending = ['015_more.sql'];
    expect(levels(pending).migrations).toBe('fail');
    expect(renderDoctor(judgeHealth(pending, NOW))).toMatch(
      /015_more\.sql\n {6}fix: docker compose run --rm migrate/,
    );
    const newer = healthy();
    if (newer.database.reachable) newer.database.newer = ['015_more.sql'];
    expect(levels(newer).migrations).toBe('warn');
    const altered = healthy();
    if (altered.database.reachable) altered.database.altered = ['003_api_roles.sql'];
    expect(levels(altered).migrations).toBe('fail');
  });

  it('fails PostgREST not ready, and warns when it was not checked', () => {
    const down = healthy();
    down.postgrest = { configured: true, url: 'http://postgrest-erp:3001', ready: false, status: 503 };
    expect(levels(down).postgrest).toBe('fail');
    expect(renderDoctor(judgeHealth(down, NOW))).toMatch(
      /not ready at http:\/\/postgrest-erp:3001 \(HTTP 503\)/,
    );
    const unknown = healthy();
    unknown.postgrest = { configured: false };
    expect(levels(unknown).postgrest).toBe('warn');
    expect(renderDoctor(judgeHealth(unknown, NOW))).toMatch(/fix: pass --postgrest-url/);
  });

  it.each([
    [BACKUP_WARN_HOURS - 1, 'ok'],
    [BACKUP_WARN_HOURS + 1, 'warn'],
    [BACKUP_FAIL_HOURS + 1, 'fail'],
  ])('judges a backup %d hours old %s', (age, level) => {
    const facts = healthy();
    facts.backups.newest = { ...facts.backups.newest!, modifiedAt: hoursAgo(age) };
    expect(levels(facts).backup).toBe(level);
  });

  it('fails an empty backup and warns when there is none', () => {
    const empty = healthy();
    empty.backups.newest = { ...empty.backups.newest!, sizeBytes: 0 };
    expect(levels(empty).backup).toBe('fail');
    const none = healthy();
    none.backups.newest = undefined;
    expect(levels(none).backup).toBe('warn');
    expect(renderDoctor(judgeHealth(none, NOW))).toMatch(/no backup \(\*\.dump\) in runs, backups/);
  });

  it('warns below 15% free and fails below 5%, once per disk', () => {
    const low = healthy();
    low.disks = [
      { path: 'runs', device: 1, freeBytes: 8 * GB, totalBytes: 80 * GB },
      { path: 'backups', device: 1, freeBytes: 8 * GB, totalBytes: 80 * GB },
    ];
    expect(finding(low, 'disk')).toHaveLength(1);
    expect(levels(low).disk).toBe('warn');
    low.disks.push({ path: '/var/lib/docker', device: 2, freeBytes: 1 * GB, totalBytes: 80 * GB });
    expect(finding(low, 'disk').map(({ level }) => level)).toEqual(['warn', 'fail']);
    const full = healthy();
    full.disks = [{ path: 'backups', device: 1, freeBytes: 2 * GB, totalBytes: 80 * GB }];
    expect(levels(full).disk).toBe('fail');
    expect(doctorExitCode(judgeHealth(full, NOW))).toBe(2);
  });

  it('warns about a cutover that did not commit, and one still running for hours', () => {
    const failed = healthy();
    if (failed.database.reachable)
      failed.database.lastCutover = {
        outcome: 'rolled_back',
        startedAt: hoursAgo(2),
        finishedAt: hoursAgo(2),
      };
    expect(levels(failed).cutover).toBe('warn');
    expect(renderDoctor(judgeHealth(failed, NOW))).toMatch(/Cutover: last cutover \(.+\): rolled back/);
    const stuck = healthy();
    if (stuck.database.reachable)
      stuck.database.lastCutover = { outcome: 'running', startedAt: hoursAgo(9), finishedAt: null };
    expect(levels(stuck).cutover).toBe('warn');
    const running = healthy();
    if (running.database.reachable)
      running.database.lastCutover = { outcome: 'running', startedAt: hoursAgo(0.5), finishedAt: null };
    expect(levels(running).cutover).toBe('ok');
  });

  it('warns about differences, and about a committed cutover not reconciled since', () => {
    const differences = healthy();
    if (differences.database.reachable)
      differences.database.lastReconcile = {
        outcome: 'differences',
        startedAt: hoursAgo(1),
        finishedAt: hoursAgo(1),
      };
    expect(levels(differences).reconcile).toBe('warn');
    const behind = healthy();
    if (behind.database.reachable) behind.database.lastReconcile = undefined;
    expect(levels(behind).reconcile).toBe('warn');
    expect(renderDoctor(judgeHealth(behind, NOW))).toMatch(
      /has not been reconciled\n {6}fix: docker compose --profile coda run --rm coda-migration reconcile/,
    );
    const fresh = healthy();
    if (fresh.database.reachable) {
      fresh.database.lastCutover = undefined;
      fresh.database.lastReconcile = undefined;
    }
    expect(levels(fresh)).toMatchObject({ cutover: 'ok', reconcile: 'ok' });
  });

  it('warns when expired memories wait longer than the sweep takes', () => {
    const waiting = healthy();
    if (waiting.database.reachable)
      waiting.database.expiredMemories = { count: 3, oldestExpiry: hoursAgo(SWEEP_GRACE_MINUTES / 60 + 1) };
    expect(levels(waiting).memories).toBe('warn');
    expect(renderDoctor(judgeHealth(waiting, NOW))).toMatch(/3 expired agent memories waiting/);
    const justNow = healthy();
    if (justNow.database.reachable)
      justNow.database.expiredMemories = { count: 2, oldestExpiry: hoursAgo(0.1) };
    expect(levels(justNow).memories).toBe('ok');
  });

  it('exits 1 on warnings only', () => {
    const facts = healthy();
    facts.postgrest = { configured: false };
    expect(doctorExitCode(judgeHealth(facts, NOW))).toBe(1);
  });
});
