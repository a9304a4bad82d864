/**
 * Where backups are copied off the machine: a directory (a mounted disk, `--to /mnt/offsite` or
 * `dir:/mnt/offsite`) or an S3-compatible bucket (`s3://bucket/prefix`). Only files named like a
 * backup (BACKUP_NAME) are listed and pruned there: anything else the operator keeps beside them
 * is never touched. A copy appears under its name only once complete.
 *
 * The bucket's endpoint is BACKUP_S3_ENDPOINT (any S3-compatible service; unset: AWS itself), its
 * region AWS_REGION (default us-east-1), its keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, each
 * also from a file (AWS_SECRET_ACCESS_KEY_FILE, src/db/secrets.ts). Keys are never printed.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { makePrivateDir } from '../shared/private-files.ts';

/** portfolio-20250102T030405Z.dump, or with what took it: portfolio-20250102T030405Z-cutover.dump */
const BACKUP_NAME = /^portfolio-\d{8}T\d{6}Z(?:-[a-z0-9-]+)?\.dump$/;

export interface StoredBackup {
  name: string;
  sizeBytes: number;
}

export interface BackupTarget {
  /** As the operator named it, for messages (no secret is ever part of it). */
  label: string;
  /** Every backup there, newest first (the names sort by their time). */
  list(): Promise<StoredBackup[]>;
  upload(file: string, name: string): Promise<void>;
  download(name: string, file: string): Promise<void>;
  remove(name: string): Promise<void>;
}

export function newestFirst(names: StoredBackup[]): StoredBackup[] {
  return names.filter(({ name }) => BACKUP_NAME.test(name)).sort((a, b) => (a.name < b.name ? 1 : -1));
}

export function directoryTarget(dir: string, label = dir): BackupTarget {
  return {
    label,
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const found = await Promise.all(
        names
          .filter((name) => BACKUP_NAME.test(name))
          .map(async (name) => ({ name, sizeBytes: (await stat(path.join(dir, name))).size })),
      );
      return newestFirst(found);
    },
    async upload(file, name) {
      await makePrivateDir(dir);
      const partial = path.join(dir, `.${name}.partial`);
      await copyFile(file, partial);
      await rename(partial, path.join(dir, name));
    },
    async download(name, file) {
      await copyFile(path.join(dir, name), file);
    },
    async remove(name) {
      await rm(path.join(dir, name), { force: true });
    },
  };
}

/**
 * The SDK warns on stderr that it will drop Node 20 (the image runs Node 22); the warning says
 * nothing to an operator, so it is kept out of the command's output while the client is made.
 */
function quietS3Client(config: S3ClientConfig): S3Client {
  const emitWarning = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: never[]) => {
    if (String(warning).includes('AWS SDK for JavaScript')) return;
    emitWarning.call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return new S3Client(config);
  } finally {
    process.emitWarning = emitWarning;
  }
}

function s3Target(bucket: string, prefix: string, env: NodeJS.ProcessEnv = process.env): BackupTarget {
  const endpoint = env.BACKUP_S3_ENDPOINT || undefined;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey } = env;
  const client = quietS3Client({
    region: env.AWS_REGION || 'us-east-1',
    endpoint,
    // S3-compatible services (MinIO, Spaces, B2, R2 ...) answer on their endpoint by path.
    forcePathStyle: endpoint !== undefined,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    // The SDK's default checksums send the body aws-chunked, which several S3-compatible services
    // store as it came, framing and all: checksums only where the API requires them.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const keyPrefix = prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix;
  const key = (name: string) => `${keyPrefix}${name}`;
  return {
    label: `s3://${bucket}/${keyPrefix}`,
    async list() {
      const found: StoredBackup[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: keyPrefix, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          const name = object.Key?.slice(keyPrefix.length) ?? '';
          if (!name.includes('/')) found.push({ name, sizeBytes: object.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return newestFirst(found);
    },
    async upload(file, name) {
      // One PUT: S3 stores it whole or not at all (up to 5 GB, far above this database).
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key(name),
          Body: createReadStream(file),
          ContentLength: (await stat(file)).size,
        }),
      );
    },
    async download(name, file) {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key(name) }));
      await pipeline(object.Body as Readable, createWriteStream(file, { mode: 0o600, flags: 'wx' }));
    },
    async remove(name) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(name) }));
    },
  };
}

/** `s3://bucket/prefix`, `dir:/path` or a plain path. */
export function parseTarget(spec: string, env: NodeJS.ProcessEnv = process.env): BackupTarget {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(spec);
  if (s3) return s3Target(s3[1]!, s3[2]!, env);
  if (/^[a-z0-9]+:\/\//i.test(spec))
    throw new Error(`${spec}: a backup target is s3://bucket/prefix, dir:/path or a folder's path`);
  const dir = spec.startsWith('dir:') ? spec.slice(4) : spec;
  if (!dir) throw new Error('the backup target dir: names no folder');
  return directoryTarget(path.resolve(dir), spec);
}
