/**
 * What `erp backup`, `erp backup restore` and a cutover's copy off the machine say. A backup is
 * named by its file (the name carries its time); the target as the operator wrote it, never with
 * a key.
 */
import type { BackupOutcome } from '../backup/backup.ts';
import type { RestoreOutcome } from '../backup/restore.ts';

const list = (names: string[]) => names.join(', ');

/** Lines for one backup; `failed` when it was not verified or not copied where asked. */
export function renderBackup(outcome: BackupOutcome, keep: number): { text: string; failed: boolean } {
  const { verification, name } = outcome;
  if (!verification.ok)
    return {
      failed: true,
      text: [
        `BACKUP FAILED VERIFICATION: ${name} could not be restored into a scratch database, so it is no backup.`,
        `  ${verification.error}`,
        `  Kept for inspection as ${outcome.file}; nothing was copied and no older backup was removed.`,
        '  Check the database and the disk (erp doctor), then take a new backup (docs/RUNBOOK.md, "Backup and restore").',
      ].join('\n'),
    };
  const lines = [
    `Backup ${name}: verified, it restores whole into a scratch database (${verification.tables} tables, ${verification.migrations} migrations applied).`,
  ];
  if (outcome.localPruned.length)
    lines.push(`Kept the newest ${keep} here; removed ${list(outcome.localPruned)}.`);
  const { copy } = outcome;
  if (copy?.ok) {
    lines.push(`Copied to ${copy.target}.`);
    if (copy.pruned.length) lines.push(`Kept the newest ${keep} there; removed ${list(copy.pruned)}.`);
  } else if (copy)
    lines.push(
      `COPY FAILED: ${name} is on this machine only; copying it to ${copy.target} failed: ${copy.error}`,
      '  Check the target and its credentials (docs/RUNBOOK.md, "Backups off the droplet"), then run erp backup again.',
    );
  else lines.push('Not copied off this machine: no target named (--to or BACKUP_TARGET).');
  return { text: lines.join('\n'), failed: copy?.ok === false };
}

export function renderRestore(outcome: RestoreOutcome): string {
  if (outcome.ok)
    return [
      `Restored ${outcome.name} from ${outcome.target} into the new database ${outcome.database} (${outcome.contents.tables} tables, ${outcome.contents.migrations} migrations applied).`,
      'The live database is untouched. To switch to the restored one, follow docs/RUNBOOK.md, "Restore from the off-site copy".',
    ].join('\n');
  switch (outcome.problem) {
    case 'no-backup':
      return outcome.name
        ? `There is no backup named ${outcome.name} at ${outcome.target}; erp backup list --from ${outcome.target} shows those there. Nothing was changed.`
        : `There is no backup at ${outcome.target}. Nothing was changed.`;
    case 'database-exists':
      return `The database ${outcome.database} already exists: restore into a fresh one (--into <another name>), or drop it first. Nothing was changed.`;
    case 'restore-failed':
      return `Restoring ${outcome.name} into ${outcome.database} failed, and the new database was removed; the live database is untouched.\n  ${outcome.error}`;
  }
}
